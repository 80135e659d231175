"""Honest answers with the shipped default: a letter is refused (its best guess kept), a clear
digit reads >= 98% calibrated, and the "why" map points at the strokes that decided."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import imagestyles  # noqa: E402

from mnist_tui.engine import nondigits  # noqa: E402
from mnist_tui.engine.reject import detector_path, shipped_detector  # noqa: E402


@pytest.fixture(scope="module")
def default_model():  # noqa: ANN201
    from mnist_tui.engine.store import ModelStore

    store = ModelStore(Path(__file__).parent / "no-such-store")
    return store.load("default")


@pytest.fixture
def detector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MNIST_TUI_DETECTOR", raising=False)
    assert detector_path() is not None and shipped_detector() is not None


def test_shipped_default_is_calibrated(default_model) -> None:  # noqa: ANN001
    cal = default_model.info.calibration
    assert cal.calibrated and 0.2 < cal.temperature < 1.0
    assert "validation" in cal.fitted_on


@pytest.mark.parametrize("style", list(imagestyles.STYLES))
def test_a_clear_digit_reads_at_least_98_percent(default_model, detector_on, style: str) -> None:  # noqa: ANN001
    from mnist_tui.engine.predict import predict_image

    make = imagestyles.STYLES[style]
    image = make(4) if style in ("mnist_like", "printed") else make(4, 4)
    pred = predict_image(default_model, image)
    assert pred.digit == 4 and not pred.rejected
    assert pred.confidence >= 0.98, f"{style}: {pred.confidence:.1%}"


@pytest.mark.parametrize("family", ["hand letter", "printed letter", "scribble", "drawing"])
def test_things_that_are_not_digits_are_refused_with_a_guess(
    default_model, detector_on, family: str
) -> None:  # noqa: ANN001
    from mnist_tui.engine.predict import predict_image

    refused = 0
    for seed in range(nondigits.TRAIN_SEEDS + 7_000, nondigits.TRAIN_SEEDS + 7_010):
        pred = predict_image(default_model, nondigits.generate(family, seed))
        if pred.rejected:
            refused += 1
            assert pred.digit is None and pred.guess is not None
            out = json.loads(json.dumps(pred.to_dict()))
            assert out["digit"] is None and out["confidence"] is None
            assert out["guess"]["digit"] == pred.guess
            assert "doesn't look like a digit" in out["note"]
    assert refused >= 8, f"{family}: only {refused} of 10 refused"


def test_the_letter_k_is_refused(default_model, detector_on) -> None:  # noqa: ANN001
    from PIL import Image, ImageDraw

    from mnist_tui.engine.predict import predict_image

    page = Image.new("L", (200, 200), 255)
    draw = ImageDraw.Draw(page)
    draw.line([(60, 30), (60, 170)], fill=0, width=12)
    draw.line([(140, 30), (62, 105)], fill=0, width=12)
    draw.line([(85, 85), (145, 170)], fill=0, width=12)
    pred = predict_image(default_model, page)
    assert pred.rejected and pred.digit is None and pred.guess is not None


def test_why_map_points_at_the_strokes_that_decided(default_model) -> None:  # noqa: ANN001
    from mnist_tui.engine.predict import probabilities
    from mnist_tui.engine.saliency import saliency

    pixels = np.asarray(imagestyles.mnist_like(7, seed=7), dtype=np.float32) / 255.0
    sal = saliency(default_model, pixels, 7)
    assert sal.shape == (28, 28) and np.abs(sal).max() == pytest.approx(1.0)
    ink = pixels > 0.3
    # Blanking the ink the map ranks highest hurts the answer more than blanking other ink.
    order = np.argsort(-np.where(ink, sal, -np.inf).ravel())
    n = int(ink.sum()) // 3
    top, low = pixels.copy().ravel(), pixels.copy().ravel()
    top[order[:n]] = 0
    low[order[int(ink.sum()) - n : int(ink.sum())]] = 0
    p_top = probabilities(default_model, top.reshape(28, 28))[7]
    p_low = probabilities(default_model, low.reshape(28, 28))[7]
    assert p_top < p_low


def test_a_non_digit_already_in_mnist_format_is_judged_by_its_own_threshold(
    default_model,
    detector_on,  # noqa: ANN001
) -> None:
    """Between the two thresholds, the same 28x28 is refused when it came out of the
    preprocessing, and answered with a caution when the picture already was an MNIST digit."""
    from mnist_tui.engine.predict import predict_all
    from mnist_tui.engine.preprocess import Preprocessed
    from mnist_tui.engine.reject import CAUTION

    detector = shipped_detector()
    assert detector.mnist_threshold is not None and detector.mnist_threshold > detector.threshold
    made = (nondigits.quick_mnist(nondigits.generate("symbol", 5_000_000 + i)) for i in range(300))
    candidates = np.stack([m for m in made if m is not None])
    scores = detector.scores(candidates)
    between = np.nonzero((scores > detector.threshold) & (scores <= detector.mnist_threshold))[0]
    assert between.size, "some symbols score between the two thresholds"
    pixels = candidates[between[0]]
    box = (4, 4, 24, 24)

    def prepared(as_is: bool) -> Preprocessed:
        return Preprocessed(pixels, True, "", pixels, (28, 28), box, box, as_is=as_is)

    preprocessed, mnist_format = predict_all(default_model, [prepared(False), prepared(True)])
    assert preprocessed.rejected and preprocessed.digit is None
    assert not mnist_format.rejected and mnist_format.digit == mnist_format.guess
    assert mnist_format.message == CAUTION
