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
        await pilot.pause()
        assert app.screen.query_one("Header").icon == "*"
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


async def test_at_80x24_predict_shows_the_whole_verdict_and_all_ten_bars(
    services, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    from PIL import Image

    from mnist_tui.tui.screens.predict import confidence_words

    image = np.zeros((28, 28), dtype=np.uint8)
    image[5:7, 6:22] = 255
    image[6:24, 17:19] = 255
    Image.fromarray(image).save(tmp_path / "seven.png")
    for i in range(20):
        (tmp_path / f"sample-{i:02d}.png").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "s", "tab")
        await pilot.pause()
        hint = app.screen.query_one("#predict-hint", Static)
        text = str(hint.render())
        assert text.startswith("21 matches, first 12: ") and text.endswith("… 9 more")
        assert hint.virtual_size.height <= hint.size.height, "the list is not cut"
        path = app.screen.query_one("#predict-path")
        path.value = "seven.png"
        await pilot.press("enter")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause(0.1)
        p = app.screen.shown
        view = app.screen.query_one("#predict-result", ArtView)
        scroll = app.screen.query_one("#predict-scroll")
        lines = view.plain.splitlines()
        verdict = f"{p.label}  {p.confidence:.1%}, {confidence_words(p.confidence)}"
        assert verdict in lines[0]
        assert max(len(line) for line in lines) <= scroll.size.width, "no line is cut"
        bars = [i for i, line in enumerate(lines) if line.rstrip().endswith(("%", "◀"))]
        assert len(bars) == 10 and bars[-1] < scroll.size.height, "all ten bars on screen"
        await pilot.resize_terminal(60, 20)  # narrower: panels go, figures stay whole
        await pilot.pause()
        await pilot.pause()
        lines = view.plain.splitlines()
        assert verdict in lines[0]
        assert max(len(line) for line in lines) <= scroll.size.width, "no line is cut"
        assert sum("%" in line for line in lines[1:]) == 10
        assert "your image" not in view.plain and "what the model saw" in view.plain


async def test_at_80x24_models_shows_its_important_columns_without_scrolling(services) -> None:
    services.store().rename("tiny", "fast-20261122-031400")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one("#status-line", Static)
        assert "fast-20261122-031400" in _status(app) and "truecolor" in _status(app)
        assert status.virtual_size.height <= status.size.height, "the depth is not cut off"
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one("#models-table")
        labels = [str(c.label) for c in table.columns.values()]
        assert {"name", "test", "state", "created"} <= set(labels)
        assert table.virtual_size.width <= table.size.width, "no horizontal scrolling"
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert len(table.columns) == 8, "a wide window shows every column"


async def test_at_80x24_the_status_line_breaks_between_its_parts(services) -> None:
    # The shipped ensemble's summary ("default · best ×3 · 99.71% test") made the line 84
    # cells long: "256 colours" was cut in two across the screen's last lines.
    services.store().rename("tiny", "my-ensemble-of-three")
    app = create_app(services, warm_up=False, color="256")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        status = app.screen.query_one("#status-line", Static)
        lines = _status(app).splitlines()
        assert len(lines) == 2 and lines[1].strip() == "256 colours", lines
        assert "my-ensemble-of-three" in lines[0] and "data: present" in lines[0]
        assert status.virtual_size.height <= status.size.height, "nothing is cut off"
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert len(_status(app).splitlines()) == 1, "a wide window has it on one line"


def test_pack_parts_breaks_lines_only_between_parts() -> None:
    from mnist_tui.tui.widgets.fit import pack_parts

    parts = ["Model: x", "MNIST data: present", "256 colours"]
    assert pack_parts(parts, 80, "|") == " Model: x   |   MNIST data: present   |   256 colours"
    assert pack_parts(parts, 40, "|") == " Model: x   |   MNIST data: present\n 256 colours"
    assert pack_parts(parts, 10, "|").splitlines() == [" " + p for p in parts]


async def test_keys_typed_ahead_over_a_slow_link_arrive_in_order(services, tmp_path) -> None:  # noqa: ANN001
    # Over SSH, keys typed during a lag arrive in one read. Textual applied a text box's own
    # keys (Ctrl+U, arrows, Enter) after the characters typed behind them: Ctrl+U then a path
    # left the box empty, and Enter said "Type the path of an image file first".
    from PIL import Image
    from textual import events
    from textual.widgets import Input

    from mnist_tui.tui.screens.predict import PredictScreen

    image = np.zeros((28, 28), dtype=np.uint8)
    image[5:7, 6:22] = 255
    image[6:24, 17:19] = 255
    Image.fromarray(image).save(tmp_path / "seven.png")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, PredictScreen)
        box = app.screen.query_one("#predict-path", Input)
        box.value = "an/old/path.png"
        box.cursor_position = len(box.value)
        typed = f"{tmp_path}/seven.pnx"
        burst = [("ctrl+u", None), *((c, c) for c in typed)]
        burst += [("backspace", None), ("g", "g"), ("left", None), ("left", None), ("home", None)]
        for key, character in burst:  # one read: no pause between the keys
            app.post_message(events.Key(key, character))
        await pilot.pause()
        assert box.value == f"{tmp_path}/seven.png" and box.cursor_position == 0
        for key, character in [("end", None), ("enter", None), ("x", "x")]:
            app.post_message(events.Key(key, character))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.shown is not None, "the path typed after Ctrl+U was predicted"
        assert app.screen.shown.path == f"{tmp_path}/seven.png", "not with the x typed after Enter"
        view = app.screen.query_one("#predict-result", ArtView)
        scroll = app.screen.query_one("#predict-scroll")
        assert scroll.max_scroll_y > 0 and scroll.scroll_y == 0, "the answer's first line shows"
        assert "Digit" in view.plain.splitlines()[0]


def test_fit_columns_drops_whole_columns_least_important_first() -> None:
    from mnist_tui.tui.widgets.fit import fit_columns

    headers = ("name", "a", "b", "c")
    rows = [("xxxx", "yy", "zzzzzz", "w")]
    assert fit_columns(headers, rows, ("name", "c", "a", "b"), 100) == [0, 1, 2, 3]
    assert fit_columns(headers, rows, ("name", "c", "a", "b"), 13) == [0, 1, 3]
    assert fit_columns(headers, rows, ("name", "c", "a", "b"), 3) == [0]
    assert fit_columns(headers, rows, ("name", "b", "c"), 3, always=2) == [0, 2]


async def test_at_60x20_the_menu_keeps_one_line_per_entry(services) -> None:
    from textual.widgets import OptionList

    app = create_app(services, warm_up=False)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#menu", OptionList)
        assert menu.virtual_size.height == menu.option_count, "no entry wraps"
        assert menu.size.height >= menu.option_count, "the menu does not scroll"
        assert "Train" in str(menu.get_option_at_index(0).prompt)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert "live loss charts" in str(menu.get_option_at_index(0).prompt)
        await pilot.press("3")  # the keys still open the screens
        await pilot.pause()
        assert app.screen.__class__.__name__ == "PredictScreen"
