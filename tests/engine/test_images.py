"""Preprocessing turns the pictures users send into what MNIST looks like."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imagestyles import (  # noqa: E402
    STYLES,
    mnist_like,
    photo_lined,
    photo_lined_jpeg,
    printed,
    scan,
    transparent,
)

from mnist_tui.engine.imageops import _percentile  # noqa: E402
from mnist_tui.engine.images import (  # noqa: E402
    Preprocessed,
    load_image,
    naive_preprocess,
    preprocess_image,
    preprocess_path,
)
from mnist_tui.engine.preprocess import _fill_holes, is_mnist_format  # noqa: E402

DIGITS = range(10)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@pytest.fixture(scope="module")
def references() -> list[np.ndarray]:
    """Each digit drawn MNIST-style (white on black, 28x28) and preprocessed."""
    return [preprocess_image(mnist_like(d)).pixels for d in DIGITS]


def assert_mnist_shaped(result: Preprocessed) -> None:
    pixels = result.pixels
    assert result.found, result.message
    assert pixels.shape == (28, 28) and pixels.dtype == np.float32
    assert 0.0 <= pixels.min() and pixels.max() <= 1.0
    assert pixels.max() > 0.95, "the strokes should be at full brightness"
    rows = np.nonzero((pixels > 0.05).any(axis=1))[0]
    cols = np.nonzero((pixels > 0.05).any(axis=0))[0]
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert max(height, width) in (19, 20), (height, width)
    assert min(height, width) <= 20
    background = pixels[pixels < 0.5]
    assert np.median(background) < 0.02
    centre = centre_of_mass(pixels)
    assert abs(centre[0] - 14) <= 1.0 and abs(centre[1] - 14) <= 1.0, centre
    # About as much ink as an MNIST digit: strokes neither hairlines nor blobs.
    assert 25 <= (pixels > 0.5).sum() <= 220


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("digit", DIGITS)
def test_every_style_comes_out_mnist_shaped(style: str, digit: int) -> None:
    image = STYLES[style](digit)
    given = np.asarray(image.convert("L"), dtype=np.float32) / 255
    if is_mnist_format(given):
        # Already MNIST-shaped (28x28, 20 px tall, centre of mass in the middle): fed as it is.
        assert np.array_equal(preprocess_image(image).pixels, given)
        return
    assert_mnist_shaped(preprocess_image(image))


@pytest.mark.parametrize(
    ("style", "floor"),
    [
        ("mnist_like", 0.8),
        ("scan", 0.7),
        ("photo_lined", 0.7),
        ("transparent", 0.7),
        ("printed", 0.6),
    ],
)
def test_each_style_looks_like_its_own_digit_more_than_others(
    style: str, floor: float, references: list[np.ndarray]
) -> None:
    own, others = [], []
    for digit in DIGITS:
        pixels = preprocess_image(STYLES[style](digit)).pixels
        scores = [cosine(pixels, ref) for ref in references]
        own.append(scores[digit])
        others.append(np.mean([s for d, s in enumerate(scores) if d != digit]))
        assert scores[digit] > 0.45, (digit, scores)
        assert scores[digit] > others[-1] + 0.05, (digit, scores)
    assert np.mean(own) > floor, own
    assert np.mean(own) > np.mean(others) + 0.25


def test_pipeline_beats_naive_resize_on_a_notebook_photo(references: list[np.ndarray]) -> None:
    ours = [cosine(preprocess_image(photo_lined(d)).pixels, references[d]) for d in DIGITS]
    naive = [cosine(naive_preprocess(photo_lined(d)), references[d]) for d in DIGITS]
    assert np.mean(ours) > 0.7
    assert np.mean(ours) > np.mean(naive) + 0.3, (ours, naive)
    assert all(a > b for a, b in zip(ours, naive, strict=True))


def test_naive_preprocess_only_resizes() -> None:
    picture = scan(3)
    naive = naive_preprocess(picture)
    assert naive.shape == (28, 28) and naive.dtype == np.float32
    # Still dark ink on a light page: nothing inverted, nothing centred.
    assert naive.mean() > 0.7
    expected = np.asarray(picture.resize((28, 28), Image.Resampling.BOX), dtype=np.float32) / 255
    assert np.abs(naive - expected).max() < 0.02


def centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(pixels.shape)
    total = pixels.sum()
    return float((ys * pixels).sum() / total), float((xs * pixels).sum() / total)


def blurred(pixels: np.ndarray) -> np.ndarray:
    """Blur away sub-pixel resampling differences, keeping shape, place and weight."""
    picture = Image.fromarray(np.round(pixels * 255).astype(np.uint8))
    return np.asarray(picture.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32)


def test_mnist_input_passes_through_nearly_unchanged() -> None:
    for digit in DIGITS:
        picture = mnist_like(digit)
        raw = np.asarray(picture, dtype=np.float32) / 255
        # Only the fitting may change it: to exactly 20 px, centred by centre of mass.
        cy, cx = centre_of_mass(raw)
        raw = np.roll(raw, (round(14 - cy), round(14 - cx)), axis=(0, 1))
        result = preprocess_image(picture).pixels
        assert cosine(blurred(result), blurred(raw)) > 0.9, digit
        assert 0.8 < result.sum() / raw.sum() < 1.25, digit


def test_light_ink_on_dark_and_dark_ink_on_light_agree() -> None:
    for digit in (2, 7):
        dark_on_light = preprocess_image(scan(digit)).pixels
        light_on_dark = preprocess_image(ImageOps.invert(scan(digit))).pixels
        assert cosine(dark_on_light, light_on_dark) > 0.95


def test_arrays_and_images_give_the_same_result() -> None:
    picture = scan(5)
    from_image = preprocess_image(picture).pixels
    from_uint8 = preprocess_image(np.asarray(picture)).pixels
    from_float = preprocess_image(np.asarray(picture, dtype=np.float32) / 255).pixels
    assert np.abs(from_image - from_uint8).max() < 1e-5
    assert np.abs(from_image - from_float).max() < 0.02
    rgba = preprocess_image(np.asarray(transparent(5))).pixels
    assert cosine(rgba, preprocess_image(transparent(5)).pixels) > 0.99


@pytest.mark.parametrize(
    ("ink", "hidden"),
    [((0, 0, 0), None), ((255, 255, 255), None), ((20, 20, 200), (255, 0, 255))],
    ids=["black-ink-in-alpha", "white-ink-in-alpha", "colour-hidden-under-alpha"],
)
def test_transparent_drawings_show_their_strokes(
    ink: tuple[int, int, int], hidden: tuple[int, int, int] | None, references: list[np.ndarray]
) -> None:
    result = preprocess_image(transparent(4, ink=ink, hidden=hidden))
    assert_mnist_shaped(result)
    assert cosine(result.pixels, references[4]) > 0.7


def test_thin_and_thick_pens_are_brought_to_mnist_stroke_width(
    references: list[np.ndarray],
) -> None:
    reference_ink = (references[8] > 0.5).sum()
    for thickness in (2.0, 40.0):
        pixels = preprocess_image(scan(8, thickness=thickness)).pixels
        assert 0.5 * reference_ink < (pixels > 0.5).sum() < 2.2 * reference_ink, thickness
        assert cosine(pixels, references[8]) > 0.6


def test_a_dim_photo_still_finds_the_digit(references: list[np.ndarray]) -> None:
    dim = np.asarray(photo_lined(2).convert("L"), dtype=np.float32) * 0.4
    result = preprocess_image(dim.astype(np.uint8))
    assert result.found
    assert cosine(result.pixels, references[2]) > 0.7


@pytest.mark.parametrize(
    "picture",
    [
        Image.new("L", (300, 300), 255),
        Image.new("L", (300, 300), 0),
        Image.new("RGB", (640, 480), (128, 128, 128)),
        Image.new("RGBA", (64, 64), (0, 0, 0, 0)),
        Image.linear_gradient("L").resize((400, 300)),
        Image.fromarray(
            np.clip(235 + np.random.default_rng(1).normal(0, 6, (300, 300)), 0, 255).astype(
                np.uint8
            )
        ),
    ],
    ids=["white", "black", "grey", "fully-transparent", "gradient", "paper-noise"],
)
def test_blank_pictures_say_no_digit_instead_of_guessing(picture: Image.Image) -> None:
    result = preprocess_image(picture)
    assert not result.found
    assert result.message.startswith("No digit found")
    assert not result.pixels.any()
    assert result.pixels.shape == (28, 28)


def test_ruled_page_without_a_digit_is_not_a_digit() -> None:
    page = Image.open(io.BytesIO(photo_lined_jpeg(None)))
    result = preprocess_image(page)
    assert not result.found, result.message
    assert result.message.startswith("No digit found")


def test_thumbnail_and_source_size_describe_the_users_file(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(photo_lined_jpeg(6))
    result = preprocess_path(path)
    assert result.source_size == (800, 600)
    assert result.original.dtype == np.uint8 and result.original.ndim == 2
    assert max(result.original.shape) <= 256
    assert result.original.shape[1] > result.original.shape[0]  # landscape stays landscape
    assert result.digit_box is not None
    left, top, right, bottom = result.digit_box
    thumb_h, thumb_w = result.original.shape
    # The digit sits right of centre in the photo; the box says so.
    assert thumb_w * 0.35 < (left + right) / 2 < thumb_w * 0.85
    assert 0 <= top < bottom <= thumb_h
    # The thumbnail is the photo: the digit is darker than the page around it.
    assert result.original[top:bottom, left:right].min() < result.original.mean() - 60


def test_exif_rotation_is_honoured(tmp_path: Path, references: list[np.ndarray]) -> None:
    upright = scan(7).convert("RGB")
    stored = upright.rotate(90, expand=True)  # what the camera wrote
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "rotated.jpg"
    stored.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    loaded = load_image(path)
    assert loaded.size == upright.size
    result = preprocess_image(loaded)
    assert cosine(result.pixels, references[7]) > 0.75
    sideways = preprocess_image(stored).pixels
    assert cosine(result.pixels, references[7]) > cosine(sideways, references[7]) + 0.2


def test_large_photo_is_decoded_small(tmp_path: Path) -> None:
    # Latency itself is measured in benchmarks/custom_images.py, not in a timed unit test.
    path = tmp_path / "big.jpg"
    path.write_bytes(photo_lined_jpeg(4, size=(4000, 3000)))
    image = load_image(path)
    assert max(image.size) < 4000  # decoded at reduced scale (JPEG draft)
    assert image.info["mnist_tui.source_size"] == (4000, 3000)
    result = preprocess_path(path)
    assert result.found and result.source_size == (4000, 3000)


def test_printed_digit_uses_the_default_font_at_size_200() -> None:
    picture = printed(5)
    ink = np.asarray(picture) < 128
    rows = np.nonzero(ink.any(axis=1))[0]
    assert rows[-1] - rows[0] > 100  # a big glyph, not the tiny bitmap fallback font
    assert_mnist_shaped(preprocess_image(picture))


def test_touching_the_edge_is_reported_but_still_processed() -> None:
    cropped = scan(0).crop((60, 70, 240, 230))  # cuts through the 0's top and bottom
    result = preprocess_image(cropped)
    assert result.found
    assert "edge" in result.message


def test_jpeg_bytes_helper_really_is_a_jpeg() -> None:
    data = photo_lined_jpeg(1)
    assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_importing_the_module_does_not_import_torch() -> None:
    import subprocess

    code = "import sys, mnist_tui.engine.images; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_fast_helpers_give_numpy_and_scipys_exact_answers() -> None:
    # _percentile and _fill_holes replace np.percentile and ndimage.binary_fill_holes for speed;
    # a picture must come out the same to the last bit.
    from scipy import ndimage

    rng = np.random.default_rng(0)
    for i in range(300):
        size = int(rng.integers(1, 3000))
        values = rng.random(size).astype(np.float32 if i % 2 else np.float64) ** 4
        if i % 3 == 0:
            values = np.round(values * 255) / 255  # ties, as 8-bit pictures have
        for q in (99.9, 99, 90, 50):
            assert _percentile(values, q) == float(np.percentile(values, q)), (i, q)
        mask = rng.random((int(rng.integers(2, 60)), int(rng.integers(2, 60)))) < rng.random()
        assert np.array_equal(_fill_holes(mask), ndimage.binary_fill_holes(mask)), i
