"""A widget that shows lines of text art (half-block or ASCII), and helpers to size pictures.

Every picture screen (weights, predict, evaluate, browse) hands ``ArtView`` a list of rich
``Text`` lines from ``mnist_tui.render``; the view never wraps them, so the art stays intact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.text import Text
from textual.widgets import Static

from mnist_tui.render import ascii_image, fit_scale, gray_image, to_unit


class ArtView(Static):
    """Shows a list of rich ``Text`` lines as they are: no wrapping, cropped if too narrow."""

    ALLOW_SELECT = False  # selecting half-blocks copies "▀▀▀" and repaints the art in a tint

    DEFAULT_CSS = """
    ArtView {
        width: auto;
        height: auto;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self, lines: Sequence[Text] = (), **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.lines: list[Text] = []
        if lines:
            self.set_lines(lines)

    def set_lines(self, lines: Sequence[Text | str]) -> None:
        """Replace the picture with ``lines``."""
        self.lines = [line if isinstance(line, Text) else Text(line) for line in lines]
        text = Text("\n").join(self.lines) if self.lines else Text("")
        text.no_wrap = True
        self.update(text)

    @property
    def plain(self) -> str:
        """The picture's characters without styles (what tests and screen readers see)."""
        return "\n".join(line.plain for line in self.lines)


def shrink(a: np.ndarray, max_h: int, max_w: int) -> np.ndarray:
    """Downsample a 2-D intensity image (box filter) so it is at most max_h x max_w pixels."""
    a = to_unit(np.asarray(a))
    h, w = a.shape
    factor = max(h / max(1, max_h), w / max(1, max_w))
    if factor <= 1:
        return a
    from PIL import Image

    size = (max(1, int(w / factor)), max(1, int(h / factor)))
    img = Image.fromarray((a * 255).astype(np.uint8))
    return np.asarray(img.resize(size, Image.Resampling.BOX), dtype=np.float32) / 255.0


def picture(a: np.ndarray, max_cols: int, max_rows: int, ascii: bool = False) -> list[Text]:
    """A grayscale image fitted to max_cols x max_rows cells: scaled up crisply (nearest
    neighbour) when small, box-filtered down when big. Half-blocks, or ASCII (2 chars a pixel)."""
    max_cols, max_rows = max(2, max_cols), max(1, max_rows)
    if ascii:
        # One ASCII row holds one pixel row, two characters wide.
        a = shrink(a, max_rows, max_cols // 2)
        return [Text(line) for line in ascii_image(a, width_scale=2)]
    a = shrink(a, 2 * max_rows, max_cols)
    scale = fit_scale(a.shape[0], a.shape[1], max_cols, max_rows)
    return list(gray_image(a, scale=scale).split("\n", allow_blank=True))


def digit_tile(image: np.ndarray, half: bool = False, ascii: bool = False) -> list[Text]:
    """A 28x28 digit as a tile: 28 cols x 14 rows, or 14 x 7 with ``half`` (2x2 averaged)."""
    a = to_unit(np.asarray(image))
    if half:
        a = a.reshape(14, 2, 14, 2).mean(axis=(1, 3))
    if ascii:
        # Average row pairs so ASCII has the half-block footprint (w cols x h/2 rows).
        h = a.shape[0] // 2 * 2
        a = a[:h].reshape(h // 2, 2, a.shape[1]).mean(axis=1)
        return [Text(line) for line in ascii_image(a, width_scale=1)]
    return list(gray_image(a).split("\n", allow_blank=True))


def side_by_side(
    blocks: Sequence[Sequence[Text]], widths: Sequence[int], gap: int = 1
) -> list[Text]:
    """Join blocks of lines horizontally, each padded to its width, ``gap`` spaces between."""
    height = max((len(b) for b in blocks), default=0)
    out: list[Text] = []
    for y in range(height):
        line = Text()
        for i, (block, width) in enumerate(zip(blocks, widths, strict=True)):
            if i:
                line.append(" " * gap)
            piece = block[y].copy() if y < len(block) else Text("")
            if piece.cell_len > width:
                piece.truncate(width)
            piece.append(" " * (width - piece.cell_len))
            line.append_text(piece)
        line.rstrip()
        out.append(line)
    return out
