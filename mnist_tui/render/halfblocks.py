"""Half-block images: two pixels per text cell, drawn as "▀" with fg = top pixel, bg = bottom pixel.

A terminal cell is about twice as tall as it is wide, so stacking two square pixels in one cell
keeps the picture's aspect ratio: a 28x28 digit becomes 28 columns by 14 rows.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Span, Text

from mnist_tui.render.colors import (
    ColorDepth,
    SequentialMap,
    current_depth,
    diverging,
    diverging_shades,
    normalise_signed,
    sequential,
    to_unit,
)
from mnist_tui.render.palette import ANSI16_RGB, SHADES

UPPER_HALF = "▀"


def _pack(rgb: np.ndarray) -> np.ndarray:
    """Pack (..., 3) uint8 colours into one int64, so a cell's two colours compare as one key."""
    rgb = rgb.astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _color(packed: int) -> Color:
    return Color.from_rgb((packed >> 16) & 0xFF, (packed >> 8) & 0xFF, packed & 0xFF)


@lru_cache(maxsize=8192)
def _cell_style(key: int) -> Style:
    """The style for one cell key (top colour << 24 | bottom colour); cached across renders."""
    return Style(color=_color(key >> 24), bgcolor=_color(key & 0xFFFFFF))


def _as_rgb(rgb: np.ndarray) -> np.ndarray:
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"Expected an RGB image of shape (H, W, 3), got {a.shape}.")
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    return a


def halfblock_lines(rgb: np.ndarray) -> list[Text]:
    """Render an (H, W, 3) uint8 image as ceil(H/2) lines of W half-block cells.

    An odd last pixel row is paired with black. Neighbouring cells with the same colours share
    one span, so flat regions cost almost nothing to draw.
    """
    a = _as_rgb(rgb)
    height, width = a.shape[:2]
    if height % 2:
        a = np.concatenate([a, np.zeros((1, width, 3), dtype=np.uint8)], axis=0)
    packed = _pack(a)
    keys = (packed[0::2] << 24) | packed[1::2]
    row_text = UPPER_HALF * width
    lines: list[Text] = []
    for row in keys:
        if width == 0:
            lines.append(Text(""))
            continue
        # Run boundaries: wherever the (top, bottom) pair changes from the previous cell.
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]).tolist()
        ends = starts[1:] + [width]
        row_keys = row[starts].tolist()
        spans = [Span(s, e, _cell_style(k)) for s, e, k in zip(starts, ends, row_keys, strict=True)]
        lines.append(Text(row_text, spans=spans))
    return lines


def halfblock(rgb: np.ndarray) -> Text:
    """Render an (H, W, 3) uint8 image as one multi-line ``Text`` (see ``halfblock_lines``)."""
    return Text("\n").join(halfblock_lines(rgb))


def scale_nearest(a: np.ndarray, factor: int) -> np.ndarray:
    """Upscale the first two axes by an integer factor; repeated pixels keep small kernels crisp."""
    if factor < 1:
        raise ValueError(f"Scale factor must be a positive integer, got {factor}.")
    a = np.asarray(a)
    if factor == 1:
        return a
    return np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)


def fit_scale(h: int, w: int, max_cols: int, max_rows: int) -> int:
    """The largest integer factor at which an h x w image fits max_cols x max_rows half-block cells.

    Half-blocks show two pixel rows per text row. Never returns less than 1, even if 1 does not fit.
    """
    if h <= 0 or w <= 0:
        return 1
    by_cols = max_cols // w
    by_rows = (2 * max_rows) // h
    return max(1, min(by_cols, by_rows))


def gray_image(
    a: np.ndarray,
    scale: int = 1,
    cmap: SequentialMap = "gray",
    depth: ColorDepth | None = None,
) -> Text:
    """Render a 2-D intensity image (float in [0, 1] or uint8) as half-blocks, black to white.

    A 28x28 digit at scale 1 is 28 columns by 14 rows. ``cmap="viridis"`` suits activation maps.
    Colours are the scale's table for ``depth`` (default: the process's depth).
    """
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"Expected a 2-D image, got shape {a.shape}.")
    return halfblock(sequential(scale_nearest(to_unit(a), scale), cmap, depth))


def shade_lines(unit: np.ndarray, width_scale: int = 2) -> list[Text]:
    """A 2-D array in [-1, 1] as two-hue shade glyphs, the 16-colour form of the diverging scale.

    Each value is one row tall and ``width_scale`` cells wide; ``" ░▒▓█"`` grows with |v| in
    bright blue (negative) or yellow (positive) on black, so the sign survives 16 colours.
    """
    level, ink = diverging_shades(unit)
    black = _color(int(_pack(np.array(ANSI16_RGB["black"]))))
    lines: list[Text] = []
    for level_row, ink_row in zip(level.tolist(), _pack(ink).tolist(), strict=True):
        line = Text()
        for lv, colour in zip(level_row, ink_row, strict=True):
            line.append(SHADES[lv] * width_scale, style=Style(color=_color(colour), bgcolor=black))
        lines.append(line)
    return lines


def signed_image(
    a: np.ndarray, vmax: float | None = None, scale: int = 1, depth: ColorDepth | None = None
) -> Text:
    """Render a 2-D signed array (e.g. a conv filter) with the diverging scale, ±vmax at the ends.

    ``vmax`` defaults to the largest magnitude in ``a``; an all-zero array is all zero-colour.
    At 16 colours the picture is shade glyphs (see :func:`shade_lines`), two cells a pixel.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"Expected a 2-D array, got shape {a.shape}.")
    unit = scale_nearest(normalise_signed(a, vmax), scale)
    if current_depth(depth) == "16":
        return Text("\n").join(shade_lines(unit[::2] if scale > 1 else unit))
    return halfblock(diverging(unit, depth))
