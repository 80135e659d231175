"""Helpers for reading rendered text back as a user would see it: characters and cell colours."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rich.style import Style
from rich.text import Text

RGB = tuple[int, int, int]


def _cell_colors(line: Text) -> list[tuple[RGB | None, RGB | None]]:
    """(foreground, background) RGB of every cell of a one-line Text, None where unset."""
    cells: list[tuple[RGB | None, RGB | None]] = [(None, None)] * len(line.plain)
    for span in line.spans:
        style = Style.parse(span.style) if isinstance(span.style, str) else span.style
        fg = tuple(style.color.triplet) if style.color and style.color.triplet else None
        bg = tuple(style.bgcolor.triplet) if style.bgcolor and style.bgcolor.triplet else None
        for i in range(span.start, span.end):
            old_fg, old_bg = cells[i]
            cells[i] = (fg or old_fg, bg or old_bg)
    return cells


@pytest.fixture
def cell_colors() -> Callable[[Text], list[tuple[RGB | None, RGB | None]]]:
    """The per-cell (fg, bg) colours of a rendered line."""
    return _cell_colors
