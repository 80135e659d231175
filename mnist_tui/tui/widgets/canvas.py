"""A drawing canvas: a grey pixel array painted with a soft round brush, shown as half-blocks.

The drawing is a fixed ``HEIGHT`` x ``WIDTH`` float array (white ink on black, in [0, 1]). On
screen each pixel is ``scale`` columns wide and ``scale`` half-rows tall, so one text cell holds
two pixel rows at scale 1. A mouse event only says which cell the pointer is in; the brush is
centred on the middle of that cell (the boundary of its two pixels), or on the exact pointer
position when the terminal reports sub-cell coordinates.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from mnist_tui.render import GRAY_RAMP, halfblock_lines, scale_nearest, sequential

WIDTH = 56
HEIGHT = 40  # 20 text rows at scale 1: fits 80x24 beside the Header and Footer
BRUSH_SIGMA = 1.3  # px: the Gaussian's width; with the gain below the solid core is ~3 px across
BRUSH_GAIN = 1.8
BRUSH_REACH = 4.0  # px beyond which the brush leaves no ink
CURSOR_RADIUS = 3.0
MAX_UNDO = 64
_PEN_UP = np.array([80, 200, 255], dtype=np.uint8)
_PEN_DOWN = np.array([255, 90, 70], dtype=np.uint8)


def brush_profile(distance: np.ndarray) -> np.ndarray:
    """Ink left at ``distance`` px from the stroke's centre line: solid core, soft edge."""
    ink = BRUSH_GAIN * np.exp(-0.5 * (distance / BRUSH_SIGMA) ** 2)
    return np.where(distance < BRUSH_REACH, np.clip(ink, 0.0, 1.0), 0.0)


def paint_segment(
    pixels: np.ndarray, x0: float, y0: float, x1: float, y1: float
) -> tuple[int, int, int, int] | None:
    """Max-accumulate a brush stroke from (x0, y0) to (x1, y1) into ``pixels`` in place.

    Coordinates are continuous pixel units (pixel ``i`` covers ``[i, i + 1)``). Every pixel gets
    the brush's ink at its distance from the segment, so a fast stroke stays continuous however
    far apart the two positions are. Returns the touched box (x0, y0, x1, y1), or None.
    """
    h, w = pixels.shape
    left = max(0, int(np.floor(min(x0, x1) - BRUSH_REACH)))
    right = min(w, int(np.ceil(max(x0, x1) + BRUSH_REACH)) + 1)
    top = max(0, int(np.floor(min(y0, y1) - BRUSH_REACH)))
    bottom = min(h, int(np.ceil(max(y0, y1) + BRUSH_REACH)) + 1)
    if left >= right or top >= bottom:
        return None
    ys, xs = np.mgrid[top:bottom, left:right].astype(np.float64) + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0)
    else:
        t = np.zeros_like(xs)
    distance = np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy))
    region = pixels[top:bottom, left:right]
    np.maximum(region, brush_profile(distance).astype(pixels.dtype), out=region)
    return left, top, right, bottom


def _cursor_mask(x: int, y: int) -> np.ndarray:
    """A ring of the brush's size around pixel (x, y), plus the pixel itself."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    d = np.hypot(xs - x, ys - y)
    return (np.abs(d - CURSOR_RADIUS) < 0.5) | (d < 0.5)


class DrawCanvas(Widget, can_focus=True):
    """A canvas to draw a digit on with the mouse (press and drag) or the keyboard cursor."""

    # A drag draws: it must not also start Textual's text selection, whose highlight tinted
    # every other pixel row and stayed after Clear.
    ALLOW_SELECT = False

    DEFAULT_CSS = """
    DrawCanvas {
        width: 56;
        height: 20;
    }
    """

    class Changed(Message):
        """The drawing changed (a stroke, undo or clear); ``empty`` when nothing is drawn."""

        def __init__(self, canvas: DrawCanvas, empty: bool) -> None:
            super().__init__()
            self.canvas = canvas
            self.empty = empty

        @property
        def control(self) -> DrawCanvas:
            return self.canvas

    def __init__(
        self,
        *,
        ascii: bool = False,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.pixels = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
        self.ascii = ascii
        self.scale = 1
        self.cursor = (WIDTH // 2, HEIGHT // 2)
        self.pen_down = False
        self.show_cursor = True
        self._undo: list[np.ndarray] = []
        self._last: tuple[float, float] | None = None  # where the current stroke is
        self._mouse_drawing = False

    # ------------------------------------------------------------------ the drawing

    @property
    def empty(self) -> bool:
        """Whether nothing has been drawn."""
        return not bool((self.pixels > 0.02).any())

    @property
    def undo_depth(self) -> int:
        """How many strokes (or clears) can be undone."""
        return len(self._undo)

    def image_array(self) -> np.ndarray:
        """The drawing as uint8 (white ink on black): exactly what a saved PNG holds."""
        return np.rint(np.clip(self.pixels, 0.0, 1.0) * 255.0).astype(np.uint8)

    def begin_stroke(self, x: float, y: float) -> None:
        """Start a stroke at (x, y): remember the canvas for undo, then put down a dot."""
        self._push_undo()
        self._last = (x, y)
        self._paint(x, y, x, y)

    def continue_stroke(self, x: float, y: float) -> None:
        """Extend the current stroke to (x, y) (starting one if none is under way)."""
        if self._last is None:
            self.begin_stroke(x, y)
            return
        x0, y0 = self._last
        self._last = (x, y)
        self._paint(x0, y0, x, y)

    def end_stroke(self) -> None:
        """Finish the current stroke."""
        self._last = None

    def clear(self) -> None:
        """Wipe the canvas (undoable)."""
        self.end_stroke()
        if self.empty:
            return
        self._push_undo()
        self.pixels[:] = 0.0
        self._changed()

    def undo(self) -> bool:
        """Put back the canvas as it was before the last stroke or clear."""
        self.end_stroke()
        self.pen_down = False
        self._mouse_drawing = False
        if not self._undo:
            return False
        self.pixels = self._undo.pop()
        self._changed()
        return True

    def _push_undo(self) -> None:
        self._undo.append(self.pixels.copy())
        del self._undo[:-MAX_UNDO]

    def _paint(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if paint_segment(self.pixels, x0, y0, x1, y1) is not None:
            self._changed()

    def _changed(self) -> None:
        self.refresh()
        self.post_message(self.Changed(self, self.empty))

    # ------------------------------------------------------------------ keyboard cursor

    def move_cursor(self, dx: int, dy: int) -> None:
        """Move the cursor by (dx, dy) pixels; with the pen down this draws."""
        self.show_cursor = True
        x = min(max(self.cursor[0] + dx, 0), WIDTH - 1)
        y = min(max(self.cursor[1] + dy, 0), HEIGHT - 1)
        self.cursor = (x, y)
        if self.pen_down:
            self.continue_stroke(x + 0.5, y + 0.5)
        self.refresh()

    def toggle_pen(self) -> bool:
        """Lift or lower the pen at the cursor; returns whether it is now down."""
        self.show_cursor = True
        self.pen_down = not self.pen_down
        if self.pen_down:
            self.begin_stroke(self.cursor[0] + 0.5, self.cursor[1] + 0.5)
        else:
            self.end_stroke()
        self.refresh()
        return self.pen_down

    # ------------------------------------------------------------------ mouse

    def set_scale(self, scale: int) -> None:
        """Show each pixel ``scale`` columns wide (and ``scale`` half-rows tall)."""
        self.scale = max(1, int(scale))
        self.styles.width = WIDTH * self.scale
        self.styles.height = HEIGHT * self.scale // 2
        self.refresh(layout=True)

    def pixel_at(self, event: events.MouseEvent) -> tuple[float, float]:
        """Continuous pixel coordinates under the pointer (the cell's centre for whole cells)."""
        px, py = event.pointer_x, event.pointer_y
        if float(px).is_integer():
            px += 0.5
        if float(py).is_integer():
            py += 0.5
        return px / self.scale, 2.0 * py / self.scale

    def _follow(self, x: float, y: float) -> None:
        self.cursor = (min(max(int(x), 0), WIDTH - 1), min(max(int(y), 0), HEIGHT - 1))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button not in (0, 1):
            return
        event.stop()
        self.focus()
        self.capture_mouse()
        self._mouse_drawing = True
        x, y = self.pixel_at(event)
        self._follow(x, y)
        self.begin_stroke(x, y)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self._mouse_drawing:
            return
        event.stop()
        x, y = self.pixel_at(event)
        self._follow(x, y)
        self.continue_stroke(x, y)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if not self._mouse_drawing:
            return
        event.stop()
        self._mouse_drawing = False
        self.release_mouse()
        self.end_stroke()
        self.refresh()

    # ------------------------------------------------------------------ drawing it

    def render_lines_text(self) -> list[Text]:
        """The canvas (with the cursor) as lines of text."""
        if self.ascii:
            return self._ascii_lines()
        rgb = sequential(self.pixels, "gray")
        if self.show_cursor:
            mask = _cursor_mask(*self.cursor)
            rgb[mask] = _PEN_DOWN if self.pen_down else _PEN_UP
        return halfblock_lines(scale_nearest(rgb, self.scale))

    def _ascii_lines(self) -> list[Text]:
        # One character per cell, like half-blocks: the brighter of its two pixels picks the glyph.
        pairs = np.maximum(self.pixels[0::2], self.pixels[1::2])
        levels = np.rint(np.clip(pairs, 0, 1) * (len(GRAY_RAMP) - 1)).astype(np.intp)
        grid = [[GRAY_RAMP[v] for v in row] for row in levels.tolist()]
        if self.show_cursor:
            mask = _cursor_mask(*self.cursor)
            cells = np.argwhere(mask[0::2] | mask[1::2])
            for r, c in cells.tolist():
                grid[r][c] = "o"
            grid[self.cursor[1] // 2][self.cursor[0]] = "X" if self.pen_down else "+"
        lines = []
        for row in grid:
            line = "".join(ch * self.scale for ch in row)
            lines.extend([line] * max(1, self.scale))
        return [Text(line) for line in lines[: HEIGHT * self.scale // 2]]

    def render(self) -> Text:
        return Text("\n").join(self.render_lines_text())
