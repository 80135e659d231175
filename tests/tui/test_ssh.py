"""The app as an SSH user gets it: the colour depth Textual detects (or --color) drives the art's
palette and shows on the status line; 16 colours and no colour keep the weights' sign; LANG=C
gets ASCII art and frames; a mouse drag on the canvas draws and selects nothing."""

from __future__ import annotations

import numpy as np
import pytest
from rich.style import Style
from textual.widgets import Static

from mnist_tui.render.colors import _diverging_256
from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.draw import DrawScreen
from mnist_tui.tui.screens.weights import WeightsScreen
from mnist_tui.tui.widgets.art import ArtView
from mnist_tui.tui.widgets.canvas import DrawCanvas


def _status(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#status-line", Static).render())


async def _weights(app, pilot) -> ArtView:  # noqa: ANN001
    await pilot.press("2")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, WeightsScreen)
    return app.screen.query_one("#weights-grid", ArtView)


def _colours(view: ArtView) -> set[tuple[int, int, int]]:
    out = set()
    for line in view.lines:
        for span in line.spans:
            style = Style.parse(span.style) if isinstance(span.style, str) else span.style
            for colour in (style.color, style.bgcolor):
                if colour is not None and colour.triplet is not None:
                    out.add(tuple(colour.triplet))
    return out


@pytest.mark.parametrize(
    ("env", "depth", "system"),
    [
        ({"TERM": "xterm-256color"}, "256", "256"),  # what OpenSSH brings: no COLORTERM
        ({"TERM": "xterm-256color", "COLORTERM": "truecolor"}, "truecolor", "truecolor"),
        ({"TERM": "screen"}, "16", "standard"),
        ({"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"}, "16", "standard"),
    ],
)
async def test_depth_is_the_one_textual_draws_with(services, monkeypatch, env, depth, system):  # noqa: ANN001, E501
    monkeypatch.delenv("COLORTERM", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if "TEXTUAL_COLOR_SYSTEM" in env:  # Textual reads it once, at import
        monkeypatch.setattr("textual.constants.COLOR_SYSTEM", env["TEXTUAL_COLOR_SYSTEM"])
    app = create_app(services, warm_up=False)
    assert app.color_depth == depth
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.console.color_system == system
        label = {"256": "256 colours", "truecolor": "truecolor", "16": "16 colours"}[depth]
        assert label in _status(app)


async def test_color_option_overrides_and_256_art_uses_only_its_table(services) -> None:
    app = create_app(services, warm_up=False, color="256")  # the env says truecolor
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.console.color_system == "256"
        assert "256 colours" in _status(app)
        grid = await _weights(app, pilot)
        table = {tuple(c) for c in _diverging_256().tolist()}
        used = _colours(grid)
        assert used and used <= table, used - table
        legend = app.screen.query_one("#weights-legend", ArtView)
        assert _colours(legend) <= table


async def test_16_colours_draw_signed_shades(services) -> None:
    app = create_app(services, warm_up=False, color="16")
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.console.color_system == "standard"
        grid = await _weights(app, pilot)
        assert "▀" not in grid.plain and set(grid.plain) & set("░▒▓█")
        assert _colours(grid) <= {(0, 0, 0), (85, 85, 255), (170, 85, 0)}


async def test_no_colour_and_non_utf8_locales_get_ascii(services, monkeypatch) -> None:
    app = create_app(services, warm_up=False, color="none")
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color and app.ascii_art
        grid = await _weights(app, pilot)
        assert grid.plain.strip() and not set(grid.plain) & set("▀░▒▓█")
    monkeypatch.setenv("LANG", "C")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.ascii_art and "ASCII (locale is not UTF-8)" in _status(app)
        assert "│" not in _status(app)
        assert app.screen.query_one("#menu").styles.border.top[0] == "ascii"
        grid = await _weights(app, pilot)
        assert grid.plain.strip() and not set(grid.plain) & set("▀░▒▓█")


async def test_a_mouse_drag_draws_and_selects_nothing(services) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        assert isinstance(app.screen, DrawScreen)
        canvas = app.screen.query_one(DrawCanvas)
        blank = [canvas.render_line(y) for y in range(canvas.size.height)]
        await pilot.mouse_down(canvas, offset=(10, 3))
        for y in range(4, 18):
            await pilot.hover(canvas, offset=(10 + y, y))
        await pilot.hover(app.screen, offset=(79, 23))  # the drag leaves the canvas
        await pilot.mouse_up(app.screen, offset=(79, 23))
        await pilot.pause()
        assert not canvas.empty
        assert not app.screen.selections, "a drag on the canvas starts no text selection"
        await pilot.press("c")
        await pilot.pause()
        assert canvas.empty
        after = [canvas.render_line(y) for y in range(canvas.size.height)]

        def looks(strips) -> set:  # noqa: ANN001
            return {(seg.style.color, seg.style.bgcolor) for strip in strips for seg in strip}

        assert looks(after) <= looks(blank), "no tint is left after Clear, only the blank canvas"
        assert np.all(canvas.pixels == 0)
