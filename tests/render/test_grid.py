from __future__ import annotations

import numpy as np
import pytest
from rich.text import Text

from mnist_tui.render import diverging, filter_grid, legend, tile_grid, to_ansi


@pytest.fixture
def filters() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(32, 3, 3))


def _labels(lines: list[Text]) -> list[int]:
    """Indices in reading order, taken from the lines that hold only numbers (the labels)."""
    rows = [line.plain.split() for line in lines]
    return [int(tok) for row in rows if row and all(t.isdigit() for t in row) for tok in row]


def test_32_filters_fit_80_columns_labelled_in_order(filters) -> None:
    lines = filter_grid(filters, max_width=80)
    assert max(line.cell_len for line in lines) <= 80
    assert _labels(lines) == list(range(32))
    assert len(lines) <= 20  # the automatic scale keeps the grid on one screen


def test_explicit_scale_makes_crisp_tiles(filters, cell_colors) -> None:
    lines = filter_grid(filters[:2], max_width=80, scale=2)
    assert [line.plain for line in lines[1:]] == ["▀▀▀▀▀▀ ▀▀▀▀▀▀"] * 3
    for line in lines[1:]:
        assert all(fg == bg for fg, bg in cell_colors(line) if fg is not None)


def test_shared_scale_keeps_weak_filter_dim_per_filter_stretches_it(cell_colors) -> None:
    strong = np.linspace(-1.0, 1.0, 9).reshape(3, 3)
    weak = strong * 0.01
    bank = np.stack([strong, weak])
    brightest = tuple(diverging(1.0).tolist())
    zero = diverging(0.0).astype(int)

    def tile_colours(lines: list[Text], tile: int) -> set[tuple[int, int, int]]:
        colours = set()
        for line in lines[1:]:
            cells = cell_colors(line)[tile * 7 : tile * 7 + 6]
            colours |= {c for pair in cells for c in pair}
        return colours

    shared = filter_grid(bank, scale=2, max_width=80)
    stretched = filter_grid(bank, scale=2, max_width=80, per_filter_scale=True)
    weak_shared = tile_colours(shared, 1)
    assert brightest not in weak_shared
    assert all(np.abs(np.array(c) - zero).max() <= 8 for c in weak_shared)
    assert brightest in tile_colours(stretched, 1)
    assert tile_colours(shared, 0) == tile_colours(stretched, 0)


def test_ascii_grid_has_no_blocks_or_escape_codes(filters) -> None:
    lines = filter_grid(filters, max_width=80, ascii=True)
    ansi = to_ansi(lines)
    assert "▀" not in ansi and "\x1b" not in ansi
    assert _labels(lines) == list(range(32))
    assert max(line.cell_len for line in lines) <= 80
    assert "=" in ansi and "#" in ansi  # the most negative and most positive weights


def test_filters_must_be_three_dimensional() -> None:
    with pytest.raises(ValueError, match="N, kh, kw"):
        filter_grid(np.zeros((3, 3)))


def test_tile_grid_wraps_pads_and_cuts() -> None:
    tiles = [
        ("a", ["xx", "xx", "xx"]),
        ("bb", Text("yyy")),
        ("c", ["z" * 12]),
    ]
    lines = tile_grid(tiles, max_width=10, gap=1)
    assert [line.plain for line in lines] == [
        "a  bb ",
        "xx yyy",
        "xx    ",
        "xx    ",
        "    c     ",
        "zzzzzzzzzz",
    ]


def test_tile_grid_row_gap_separates_rows() -> None:
    lines = tile_grid([("0", ["#"]), ("1", ["#"])], max_width=1, row_gap=1)
    assert [line.plain for line in lines] == ["0", "#", "", "1", "#"]


def test_legend_shows_scale_ends_and_zero(cell_colors) -> None:
    bar, labels = legend(0.25, width=21)
    assert bar.cell_len == labels.cell_len == 21
    assert labels.plain.startswith("-0.25") and labels.plain.endswith("+0.25")
    assert labels.plain[10] == "0"
    cells = cell_colors(bar)
    assert cells[0][1] == tuple(diverging(-1.0).tolist())
    assert cells[-1][1] == tuple(diverging(1.0).tolist())
    ascii_bar, _ = legend(0.25, width=21, ascii=True)
    assert ascii_bar.plain[0] == "=" and ascii_bar.plain[-1] == "#" and not ascii_bar.spans
