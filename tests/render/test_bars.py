from __future__ import annotations

import numpy as np

from mnist_tui.render import bar_cells, heatmap, probability_bars, to_ansi
from mnist_tui.render.bars import EIGHTHS

PROBS = [0.01, 0.02, 0.05, 0.6, 0.1, 0.08, 0.04, 0.03, 0.05, 0.02]


def _bar_eighths(line: str) -> int:
    return sum(8 if ch == "█" else EIGHTHS.index(ch) for ch in line if ch == "█" or ch in "▏▎▍▌▋▊▉")


def test_winner_is_marked_and_highlighted() -> None:
    lines = probability_bars(PROBS)
    marked = [i for i, line in enumerate(lines) if "◀" in line.plain]
    assert marked == [3]
    assert "60.0%" in lines[3].plain
    winner_styles = {str(span.style) for span in lines[3].spans}
    other_styles = {str(span.style) for span in lines[0].spans}
    assert "bold green" in winner_styles and "bold green" not in other_styles


def test_bar_lengths_follow_probability() -> None:
    lines = probability_bars(PROBS, width=20)
    lengths = [_bar_eighths(line.plain) for line in lines]
    order = np.argsort(PROBS, kind="stable")
    assert all(lengths[a] <= lengths[b] for a, b in zip(order, order[1:], strict=False))
    assert lengths[3] == round(0.6 * 20 * 8)
    assert len({line.cell_len for line in lines}) == 1  # percentages line up


def test_eighth_blocks_resolve_fractions_of_a_cell() -> None:
    assert bar_cells(0.5, 1) == "▌"
    assert bar_cells(1.0, 4) == "████"
    assert bar_cells(0.0, 3) == "   "
    assert bar_cells(0.5, 4, ascii=True) == "##  "


def test_ascii_bars_are_plain_and_marked() -> None:
    lines = probability_bars(PROBS, labels=list("abcdefghij"), width=10, ascii=True, highlight=4)
    ansi = to_ansi(lines)
    assert "\x1b" not in ansi and "█" not in ansi
    assert all(line.plain.startswith(ch) for line, ch in zip(lines, "abcdefghij", strict=True))
    assert [i for i, line in enumerate(lines) if line.plain.endswith("<")] == [4]


def _confusion() -> np.ndarray:
    matrix = np.diag(np.array([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]))
    matrix[3, 5] = 7
    matrix[4, 9] = 1
    return matrix


def test_heatmap_shows_every_diagonal_count_in_80_columns() -> None:
    matrix = _confusion()
    lines = heatmap(matrix)
    assert len(lines) == 11  # header + 10 rows
    assert max(line.cell_len for line in lines) <= 80
    for i, line in enumerate(lines[1:]):
        cells = line.plain.split()
        assert cells[0] == str(i)
        assert cells[1 + i] == str(matrix[i, i])


def test_heatmap_makes_a_single_error_visible(cell_colors) -> None:
    row4 = heatmap(_confusion())[5]
    cells = cell_colors(row4)
    one = row4.plain.index(" 1 ", 10) + 1
    zero = row4.plain.index("·")
    diagonal = row4.plain.index("982")
    assert cells[one][1] is not None  # a coloured background, unlike the empty cells
    assert cells[zero][1] is None
    assert cells[one][1] != cells[diagonal][1]


def test_ascii_heatmap_is_plain() -> None:
    lines = heatmap(_confusion(), ascii=True)
    ansi = to_ansi(lines)
    assert "\x1b" not in ansi and "1135" in ansi and "·" not in ansi
