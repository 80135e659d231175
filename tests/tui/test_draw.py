"""The Draw screen: mouse and keyboard drawing, live prediction, undo/clear, save = predict."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.draw import DrawScreen, prediction_panel, save_drawing
from mnist_tui.tui.widgets.canvas import HEIGHT, WIDTH, DrawCanvas, paint_segment


def panel_text(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#draw-prediction").render())


async def settle(app, pilot) -> None:  # noqa: ANN001
    """Wait out the debounce timer and the prediction worker."""
    for _ in range(3):
        await asyncio.sleep(0.4)
        await app.workers.wait_for_complete()
        await pilot.pause()


async def open_draw(pilot) -> DrawCanvas:  # noqa: ANN001
    await pilot.press("7")
    await pilot.pause()
    assert isinstance(pilot.app.screen, DrawScreen)
    return pilot.app.screen.query_one(DrawCanvas)


# ---------------------------------------------------------------------- the brush


def test_paint_segment_is_continuous_for_a_fast_stroke() -> None:
    pixels = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    paint_segment(pixels, 5.0, 20.0, 50.0, 20.0)  # one jump across the canvas
    assert (pixels[19:21, 6:50] > 0.95).all()  # solid all the way along
    assert pixels[20, 0] == 0.0 and pixels[20, 55] == 0.0  # ends are round, not smeared
    assert 0.0 < pixels[22, 25] < 1.0  # soft (antialiased) edge
    assert pixels[30, 25] == 0.0


def test_paint_segment_max_accumulates() -> None:
    pixels = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    paint_segment(pixels, 20.0, 20.0, 20.0, 20.0)
    once = pixels.copy()
    paint_segment(pixels, 20.0, 20.0, 20.0, 20.0)
    np.testing.assert_array_equal(pixels, once)
    assert pixels.max() <= 1.0


def test_prediction_panel_empty_and_small() -> None:
    assert str(prediction_panel(None, 24, 22)) == "Draw a digit"


# ---------------------------------------------------------------------- the screen


async def test_mouse_stroke_gives_a_prediction(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        canvas = await open_draw(pilot)
        assert "Draw a digit" in panel_text(app)
        assert canvas.empty
        await pilot.mouse_down(canvas, offset=(28, 3))
        for y in range(4, 18):
            await pilot.hover(canvas, offset=(28, y))
        await pilot.mouse_up(canvas, offset=(28, 17))
        assert not canvas.empty
        # A vertical line: ink down column 28, none far left.
        assert canvas.pixels[8:34, 28].min() > 0.9
        assert canvas.pixels[:, :20].max() == 0.0
        await settle(app, pilot)
        text = panel_text(app)
        assert "Draw a digit" not in text
        assert "%" in text and "◀" in text
        assert app.screen.prediction is not None and app.screen.prediction.found


async def test_keyboard_drawing_undo_and_clear(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        canvas = await open_draw(pilot)
        await pilot.press("space", *["down"] * 6, "space")
        first = canvas.pixels.copy()
        assert not canvas.empty
        x, y = canvas.cursor
        assert (x, y) == (WIDTH // 2, HEIGHT // 2 + 12)
        assert first[HEIGHT // 2 : y, x].min() > 0.9
        await pilot.press("space", *["right"] * 5, "space")
        second = canvas.pixels.copy()
        assert (second >= first).all() and (second > first).any()
        await settle(app, pilot)
        assert "Draw a digit" not in panel_text(app)

        await pilot.press("u")
        np.testing.assert_array_equal(canvas.pixels, first)
        await pilot.press("c")
        assert canvas.empty
        await pilot.pause()
        assert "Draw a digit" in panel_text(app)
        await pilot.press("u")  # the clear is undoable too
        np.testing.assert_array_equal(canvas.pixels, first)
        await pilot.press("u")
        assert canvas.empty
        await pilot.press("escape")
        assert not isinstance(app.screen, DrawScreen)


async def test_pen_moves_draw_only_when_down(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        canvas = await open_draw(pilot)
        await pilot.press("left", "left", "up")
        assert canvas.empty
        assert "pen up" in str(app.screen.query_one("#draw-hint").render())
        await pilot.press("space")
        assert "pen down" in str(app.screen.query_one("#draw-hint").render())
        assert not canvas.empty


async def test_saved_drawing_predicts_the_same(services, tmp_path: Path) -> None:  # noqa: ANN001
    from mnist_tui.engine.predict import predict_path

    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        canvas = await open_draw(pilot)
        await pilot.press("space", *["down"] * 7, *["right"] * 4, "space")
        await settle(app, pilot)
        live = app.screen.prediction
        assert live is not None and live.found

        target = tmp_path / "mine.png"
        await pilot.press("s")
        await pilot.pause()
        field = app.screen.query_one("#save-path")
        assert field.value.startswith("~/digit-") and field.value.endswith(".png")
        field.value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DrawScreen)
        assert target.is_file()
        saved = np.asarray(Image.open(target))
        np.testing.assert_array_equal(saved, canvas.image_array())

    from_file = predict_path(services.load_model(), target)
    assert from_file.digit == live.digit
    np.testing.assert_allclose(from_file.probabilities, live.probabilities, atol=1e-6)
    np.testing.assert_allclose(from_file.pixels, live.pixels, atol=1e-6)


async def test_save_error_is_one_sentence_in_the_dialog(services, tmp_path: Path) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draw(pilot)
        await pilot.press("space", "down", "down", "space")
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one("#save-path").value = str(tmp_path / "no" / "such" / "dir" / "x.png")
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#save-error").render())
        assert error.startswith("Cannot save to") and error.count(".") >= 1
        await pilot.press("escape")
        assert isinstance(app.screen, DrawScreen)


def test_save_drawing_expands_home_and_adds_suffix(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("HOME", str(tmp_path))
    pixels = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    pixels[10:30, 27:30] = 1.0
    saved = save_drawing(pixels, "~/sketch")
    assert saved == tmp_path / "sketch.png"
    assert np.asarray(Image.open(saved)).max() == 255


async def test_activations_from_draw(services) -> None:  # noqa: ANN001
    from mnist_tui.tui.screens.activations import ActivationsScreen

    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draw(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, DrawScreen)  # nothing drawn yet: a hint, no screen
        await pilot.press("space", *["down"] * 6, "space")
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivationsScreen)
        assert "Layer 1 of" in str(app.screen.query_one("#act-heading").render())
        await pilot.press("escape")
        assert isinstance(app.screen, DrawScreen)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_canvas_and_prediction_fit(services, size: tuple[int, int]) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=size) as pilot:
        canvas = await open_draw(pilot)
        await pilot.press("space", *["down"] * 6, "space")
        await settle(app, pilot)
        panel = app.screen.query_one("#draw-prediction")
        width, height = size
        assert canvas.region.right <= width and canvas.region.bottom <= height - 1
        assert canvas.region.width == WIDTH * canvas.scale
        assert panel.region.x >= canvas.region.right
        assert panel.region.right <= width and panel.region.bottom <= height - 1
        assert panel.region.height >= 5
        if size == (160, 50):
            assert canvas.scale == 2
            text = panel_text(app)
            bars = [ln for ln in text.splitlines() if re.match(r"^\d [█▏▎▍▌▋▊▉ ]+ +\d+\.\d%", ln)]
            assert len(bars) == 10  # all ten bars...
            assert "model input\n" in text  # ...and the whole 28x28 the model sees


async def test_ascii_mode_has_no_half_blocks(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    app.ascii_art = True
    async with app.run_test(size=(80, 24)) as pilot:
        canvas = await open_draw(pilot)
        await pilot.press("space", *["down"] * 6, "space")
        await settle(app, pilot)
        art = str(canvas.render()) + panel_text(app)
        assert "▀" not in art and "█" not in art
        assert "@" in str(canvas.render())
