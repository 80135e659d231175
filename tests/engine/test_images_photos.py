"""Photos that used to go wrong: a thin digit on squared paper, a digit touching its form box.
Each is what a user sees: the right digit, and the box drawn around the digit and nothing else
(no grid, no frame)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imagestyles import _jpeg, coverage  # noqa: E402

from mnist_tui.engine.images import preprocess_image  # noqa: E402
from mnist_tui.engine.predict import probabilities  # noqa: E402

W, H = 800, 600
DIGIT_H = 240.0  # the pen's centre line; the ink reaches a pen's half-width beyond


def ink(digit: int, pen: float, centre: tuple[float, float] = (W / 2, H / 2)) -> np.ndarray:
    return coverage(digit, (W, H), DIGIT_H, pen, centre, seed=digit)


def source_box(found: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(found > 0.3)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def read(shipped, image: Image.Image):  # noqa: ANN001, ANN201
    pre = preprocess_image(image)
    assert pre.found, pre.message
    return int(np.argmax(probabilities(shipped, pre.pixels))), pre.source_box


def boxed_tightly(box, truth, slack: int = 12) -> bool:  # noqa: ANN001
    """The box found is the digit's own, within a few pixels (JPEG, antialiasing)."""
    return all(abs(a - b) <= slack for a, b in zip(box, truth, strict=True))


def squared(digit: int) -> tuple[Image.Image, np.ndarray]:
    """A thin-pen digit on squared paper: a 5 mm grid, slightly askew, uneven light."""
    page = Image.new("RGB", (W, H), (248, 248, 244))
    draw = ImageDraw.Draw(page)
    for k in range(-2, W // 28 + 3):
        draw.line([(k * 28, 0), (k * 28 - 6, H)], fill=(150, 180, 210), width=2)
    for k in range(-2, H // 28 + 3):
        draw.line([(0, k * 28), (W, k * 28 + 8)], fill=(150, 180, 210), width=2)
    written = ink(digit, 9)
    rgb = np.asarray(page, dtype=np.float32)
    rgb = rgb * (1 - written[..., None]) + np.float32([30, 30, 40]) * written[..., None]
    xx = np.arange(W, dtype=np.float32)[None, :, None]
    noise = np.random.default_rng(digit).normal(0, 3, rgb.shape)
    return _jpeg(rgb * (1 - 0.25 * xx / W) + noise), written


def test_a_thin_digit_on_squared_paper_leaves_the_grid_behind(shipped) -> None:  # noqa: ANN001
    right = 0
    for digit in range(10):
        image, written = squared(digit)
        guess, box = read(shipped, image)
        assert boxed_tightly(box, source_box(written)), (digit, box, source_box(written))
        right += guess == digit
    assert right >= 9, right


def in_a_form(digit: int) -> tuple[Image.Image, np.ndarray, tuple[int, int, int, int]]:
    """A digit written in the first of a row of printed boxes, touching the box's side."""
    page = Image.new("RGB", (W, H), (250, 250, 250))
    draw = ImageDraw.Draw(page)
    side, top, left = 300, 150, 40
    for k in range(3):
        x = left + k * (side + 14)
        draw.rectangle((x, top, x + side, top + side), outline=(40, 40, 40), width=4)
    rgb = np.asarray(page, dtype=np.float32)
    # The digit's left edge on the box's left side: written a little too far left.
    width = 0.6 * DIGIT_H + 14
    written = ink(digit, 14, (left + 2 + width / 2, top + side / 2))
    rgb = rgb * (1 - written[..., None]) + np.float32([20, 30, 110]) * written[..., None]
    noise = np.random.default_rng(digit).normal(0, 2, rgb.shape)
    return _jpeg(rgb + noise, 85), written, (left, top, left + side, top + side)


def test_a_digit_touching_its_form_box_is_read_without_the_box(shipped) -> None:  # noqa: ANN001
    right = 0
    for digit in range(10):
        image, written, frame = in_a_form(digit)
        guess, box = read(shipped, image)
        # Not the box: the box's far side and its top and bottom are well away from the digit.
        assert box[2] < frame[2] - 30 and box[1] > frame[1] + 10 and box[3] < frame[3] - 10
        right += guess == digit
    assert right >= 9, right
