"""Predict screen: path hints, Tab completion, a prediction with bars and history, bad files."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
from PIL import Image
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.predict import PredictScreen, complete_path
from mnist_tui.tui.widgets.art import ArtView

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datagen import synthetic_digits  # noqa: E402


def _digit_png(folder: Path, name: str = "digit.png", index: int = 0) -> Path:
    """A white-on-black 28x28 sample like the ones the tiny model learnt, scaled up 4x."""
    images, _ = synthetic_digits(8, seed=5)
    path = folder / name
    Image.fromarray(images[index]).resize((112, 112), Image.Resampling.NEAREST).save(path)
    return path


def _text(app, selector: str) -> str:  # noqa: ANN001
    return str(app.screen.query_one(selector, Static).render())


async def _predict(app, pilot, path: str) -> None:  # noqa: ANN001
    box = app.screen.query_one("#predict-path", Input)
    box.focus()
    box.value = path
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_prediction_shows_digit_bars_and_history(services, tmp_path: Path) -> None:  # noqa: ANN001
    first = _digit_png(tmp_path, "one.png", 0)
    second = _digit_png(tmp_path, "two.png", 1)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        assert isinstance(app.screen, PredictScreen)
        await _predict(app, pilot, str(first))
        result = app.screen.query_one("#predict-result", ArtView).plain
        assert "Digit" in result and "your image" in result and "what the model saw" in result
        bars = [line for line in result.splitlines() if line.rstrip().endswith(("%", "◀"))]
        assert len(bars) == 10
        assert sum("◀" in line for line in bars) == 1
        assert not app.screen.query_one("#predict-error").display
        table = app.screen.query_one("#predict-history", DataTable)
        assert table.row_count == 1
        await _predict(app, pilot, str(second))
        assert table.row_count == 2
        assert str(table.get_row_at(0)[0]) == "two.png"
        # Selecting an older row shows it again.
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.shown.path.endswith("one.png")


async def test_bad_paths_are_one_sentence_and_keys_still_work(
    services,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    (tmp_path / "notes.png").write_text("this is not a picture")
    (tmp_path / "folder").mkdir()
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        for bad in (tmp_path / "missing.png", tmp_path / "folder", tmp_path / "notes.png"):
            await _predict(app, pilot, str(bad))
            error = app.screen.query_one("#predict-error", Static)
            text = str(error.render())
            assert error.display and text.strip().endswith(".")
            assert "Traceback" not in text and text.count(". ") == 0, text
            assert app.screen.query_one("#predict-result", ArtView).plain == ""
        await pilot.press("escape")
        assert not isinstance(app.screen, PredictScreen)
        await pilot.press("3")
        assert isinstance(app.screen, PredictScreen)


async def test_path_hint_and_tab_completion(services, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "alpha1.png").write_bytes(b"")
    (tmp_path / "alpha2.png").write_bytes(b"")
    (tmp_path / "beta").mkdir()
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        box = app.screen.query_one("#predict-path", Input)
        assert box.has_focus
        box.value = f"{tmp_path}/al"
        await pilot.pause()
        assert _text(app, "#predict-hint") == "no such file"
        await pilot.press("tab")
        await pilot.pause()
        assert box.value == f"{tmp_path}/alpha"
        assert box.has_focus  # Tab completed instead of moving focus
        hint = _text(app, "#predict-hint")
        assert "alpha1.png" in hint and "alpha2.png" in hint
        await pilot.press("1", "tab")
        await pilot.pause()
        assert box.value == f"{tmp_path}/alpha1.png"
        assert _text(app, "#predict-hint") == "file exists"
        box.value = f"{tmp_path}/b"
        await pilot.press("tab")
        await pilot.pause()
        assert box.value == f"{tmp_path}/beta/"
        assert _text(app, "#predict-hint") == "is a directory"


def test_complete_path_keeps_tilde(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "pictures").mkdir()
    (tmp_path / ".hidden").mkdir()
    assert complete_path("~/pi") == ("~/pictures/", [])
    assert complete_path("~/") == ("~/pictures/", [])  # dot-files only when asked for
    assert complete_path("~/nothing") == ("~/nothing", [])


async def test_activations_key_opens_screen_for_the_28x28(
    services,
    tmp_path: Path,
    monkeypatch,  # noqa: ANN001
) -> None:
    opened: list[tuple[np.ndarray, str]] = []

    class FakeActivations(Screen[None]):
        def __init__(self, pixels: np.ndarray, title: str, model_name: str | None = None) -> None:
            super().__init__()
            opened.append((pixels, title))

    module = types.ModuleType("mnist_tui.tui.screens.activations")
    module.ActivationsScreen = FakeActivations  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mnist_tui.tui.screens.activations", module)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await _predict(app, pilot, str(_digit_png(tmp_path)))
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, FakeActivations)
        pixels, title = opened[0]
        assert pixels.shape == (28, 28) and "digit.png" in title
