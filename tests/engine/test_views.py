"""Models that learned with random flips answer from a picture and its mirror image."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_tui.cli import main
from mnist_tui.engine.networks import build_model
from mnist_tui.engine.store import META_KEY, ModelStore, read_header, rewrite_metadata
from mnist_tui.engine.views import Mirrored


def _picture() -> np.ndarray:
    """A lopsided picture: a bar on the left and a blob at the top right."""
    img = np.zeros((28, 28), np.float32)
    img[4:24, 6:9] = 1.0
    img[5:12, 15:22] = 0.8
    return img


def test_the_mirrored_answer_is_the_mean_of_both_views_and_the_same_for_either() -> None:
    torch.manual_seed(0)
    net = build_model("fast").eval()
    x = torch.from_numpy(_picture())[None, None]
    out = Mirrored(net)(x)
    with torch.no_grad():
        expected = (net(x).softmax(1) + net(x.flip(-1)).softmax(1)) / 2
    assert torch.allclose(out.exp(), expected, atol=1e-6)
    assert torch.allclose(out.exp().sum(1), torch.ones(1), atol=1e-6)
    assert torch.allclose(Mirrored(net)(x.flip(-1)), out, atol=1e-6)
    assert not torch.allclose(net(x).softmax(1), expected, atol=1e-4)  # the mirror counts


def test_a_model_that_learned_flips_gives_a_picture_and_its_mirror_one_answer(
    store: ModelStore,
) -> None:
    """A shoe pointing left is a shoe pointing right to a model trained with flips; a digit
    model (never flipped: a mirrored 2 is no 2) is asked about the picture alone."""
    from mnist_tui.engine.predict import probabilities

    img = _picture()
    digits = store.load("tiny")
    assert not digits.info.mirrored and digits.classifier is digits.model
    assert not np.allclose(probabilities(digits, img), probabilities(digits, img[:, ::-1]))

    path = store.path_for("tiny")
    tensors_before = path.read_bytes()[-100_000:]
    meta = json.loads(read_header(path)["__metadata__"][META_KEY])
    rewrite_metadata(path, config={**meta["config"], "flip": True})
    assert path.read_bytes()[-100_000:] == tensors_before  # the weights' bytes are untouched
    flips = store.load("tiny")
    assert flips.info.mirrored and isinstance(flips.classifier, Mirrored)
    assert flips.info.test_acc == meta["test_acc"]  # only the field asked for changed
    left, right = probabilities(flips, img), probabilities(flips, img[:, ::-1].copy())
    assert np.allclose(left, right, atol=1e-5)
    assert not np.allclose(left, probabilities(digits, img), atol=1e-4)


def test_a_run_with_flips_is_calibrated_and_tested_as_it_will_answer(
    tmp_path: Path, data_dir: Path
) -> None:
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.evaluate import evaluate

    root = tmp_path / "models"
    code = main([
        "train", "--arch", "fast", "--epochs", "1", "--batch-size", "64", "--flip",
        "--val-size", "200", "--threads", "1", "--name", "flipped", "--no-download",
        "--data-dir", str(data_dir), "--models-dir", str(root),
    ])  # fmt: skip
    assert code == 0
    loaded = ModelStore(root, shipped=Path(os.devnull) / "none").load("flipped")
    assert loaded.info.mirrored
    test = load_dataset("mnist", data_dir, val_size=0, download=False).test
    info = loaded.info
    both = evaluate(loaded.classifier, test, info.mean, info.std, worst=0)
    one = evaluate(loaded.model, test, info.mean, info.std, worst=0)
    assert info.test_acc == pytest.approx(both.accuracy)
    assert info.test_loss == pytest.approx(both.loss)  # what was recorded is the two-view answer
    assert info.test_loss != pytest.approx(one.loss)
