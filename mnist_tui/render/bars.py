"""Probability bars for a prediction and a coloured count grid for a confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.style import Style
from rich.text import Text

from mnist_tui.render.colors import ColorDepth, contrasting_text, current_depth, sequential

# Index k is a bar end k/8 of a cell wide; index 0 is no partial cell.
EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
FULL_BLOCK = "█"
WINNER_MARK = "◀"
ASCII_WINNER_MARK = "<"


def bar_cells(fraction: float, width: int, ascii: bool = False) -> str:
    """A bar ``fraction`` of ``width`` cells long, space-padded to ``width``.

    Unicode bars resolve to an eighth of a cell; ASCII bars ("#") to whole cells.
    """
    fraction = float(np.clip(np.nan_to_num(fraction), 0.0, 1.0))
    if ascii:
        filled = "#" * int(round(fraction * width))
    else:
        eighths = int(round(fraction * width * 8))
        filled = FULL_BLOCK * (eighths // 8) + EIGHTHS[eighths % 8]
    return filled + " " * (width - len(filled))


def probability_bars(
    probs: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None = None,
    width: int = 30,
    highlight: int | None = None,
    ascii: bool = False,
    bar_style: str = "cyan",
    highlight_style: str = "bold green",
) -> list[Text]:
    """One line per class: label, a bar proportional to its probability, the percentage.

    The ``highlight`` class (default: the most probable) is drawn in ``highlight_style`` and marked
    with "◀" ("<" in ASCII). ``ascii=True`` gives unstyled text with "#" bars.
    """
    p = np.clip(np.nan_to_num(np.asarray(probs, dtype=np.float64).ravel()), 0.0, 1.0)
    names = [str(i) for i in range(p.size)] if labels is None else [str(x) for x in labels]
    if len(names) != p.size:
        raise ValueError(f"Got {len(names)} labels for {p.size} probabilities.")
    if highlight is None and p.size:
        highlight = int(np.argmax(p))
    label_width = max((len(s) for s in names), default=0)
    mark = ASCII_WINNER_MARK if ascii else WINNER_MARK

    lines: list[Text] = []
    for index, (name, value) in enumerate(zip(names, p.tolist(), strict=True)):
        winner = index == highlight
        bar = bar_cells(value, width, ascii)
        tail = f" {value * 100:5.1f}%" + (f" {mark}" if winner else "  ")
        if ascii:
            lines.append(Text(f"{name:>{label_width}} {bar}{tail}"))
            continue
        line = Text()
        line.append(f"{name:>{label_width}} ", style="bold" if winner else "")
        line.append(bar, style=highlight_style if winner else bar_style)
        line.append(tail, style=highlight_style if winner else "")
        lines.append(line)
    return lines


def heatmap(
    matrix: np.ndarray,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    ascii: bool = False,
    cell_width: int | None = None,
    corner: str = "",
    depth: ColorDepth | None = None,
) -> list[Text]:
    """Draw a count matrix (e.g. a 10x10 confusion matrix, rows = true, columns = predicted).

    Returns a header line of column labels, then one line per row. Each non-zero cell shows its
    count on a viridis background scaled by log(1 + count), so a handful of errors is still visible
    next to a diagonal of thousands; zero cells show a dim "·" ("." in ASCII). Diagonal counts are
    bold. Cells are as wide as the largest count plus two (at least 4): 10 classes fit 80 columns.
    Backgrounds come from viridis's table for ``depth``; depth ``"none"`` draws as ``ascii``.
    """
    depth = current_depth(depth)
    ascii = ascii or depth == "none"
    counts = np.nan_to_num(np.asarray(matrix, dtype=np.float64))
    if counts.ndim != 2:
        raise ValueError(f"Expected a 2-D matrix, got shape {counts.shape}.")
    n_rows, n_cols = counts.shape
    counts = np.rint(np.clip(counts, 0, None)).astype(np.int64)
    rows = [str(i) for i in range(n_rows)] if row_labels is None else [str(x) for x in row_labels]
    cols = [str(i) for i in range(n_cols)] if col_labels is None else [str(x) for x in col_labels]
    if len(rows) != n_rows or len(cols) != n_cols:
        raise ValueError(f"Got {len(rows)}x{len(cols)} labels for a {n_rows}x{n_cols} matrix.")
    biggest = int(counts.max()) if counts.size else 0
    if cell_width is None:
        cell_width = max(4, len(str(biggest)) + 2, max((len(c) + 1 for c in cols), default=0))
    label_width = max([len(r) for r in rows] + [len(corner)])

    # log1p keeps one stray error distinguishable from zero and from a diagonal of thousands.
    level = np.log1p(counts) / np.log1p(biggest) if biggest > 0 else np.zeros(counts.shape)
    background = sequential(0.15 + 0.85 * level, "viridis", depth)
    foreground = contrasting_text(background)

    header = Text(f"{corner:>{label_width}} ", style="" if ascii else "dim")
    for name in cols:
        header.append(f"{name:>{cell_width - 1}} ", style="" if ascii else "bold")
    lines = [header]
    for i, name in enumerate(rows):
        line = Text(f"{name:>{label_width}} ", style="" if ascii else "bold")
        for j in range(n_cols):
            count = int(counts[i, j])
            if count == 0:
                zero = "." if ascii else "·"
                line.append(f"{zero:>{cell_width - 1}} ", style="" if ascii else "dim")
                continue
            cell = f"{count:>{cell_width - 1}} "
            if ascii:
                line.append(cell)
                continue
            fr, fg, fb = foreground[i, j].tolist()
            br, bg, bb = background[i, j].tolist()
            style = Style(color=f"rgb({fr},{fg},{fb})", bgcolor=f"rgb({br},{bg},{bb})", bold=i == j)
            line.append(cell, style=style)
        lines.append(line)
    return lines
