"""A user who saves MNIST test digits as PNG files and predicts them gets `evaluate`'s answers:
the same pixels reach the same model, and the "not a digit" check does not refuse real MNIST
digits (skipped unless MNIST_TUI_DATA points at the real MNIST)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_tui.engine.data import load_dataset

pytestmark = pytest.mark.realdata

COUNT = 400


def test_mnist_test_pngs_answer_what_evaluate_answers(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mnist_tui.engine.predict import read_number_path, uncalibrated_probabilities_batch
    from mnist_tui.engine.store import ModelStore

    monkeypatch.delenv("MNIST_TUI_DETECTOR", raising=False)  # the shipped check, as users get it
    loaded = ModelStore(tmp_path / "store").load("default")
    test = load_dataset("mnist", real_data_dir, val_size=0, download=False).test
    images, labels = test.images[:COUNT], test.labels[:COUNT]
    evaluate_says = uncalibrated_probabilities_batch(loaded, images / np.float32(255)).argmax(1)

    answers, refused = [], 0
    for i, pixels in enumerate(images):
        path = tmp_path / f"{i}.png"
        Image.fromarray(pixels).save(path)
        reading = read_number_path(loaded, path)
        assert not reading.is_number, f"test digit {i} read as the number {reading.number}"
        digit = reading.digits[0].digit
        refused += digit is None
        answers.append(-1 if digit is None else digit)

    answers_arr = np.asarray(answers)
    # Pictures already in MNIST's format are judged by the detector's own threshold for them
    # (above every validation digit), so none of these is refused: predict scores evaluate.
    assert refused == 0, f"{refused} of {COUNT} MNIST test digits refused as not digits"
    assert (answers_arr == evaluate_says).all()
    assert (answers_arr == labels).sum() == (evaluate_says == labels).sum()


def test_mnist_digits_the_general_check_doubts_are_answered_with_a_caution(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test digits that the threshold for preprocessed pictures would refuse (8 of 10,000)
    are answered as `evaluate` answers them, with the caution that they look unusual."""
    from mnist_tui.engine.predict import read_number_path, uncalibrated_probabilities_batch
    from mnist_tui.engine.reject import CAUTION, shipped_detector
    from mnist_tui.engine.store import ModelStore

    monkeypatch.delenv("MNIST_TUI_DETECTOR", raising=False)
    detector = shipped_detector()
    assert detector is not None and detector.mnist_threshold is not None
    loaded = ModelStore(tmp_path / "store").load("default")
    test = load_dataset("mnist", real_data_dir, val_size=0, download=False).test
    pixels = test.images.astype(np.float32) / 255
    doubted = np.nonzero(detector.scores(pixels) > detector.threshold)[0]
    assert 1 <= len(doubted) <= 20
    evaluate_says = uncalibrated_probabilities_batch(loaded, pixels[doubted]).argmax(1)
    for index, expected in zip(doubted, evaluate_says, strict=True):
        path = tmp_path / f"test-{index}.png"
        Image.fromarray(test.images[index]).save(path)
        answer = read_number_path(loaded, path).digits[0]
        assert answer.digit == expected, f"test digit {index}"
        assert answer.message == CAUTION
