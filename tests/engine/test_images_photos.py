"""Photos that used to go wrong: a thin digit on squared paper, a digit touching its form box, a
thick marker on coloured paper, a page turned in the photo with the table showing past it.
Each is what a user sees: the right digit, and the box drawn around the digit and nothing else
(no grid, no frame, no table)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imagestyles import _jpeg, coverage, stroke_ink, tilted  # noqa: E402

from mnist_tui.engine.images import EDGE_MESSAGE, preprocess_image  # noqa: E402
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


def marker_on_coloured_paper(digit: int) -> Image.Image:
    """A thick red marker on green paper of about the same brightness: the gaps between the
    arms of a 3 or a 5 are as narrow as the strokes."""
    written = coverage(digit, (W, H), 200, 50, seed=digit)
    paper = np.full((H, W, 3), (110, 170, 110), dtype=np.float32)
    rgb = paper * (1 - written[..., None]) + np.float32([200, 40, 40]) * written[..., None]
    xx = np.arange(W, dtype=np.float32)[None, :, None]
    noise = np.random.default_rng(digit).normal(0, 3, rgb.shape)
    return _jpeg(rgb * (1 - 0.25 * xx / W) + noise)


def test_a_thick_marker_on_coloured_paper_is_read_as_the_ink(shipped) -> None:  # noqa: ANN001
    # Before, the gaps inside 2, 3, 5, 6, 8 and 9 passed for light ink on dark paper.
    guesses = [read(shipped, marker_on_coloured_paper(digit))[0] for digit in range(10)]
    assert sum(g == d for d, g in enumerate(guesses)) >= 9, guesses


def test_a_wedge_of_table_past_the_turned_page_is_not_taken_for_the_digit(shipped) -> None:  # noqa: ANN001
    # Pages turned and seen in perspective so that a corner runs off the top of the picture,
    # leaving a thin wedge of the table there; the digit is in the middle of the page.
    for digit, seed in ((1, 1031), (7, 1047), (7, 1187)):
        pre = preprocess_image(tilted(stroke_ink(digit, seed), seed))
        assert pre.found, pre.message
        assert int(np.argmax(probabilities(shipped, pre.pixels))) == digit, (digit, seed)
        assert pre.message == "", pre.message  # the digit itself is whole
        assert pre.source_box[1] > 100, pre.source_box  # not the wedge along the top


def test_a_digit_cut_by_the_edge_of_a_page_photo_still_gets_the_warning() -> None:
    page = np.full((H, W, 3), (246, 244, 236), dtype=np.float32)
    for y in range(20, H, 36):
        page[y : y + 2] = (140, 170, 215)
    written = ink(0, 22, (60, H / 2))  # the 0's left side is off the picture
    rgb = page * (1 - written[..., None]) + np.float32([30, 35, 80]) * written[..., None]
    pre = preprocess_image(_jpeg(rgb))
    assert pre.found and pre.message == EDGE_MESSAGE
    assert pre.source_box[0] == 0


def turned_page(digit: int, angle: float) -> Image.Image:
    """A lined page photographed turned by ``angle`` degrees, the table in the corners."""
    page = Image.new("RGB", (W, H), (246, 244, 236))
    draw = ImageDraw.Draw(page)
    for y in range(20, H, 36):
        draw.line([(0, y), (W, y)], fill=(140, 170, 215), width=2)
    rgb = np.asarray(page, dtype=np.float32)
    written = ink(digit, 16)
    rgb = rgb * (1 - written[..., None]) + np.float32([30, 35, 80]) * written[..., None]
    flat = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    return flat.rotate(angle, Image.Resampling.BILINEAR, fillcolor=(90, 70, 50))


def lean(pixels: np.ndarray) -> float:
    """How far the ink's long axis leans from upright, in degrees (second moments)."""
    ys, xs = np.nonzero(pixels > 0.3)
    weights = pixels[ys, xs]
    y0, x0 = np.average(ys, weights=weights), np.average(xs, weights=weights)
    cov = np.cov(np.stack([xs - x0, ys - y0]), aweights=weights)
    return float(np.degrees(0.5 * np.arctan2(2 * cov[0, 1], cov[1, 1] - cov[0, 0])))


def test_a_digit_on_a_turned_page_is_turned_back_upright_with_the_lines(shipped) -> None:  # noqa: ANN001
    for angle in (-18, 18):
        image = turned_page(1, angle)
        pre = preprocess_image(image)
        assert pre.found, pre.message
        # Before, the 1 reached the network leaning by the page's whole turn.
        assert abs(lean(pre.pixels)) < 5, (angle, lean(pre.pixels))
        assert int(np.argmax(probabilities(shipped, pre.pixels))) == 1
    # A page photographed straight is left as it is: an upright 1 stays upright.
    assert abs(lean(preprocess_image(turned_page(1, 0)).pixels)) < 5
