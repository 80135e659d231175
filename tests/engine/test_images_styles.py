"""The pictures phones and screens really produce: each harder style is read correctly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imagestyles import HARD_STYLES, stroke_ink  # noqa: E402

from mnist_tui.engine.images import load_image, preprocess_image  # noqa: E402
from mnist_tui.engine.predict import probabilities  # noqa: E402


def picture(style: str, digit: int, tmp_path: Path) -> Image.Image:
    made = HARD_STYLES[style](stroke_ink(digit, digit), digit)
    if isinstance(made, bytes):  # the EXIF-rotated JPEG: opened as a file, as a user would
        path = tmp_path / f"{style}-{digit}.jpg"
        path.write_bytes(made)
        return load_image(path)
    return made


@pytest.mark.parametrize("style", sorted(HARD_STYLES))
def test_each_harder_style_is_read(shipped, style: str, tmp_path: Path) -> None:  # noqa: ANN001
    # The large photo is slow to make: half the digits. The benchmark measures the rate on
    # real handwriting; here one miss is allowed.
    digits = range(0, 10, 2) if style == "small_in_large" else range(10)
    right = 0
    for digit in digits:
        pre = preprocess_image(picture(style, digit, tmp_path))
        assert pre.found, (digit, pre.message)
        right += int(np.argmax(probabilities(shipped, pre.pixels))) == digit
    assert right >= len(digits) - 1, f"{style}: {right}/{len(digits)}"


def test_an_exif_rotated_photo_is_turned_upright(tmp_path: Path) -> None:
    image = picture("exif_rotated", 7, tmp_path)
    assert image.size == (800, 600)  # stored 600x800 sideways; the tag turns it back


@pytest.mark.parametrize("slope", [-0.5, -0.37, -0.36, 0.36, 0.37, 0.5, 1.0])
def test_steep_lines_at_any_slope_never_break_the_pipeline(slope: float) -> None:
    # A line as steep as the search for tilted ruled lines reaches, and steeper, corner to corner.
    grey = np.full((300, 400), 0.95, dtype=np.float32)
    xs = np.arange(400)
    ys = np.clip(np.round(150 + (xs - 200) * slope).astype(int), 0, 299)
    for dy in (0, 1):
        grey[np.clip(ys + dy, 0, 299), xs] = 0.1
    grey[100:200, 180:186] = 0.1  # and a stroke
    grey[:3, -20:] = grey[-3:, :20] = 0.1  # and marks in the far corners
    result = preprocess_image(grey)
    assert result.pixels.shape == (28, 28)
