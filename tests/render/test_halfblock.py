from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mnist_tui.render import (
    diverging,
    fit_scale,
    gray_image,
    halfblock,
    halfblock_lines,
    scale_nearest,
    signed_image,
)

RED, BLUE, GREEN, WHITE = (255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 255)


def test_two_pixels_stack_into_one_cell_top_fg_bottom_bg(cell_colors) -> None:
    text = halfblock(np.array([[RED], [BLUE]], dtype=np.uint8))
    assert text.plain == "▀"
    assert cell_colors(text) == [(RED, BLUE)]


def test_two_by_two_is_one_row_of_two_cells(cell_colors) -> None:
    image = np.array([[RED, GREEN], [BLUE, WHITE]], dtype=np.uint8)
    lines = halfblock_lines(image)
    assert [line.plain for line in lines] == ["▀▀"]
    assert cell_colors(lines[0]) == [(RED, BLUE), (GREEN, WHITE)]


def test_odd_height_pairs_last_row_with_black(cell_colors) -> None:
    lines = halfblock_lines(np.array([[RED], [BLUE], [GREEN]], dtype=np.uint8))
    assert len(lines) == 2
    assert cell_colors(lines[1]) == [(GREEN, (0, 0, 0))]


def test_scaled_kernel_stays_crisp(cell_colors) -> None:
    kernel = np.arange(9, dtype=float).reshape(3, 3)
    big = scale_nearest(kernel, 2)
    assert big.shape == (6, 6)
    for y in range(3):
        for x in range(3):
            assert np.all(big[2 * y : 2 * y + 2, 2 * x : 2 * x + 2] == kernel[y, x])
    # Rendered, each source pixel is a uniform 2-cell-wide, 1-cell-tall block.
    lines = signed_image(kernel - 4, scale=2).split("\n")
    assert [line.cell_len for line in lines] == [6, 6, 6]
    for line in lines:
        cells = cell_colors(line)
        assert all(fg == bg for fg, bg in cells)
        assert cells[0::2] == cells[1::2]
        assert len(set(cells)) == 3


def test_fit_scale_picks_largest_fitting_factor() -> None:
    assert fit_scale(28, 28, 80, 24) == 1  # 56 cols x 28 rows would not fit 24 rows
    assert fit_scale(28, 28, 80, 28) == 2
    assert fit_scale(3, 3, 12, 6) == 4
    assert fit_scale(28, 28, 10, 5) == 1  # never 0, even if nothing fits


def test_digit_is_28_columns_by_14_rows_and_uint8_matches_float() -> None:
    rng = np.random.default_rng(0)
    digit = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
    text = gray_image(digit)
    lines = text.split("\n")
    assert len(lines) == 14 and all(line.cell_len == 28 for line in lines)
    assert text == gray_image(digit / 255.0)


def test_flat_regions_merge_into_one_span_per_row() -> None:
    lines = gray_image(np.full((28, 28), 0.5)).split("\n")
    assert all(len(line.spans) == 1 for line in lines)


def test_signed_image_puts_vmax_at_the_scale_ends(cell_colors) -> None:
    text = signed_image(np.array([[-2.0], [2.0]]), vmax=2.0)
    ((fg, bg),) = cell_colors(text)
    assert fg == tuple(diverging(-1.0).tolist()) and bg == tuple(diverging(1.0).tolist())


def test_bad_shapes_say_what_was_expected() -> None:
    with pytest.raises(ValueError, match="H, W, 3"):
        halfblock(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="positive"):
        scale_nearest(np.zeros((2, 2)), 0)


def test_import_pulls_in_neither_torch_nor_textual() -> None:
    code = (
        "import sys, mnist_tui.render; "
        "print(sorted(m for m in ('torch', 'textual', 'rich.console') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
