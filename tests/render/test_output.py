from __future__ import annotations

from rich.text import Text

from mnist_tui.render import to_ansi, to_plain


def test_plain_drops_styles_and_ansi_keeps_them() -> None:
    lines = [Text("red", style="rgb(255,0,0)"), "plain"]
    assert to_plain(lines) == "red\nplain"
    ansi = to_ansi(lines)
    assert "\x1b[38;2;255;0;0mred" in ansi and ansi.endswith("plain")


def test_ansi_ignores_no_color_in_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" in to_ansi([Text("x", style="rgb(1,2,3)")])


def test_long_lines_are_not_wrapped() -> None:
    assert to_ansi(["x" * 300]).count("\n") == 0
