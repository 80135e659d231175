from __future__ import annotations

import numpy as np

from mnist_tui.render import GRAY_RAMP, SIGNED_RAMP, ascii_image, ascii_signed


def test_ascii_image_uses_ramp_ends_two_chars_per_pixel() -> None:
    lines = ascii_image(np.array([[0.0, 1.0], [0.5, 0.0]]))
    assert lines[0] == GRAY_RAMP[0] * 2 + GRAY_RAMP[-1] * 2
    assert len(lines) == 2 and all(len(line) == 4 for line in lines)
    assert all("▀" not in line and "\x1b" not in line for line in lines)


def test_ascii_image_accepts_uint8_and_darker_is_less_ink() -> None:
    lines = ascii_image(np.array([[0, 64, 128, 192, 255]], dtype=np.uint8), width_scale=1)
    ink = [GRAY_RAMP.index(ch) for ch in lines[0]]
    assert ink == sorted(ink) and len(set(ink)) == 5
    assert lines[0][0] == " " and lines[0][-1] == "@"


def test_ascii_signed_tells_negative_from_positive() -> None:
    (line,) = ascii_signed(np.array([[-3.0, -1.0, 0.0, 1.0, 3.0]]), vmax=3.0, width_scale=1)
    assert line[0] == SIGNED_RAMP[0] == "=" and line[-1] == SIGNED_RAMP[-1] == "#"
    assert line[2] == " "
    negative, positive = set(SIGNED_RAMP[:3]), set(SIGNED_RAMP[4:])
    assert line[1] in negative and line[3] in positive and not negative & positive


def test_ascii_signed_defaults_vmax_to_largest_magnitude() -> None:
    assert ascii_signed(np.array([[-0.01, 0.02]]), width_scale=1) == ascii_signed(
        np.array([[-1.0, 2.0]]), width_scale=1
    )
