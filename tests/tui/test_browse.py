"""Browse screen: pages of labelled samples, class filter, split toggle, cursor, activations."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
from textual.screen import Screen
from textual.widgets import Static

from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.browse import BrowseScreen, layout_for
from mnist_tui.tui.widgets.art import ArtView


def _status(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#browse-status", Static).render())


def _page(app) -> tuple[int, int]:  # noqa: ANN001
    match = re.search(r"page (\d+)/(\d+)", _status(app))
    assert match, _status(app)
    return int(match[1]), int(match[2])


async def _open(app, pilot) -> BrowseScreen:  # noqa: ANN001
    await pilot.press("6")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, BrowseScreen)
    return app.screen


async def test_pages_filter_and_split(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        assert "train" in _status(app) and "1,000 samples" in _status(app)  # 1,200 less 200 val
        first = list(screen.visible_labels)
        assert len(first) == screen.tiles.per_page >= 8  # half-size tiles at 80x24
        grid = screen.query_one("#browse-grid", ArtView).plain
        assert "▀" in grid
        assert _page(app)[0] == 1
        await pilot.press("pagedown")
        assert _page(app)[0] == 2
        await pilot.press("n")
        assert _page(app)[0] == 3
        await pilot.press("p")
        assert _page(app)[0] == 2

        await pilot.press("7")
        assert "only 7" in _status(app) and _page(app)[0] == 1
        assert screen.visible_labels and set(screen.visible_labels) == {"7"}
        labels = screen.data.train.labels
        assert f"{int((labels == 7).sum()):,} samples" in _status(app)

        await pilot.press("s")
        assert "test" in _status(app) and set(screen.visible_labels) == {"7"}
        assert f"{int((screen.data.test.labels == 7).sum()):,} samples" in _status(app)
        await pilot.press("asterisk")
        assert "all classes" in _status(app) and "300 samples" in _status(app)
        assert len(set(screen.visible_labels)) > 1
        await pilot.press("s")
        assert "train" in _status(app)


async def test_cursor_moves_and_highlights(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        assert "#0 " in _status(app)
        await pilot.press("right")
        assert "#1 " in _status(app)
        await pilot.press("down")
        assert f"#{1 + screen.tiles.cols} " in _status(app)
        await pilot.press("left", "up")
        assert "#0 " in _status(app)
        await pilot.press("t")
        grid = screen.query_one("#browse-grid", ArtView).plain
        assert "▀" not in grid
        assert grid.count("[") == 1  # the selected tile's label, bracketed in ASCII


async def test_tiles_fill_bigger_terminals(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        small = screen.tiles.per_page
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        await pilot.pause()
        assert screen.tiles.per_page > small
        assert len(screen.visible_labels) == screen.tiles.per_page
        assert not screen.tiles.half  # full-size tiles once enough fit


def test_layout_prefers_full_size_tiles() -> None:
    assert layout_for(160, 47).half is False
    small = layout_for(76, 21)
    assert small.half and small.per_page >= 8


async def test_missing_data_is_one_sentence(services, tmp_path: Path) -> None:  # noqa: ANN001
    services.data_dir = tmp_path / "empty"
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot)
        error = app.screen.query_one("#browse-error", Static)
        assert error.display and "not downloaded" in str(error.render())
        await pilot.press("n", "3", "s", "a")  # keys on an empty screen do nothing harmful
        assert isinstance(app.screen, BrowseScreen)


async def test_activations_for_selected_sample(services, monkeypatch) -> None:  # noqa: ANN001
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
        screen = await _open(app, pilot)
        await pilot.press("right", "a")
        await pilot.pause()
        assert isinstance(app.screen, FakeActivations)
        pixels, title = opened[0]
        index = int(screen.indices[1])
        assert pixels.dtype == np.float32 and pixels.shape == (28, 28)
        assert np.allclose(pixels, screen.data.train.images[index] / 255.0)
        assert f"#{index}" in title
