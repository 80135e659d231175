"""The honest-answer parts of the screens: "why" (w) on Predict and Draw, a refusal shown as a
guess, and the calibration block of Evaluate."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from textual.widgets import DataTable, Input

from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.draw import DrawScreen, prediction_panel
from mnist_tui.tui.screens.predict import PredictScreen, verdict_lines
from mnist_tui.tui.widgets.art import ArtView
from mnist_tui.tui.widgets.canvas import DrawCanvas

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datagen import synthetic_digits  # noqa: E402


def _digit_png(folder: Path) -> Path:
    images, _ = synthetic_digits(8, seed=5)
    path = folder / "digit.png"
    Image.fromarray(images[0]).resize((112, 112), Image.Resampling.NEAREST).save(path)
    return path


async def _settle(app, pilot) -> None:  # noqa: ANN001
    for _ in range(3):
        await asyncio.sleep(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_predict_w_shows_why_over_what_the_model_saw(services, tmp_path: Path) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("3")
        assert isinstance(app.screen, PredictScreen)
        box = app.screen.query_one("#predict-path", Input)
        box.value = str(_digit_png(tmp_path))
        box.focus()
        await pilot.press("enter")
        await _settle(app, pilot)
        view = app.screen.query_one("#predict-result", ArtView)
        assert "what the model saw" in view.plain and "why" not in view.plain
        app.screen.query_one("#predict-history", DataTable).focus()
        await pilot.press("w")
        await _settle(app, pilot)
        guess = app.screen.shown.guess_label
        assert f"why {guess}" in view.plain and "for it" in view.plain
        assert "what the model saw" not in view.plain
        await pilot.press("w")
        await pilot.pause()
        assert "what the model saw" in view.plain


async def test_draw_w_shows_why_beside_the_drawing(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        assert isinstance(app.screen, DrawScreen)
        canvas = app.screen.query_one(DrawCanvas)
        await pilot.press("space", *["down"] * 8, "space", *["right"] * 6, "space")
        await _settle(app, pilot)
        panel = str(app.screen.query_one("#draw-prediction").render())
        assert "model input" in panel and "why" not in panel
        await pilot.press("w")
        await _settle(app, pilot)
        panel = str(app.screen.query_one("#draw-prediction").render())
        assert f"why {app.screen.prediction.guess_label}" in panel
        assert app.screen.saliency is not None and app.screen.saliency.shape == (28, 28)
        # Drawing more keeps "why" on, for the new answer.
        await pilot.press("space", *["up"] * 4, "space")
        await _settle(app, pilot)
        assert "why" in str(app.screen.query_one("#draw-prediction").render())
        assert not canvas.empty


class _Refused:
    """A prediction the detector refused (the fields the faces read)."""

    digit = None
    guess = 4
    guess_label = "4"
    label = "-"
    rejected = True
    found = True
    calibrated = True
    confidence = 0.41
    message = "This doesn't look like a digit; the best guess is shown."
    probabilities = [0.05] * 4 + [0.41] + [0.06] * 5
    labels = tuple(str(d) for d in range(10))
    pixels = np.zeros((28, 28), dtype=np.float32)


def test_a_refusal_reads_as_not_a_digit_with_the_guess_marked() -> None:
    from rich.console import Console

    text = "\n".join(line.plain for line in verdict_lines(_Refused(), 40, Console()))
    assert "Not a digit" in text and "looks most like 4 (guess)" in text
    assert "Digit 4" not in text
    panel = str(prediction_panel(_Refused(), 30, 30))  # type: ignore[arg-type]
    assert panel.startswith("not a digit") and "looks most like 4 (guess)" in panel


async def test_evaluate_shows_ece_and_the_reliability_diagram(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        summary = str(app.screen.query_one("#eval-summary").render())
        assert "ECE" in summary
        block = app.screen.query_one("#eval-calibration", ArtView).plain
        assert "Calibration: T=" in block and "reliability: ECE" in block
        assert "│" in block  # the confidence marks
