from __future__ import annotations

import numpy as np

from mnist_tui.render import color_depth, diverging, no_color_requested, sequential, to_ansi
from mnist_tui.render.halfblocks import halfblock


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb, dtype=float) @ np.array([0.2126, 0.7152, 0.0722])


def test_diverging_ends_and_middle_are_distinct_blue_dark_and_orange() -> None:
    neg, zero, pos = diverging(np.array([-1.0, 0.0, 1.0])).astype(int)
    assert neg[2] > neg[0]  # blue dominates red on the negative end
    assert pos[0] > pos[2]  # red dominates blue on the positive end
    assert zero.max() < 60  # zero is near-black, so it recedes
    assert len({tuple(neg), tuple(zero), tuple(pos)}) == 3


def test_diverging_is_symmetric_in_brightness_and_grows_with_magnitude() -> None:
    mags = np.linspace(0.0, 1.0, 11)
    neg = _luminance(diverging(-mags))
    pos = _luminance(diverging(mags))
    assert np.all(np.abs(neg - pos) < 25)
    assert np.all(np.diff(neg) > 0) and np.all(np.diff(pos) > 0)


def test_diverging_clamps_and_treats_nan_as_zero() -> None:
    out = diverging(np.array([-5.0, 5.0, np.nan]))
    expected = diverging(np.array([-1.0, 1.0, 0.0]))
    assert np.array_equal(out, expected)


def test_scales_are_vectorised_uint8() -> None:
    v = np.zeros((4, 5))
    for out in (diverging(v), sequential(v), sequential(v, "viridis")):
        assert out.shape == (4, 5, 3) and out.dtype == np.uint8


def test_gray_runs_black_to_white_and_viridis_dark_to_bright() -> None:
    assert sequential(np.array([0.0, 1.0])).tolist() == [[0, 0, 0], [255, 255, 255]]
    lum = _luminance(sequential(np.linspace(0, 1, 9), "viridis"))
    assert np.all(np.diff(lum) > 0)


def test_environment_helpers() -> None:
    assert no_color_requested({"NO_COLOR": "1"})
    assert no_color_requested({"TERM": "dumb"})
    assert not no_color_requested({"NO_COLOR": "", "TERM": "xterm-256color"})
    assert color_depth({"COLORTERM": "truecolor"}) == "truecolor"
    assert color_depth({"COLORTERM": "24bit"}) == "truecolor"
    assert color_depth({"TERM": "xterm-256color"}) == "256"


def test_rich_downgrades_truecolor_styles_for_256_colour_terminals() -> None:
    image = np.array([[[250, 120, 30]], [[20, 60, 200]]], dtype=np.uint8)
    text = halfblock(image)
    truecolor = to_ansi([text], "truecolor")
    eight_bit = to_ansi([text], "256")
    assert "38;2;250;120;30" in truecolor and "48;2;20;60;200" in truecolor
    assert "38;5;" in eight_bit and "48;5;" in eight_bit
    assert "38;2;" not in eight_bit
