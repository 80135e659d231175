"""Labelled tiles laid out in rows that fit a width: filter grids, activation maps, galleries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from mnist_tui.render.ascii import SIGNED_RAMP, ascii_signed
from mnist_tui.render.colors import ColorDepth, current_depth, diverging, normalise_signed
from mnist_tui.render.halfblocks import halfblock_lines, scale_nearest, shade_lines

TileContent = Text | Sequence[str] | Sequence[Text]
Tile = tuple[str, TileContent]

# Without an explicit height budget the automatic scale keeps the grid within this many lines.
_DEFAULT_GRID_ROWS = 20
_MAX_AUTO_SCALE = 8


def _tile_lines(content: TileContent) -> list[Text]:
    """Normalise a tile's picture to a list of single-line ``Text`` objects."""
    if isinstance(content, Text):
        return list(content.split("\n", allow_blank=True))
    return [line if isinstance(line, Text) else Text(line) for line in content]


def _pad_to(line: Text, width: int) -> Text:
    """A copy of ``line`` cut or space-padded to exactly ``width`` cells."""
    line = line.copy()
    if line.cell_len > width:
        line.truncate(width)
    if line.cell_len < width:
        line.append(" " * (width - line.cell_len))
    return line


def _centred(label: str, width: int, style: str | Style) -> Text:
    """A label centred in ``width`` cells, cut if it is longer."""
    text = Text(label, style=style)
    if text.cell_len > width:
        text.truncate(width)
    left = (width - text.cell_len) // 2
    return Text(" " * left) + text + Text(" " * (width - left - text.cell_len))


def tile_grid(
    tiles: Sequence[Tile],
    max_width: int = 80,
    gap: int = 1,
    row_gap: int = 0,
    label_style: str | Style = "bold",
) -> list[Text]:
    """Lay out labelled tiles left to right in rows no wider than ``max_width`` cells.

    Each tile is ``(label, picture)`` where the picture is a multi-line ``Text`` or a list of lines
    (``str`` or ``Text``); the label is centred above it. Tiles in a row share the tallest tile's
    height; ``row_gap`` blank lines separate rows. A tile wider than ``max_width`` is cut to fit.
    """
    if max_width < 1:
        raise ValueError(f"max_width must be at least 1, got {max_width}.")
    prepared: list[tuple[int, list[Text]]] = []
    for label, content in tiles:
        lines = _tile_lines(content)
        width = max([line.cell_len for line in lines] + [cell_len(label)])
        width = min(width, max_width)
        prepared.append(
            (width, [_centred(label, width, label_style)] + [_pad_to(ln, width) for ln in lines])
        )

    rows: list[list[tuple[int, list[Text]]]] = []
    used = 0
    for tile in prepared:
        if rows and used + gap + tile[0] <= max_width:
            rows[-1].append(tile)
            used += gap + tile[0]
        else:
            rows.append([tile])
            used = tile[0]

    out: list[Text] = []
    spacer = " " * gap
    for index, row in enumerate(rows):
        if index and row_gap:
            out.extend(Text("") for _ in range(row_gap))
        height = max(len(lines) for _, lines in row)
        for y in range(height):
            line = Text()
            for position, (width, lines) in enumerate(row):
                if position:
                    line.append(spacer)
                line.append_text(lines[y] if y < len(lines) else Text(" " * width))
            out.append(line)
    return out


def _auto_scale(
    n: int,
    kh: int,
    kw: int,
    label_width: int,
    max_width: int,
    max_height: int | None,
    gap: int,
) -> int:
    """The largest half-block scale (at most 8) whose whole grid fits max_width x max_height."""
    max_height = _DEFAULT_GRID_ROWS if max_height is None else max_height
    best = 1
    for scale in range(1, _MAX_AUTO_SCALE + 1):
        tile_w = max(kw * scale, label_width)
        if tile_w > max_width:
            break
        per_row = max(1, (max_width + gap) // (tile_w + gap))
        grid_rows = -(-n // per_row)
        if grid_rows * (1 + -(-kh * scale // 2)) > max_height:
            break
        best = scale
    return best


def filter_grid(
    filters: np.ndarray,
    *,
    per_filter_scale: bool = False,
    ascii: bool = False,
    max_width: int = 80,
    scale: int | None = None,
    max_height: int | None = None,
    gap: int = 1,
    labels: Sequence[str] | None = None,
    depth: ColorDepth | None = None,
) -> list[Text]:
    """Draw N kernels (array ``(N, kh, kw)``) as a grid of tiles labelled with their index.

    Colours share one symmetric scale, ``vmax = max |w|`` over all filters, so magnitudes compare
    across tiles; ``per_filter_scale=True`` stretches each filter to its own max instead. ``scale``
    is the half-block pixel size; ``None`` picks the largest that fits ``max_height`` lines (20).
    ``ascii=True`` (or depth ``"none"``) draws with the signed ramp (see ``ascii.SIGNED_RAMP``)
    at a similar footprint; at 16 colours the tiles are two-hue shade glyphs, same footprint.
    """
    depth = current_depth(depth)
    ascii = ascii or depth == "none"
    weights = np.nan_to_num(np.asarray(filters, dtype=np.float64))
    if weights.ndim != 3:
        raise ValueError(f"Expected filters of shape (N, kh, kw), got {weights.shape}.")
    n, kh, kw = weights.shape
    names = [str(i) for i in range(n)] if labels is None else [str(x) for x in labels]
    if len(names) != n:
        raise ValueError(f"Got {len(names)} labels for {n} filters.")
    if scale is None:
        label_width = max((len(s) for s in names), default=1)
        scale = _auto_scale(n, kh, kw, label_width, max_width, max_height, gap)

    if per_filter_scale:
        unit = np.stack([normalise_signed(w) for w in weights]) if n else weights
    else:
        unit = normalise_signed(weights)

    tiles: list[Tile] = []
    if ascii:
        # Each ASCII pixel is 2 columns x 1 row, the footprint of half-block scale 2.
        rows_per_pixel = max(1, scale // 2)
        for name, w in zip(names, unit, strict=True):
            tiles.append((name, ascii_signed(scale_nearest(w, rows_per_pixel), vmax=1.0)))
    elif depth == "16":
        rows_per_pixel = max(1, scale // 2)
        for name, w in zip(names, unit, strict=True):
            tiles.append((name, shade_lines(scale_nearest(w, rows_per_pixel))))
    else:
        rgb = diverging(unit, depth)
        for name, image in zip(names, rgb, strict=True):
            tiles.append((name, halfblock_lines(scale_nearest(image, scale))))
    # ASCII mode promises text with no escape codes at all, so labels go unstyled too.
    return tile_grid(tiles, max_width=max_width, gap=gap, label_style="" if ascii else "bold")


def _format_value(v: float) -> str:
    return f"{v:.3g}"


def legend(
    vmax: float, width: int = 24, ascii: bool = False, depth: ColorDepth | None = None
) -> list[Text]:
    """Two lines explaining the diverging scale: a colour (or ASCII ramp) bar, then -vmax, 0, +vmax.

    The bar is drawn exactly as the art is at ``depth``: exact palette colours at 256, shade
    glyphs at 16, the ASCII ramp with ``ascii`` or no colour. ``width`` is widened if the end
    labels would not fit under the bar.
    """
    depth = current_depth(depth)
    ascii = ascii or depth == "none"
    left = "-" + _format_value(abs(vmax))
    right = "+" + _format_value(abs(vmax))
    width = max(width, len(left) + len(right) + 3)
    values = np.linspace(-1.0, 1.0, width)
    if ascii:
        levels = np.rint((values + 1.0) / 2.0 * (len(SIGNED_RAMP) - 1)).astype(np.intp)
        bar = Text("".join(SIGNED_RAMP[i] for i in levels))
    elif depth == "16":
        bar = shade_lines(values[None, :], width_scale=1)[0]
    else:
        bar = Text()
        for r, g, b in diverging(values, depth).tolist():
            bar.append(" ", style=f"on rgb({r},{g},{b})")
    labels = [" "] * width
    labels[: len(left)] = left
    labels[width - len(right) :] = right
    labels[width // 2] = "0"
    return [bar, Text("".join(labels))]
