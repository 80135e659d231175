"""On and off said in text, not in colour alone.

Textual's Checkbox and SelectionList draw an X in every box and tell on from off by the X's
colour, which a 16-colour or monochrome terminal over SSH all but loses (black on grey against
light grey on grey at TERM=xterm; at 256 colours an unticked X is black on navy beside a green
one). These draw the X only when the box is on: ``▐X▌`` on, ``▐ ▌`` off.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList


class TickBox(Checkbox):
    """A Checkbox whose box is empty when off."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "X" if self.value else " "  # an instance value: the class keeps X
        return super()._button


class TickList(SelectionList[Any]):
    """A SelectionList whose boxes are empty for the options not picked."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        index = self.scroll_offset[1] + y
        if index >= self.option_count:
            return strip
        segments = list(strip)  # the box's left side, its inside, its right side, then the text
        picked = self.get_option_at_index(index).value in self.selected
        if picked or len(segments) < 2 or segments[0].text != Checkbox.BUTTON_LEFT:
            return strip
        inside = segments[1]
        segments[1] = Segment(" " * len(inside.text), inside.style, inside.control)
        return Strip(segments, strip.cell_length)
