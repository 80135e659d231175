"""Hostile, broken and odd files give one clear sentence, never a hang, crash or traceback."""

from __future__ import annotations

import io
import os
import re
import struct
import sys
import threading
import time
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imagestyles import mnist_like, scan, transparent  # noqa: E402

from mnist_tui.engine import images  # noqa: E402
from mnist_tui.engine.images import (  # noqa: E402
    load_image,
    preprocess_image,
    preprocess_path,
)
from mnist_tui.errors import ImageError  # noqa: E402


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def assert_one_sentence(message: str) -> None:
    assert message and "\n" not in message
    assert "Traceback" not in message and "Error:" not in message
    assert message[0].isupper() and message.endswith(".")
    # No second sentence starting inside (paths like "a.png" have no space after the dot).
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message


def refused(path: str | os.PathLike[str], *words: str) -> str:
    """Loading ``path`` raises ImageError with one sentence containing every word."""
    with pytest.raises(ImageError) as caught:
        load_image(path)
    message = str(caught.value)
    assert_one_sentence(message)
    for word in words:
        assert word.lower() in message.lower(), message
    with pytest.raises(ImageError):
        preprocess_path(path)
    return message


def finishes_quickly(call: Callable[[], object], seconds: float = 10.0) -> BaseException | None:
    """Run ``call`` in a thread; fail if it is still running after ``seconds``."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome.append(error)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "it blocked"
    return outcome[0]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def forged_png(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG header claiming width x height (1-bit grey), with the given compressed data."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = png_chunk(b"IHDR", header)
    if idat:
        body += png_chunk(b"IDAT", idat)
    return b"\x89PNG\r\n\x1a\n" + body + png_chunk(b"IEND", b"")


def png_bytes(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


@pytest.fixture
def digit_png(tmp_path: Path) -> Path:
    path = tmp_path / "digit.png"
    scan(3).save(path)
    return path


# --- paths -----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "nope.png", "nope.png", "no such file")


def test_directory(tmp_path: Path) -> None:
    refused(tmp_path, "folder")


def test_broken_symlink(tmp_path: Path) -> None:
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "gone.png")
    refused(link, "link", "does not exist")


def test_symlink_loop(tmp_path: Path) -> None:
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    refused(loop, "link")


def test_no_read_permission(digit_png: Path) -> None:
    digit_png.chmod(0)
    try:
        try:
            with open(digit_png, "rb"):
                pass
            pytest.skip("running as root: chmod cannot take away read permission")
        except PermissionError:
            pass
        refused(digit_png, "permission")
    finally:
        digit_png.chmod(0o644)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    refused(path, "empty")


def test_text_file_named_png(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n" * 20)
    refused(path, "not a picture", "PNG or JPEG")


def test_truncated_png(tmp_path: Path) -> None:
    data = png_bytes(scan(4))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    refused(path, "damaged or incomplete")


def test_truncated_jpeg(tmp_path: Path) -> None:
    out = io.BytesIO()
    scan(4).save(out, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(out.getvalue()[: len(out.getvalue()) // 2])
    refused(path, "damaged or incomplete")


def test_file_over_64_mb_is_refused_by_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with open(path, "wb") as handle:
        handle.write(png_bytes(scan(1)))
        handle.truncate(65 * 1024 * 1024)  # sparse: no real disk use
    start = time.perf_counter()
    refused(path, "MB")
    assert time.perf_counter() - start < 2


def test_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    error = finishes_quickly(lambda: load_image(fifo))
    assert isinstance(error, ImageError)
    assert "not a regular file" in str(error)


def test_fifo_swapped_in_after_the_check_does_not_block(tmp_path: Path) -> None:
    # The reader opens with O_NONBLOCK and checks again, so a race cannot hang it.
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    error = finishes_quickly(lambda: images._read_regular_file(fifo, "pipe.png"))
    assert isinstance(error, ImageError)
    assert_one_sentence(str(error))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_not_read_forever(tmp_path: Path) -> None:
    error = finishes_quickly(lambda: load_image("/dev/zero"))
    assert isinstance(error, ImageError) and "not a regular file" in str(error)
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    error = finishes_quickly(lambda: load_image(link))
    assert isinstance(error, ImageError)
    # Even if a device got past the check, reading stops at the cap.
    error = finishes_quickly(lambda: images._read_regular_file(Path("/dev/zero"), "zero", 1000))
    assert isinstance(error, ImageError)


def test_awkward_paths_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "my digits ✏️ ünïcode"
    folder.mkdir()
    path = folder / "three — final copy.png"
    scan(3).save(path)
    assert preprocess_path(path).found
    assert preprocess_path(str(path)).found
    monkeypatch.setenv("HOME", str(tmp_path))
    assert preprocess_path("~/my digits ✏️ ünïcode/three — final copy.png").found
    monkeypatch.chdir(folder)
    assert preprocess_path("three — final copy.png").found
    assert preprocess_path(Path("./three — final copy.png")).found


# --- picture contents -------------------------------------------------------------------------


def test_one_pixel_image_is_no_digit(tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    Image.new("L", (1, 1), 0).save(path)
    result = preprocess_path(path)
    assert not result.found and "1x1" in result.message
    assert_one_sentence(result.message)
    assert result.pixels.shape == (28, 28) and not result.pixels.any()


@pytest.mark.parametrize("level", [0, 255])
def test_all_white_and_all_black_are_no_digit(tmp_path: Path, level: int) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (640, 480), (level, level, level)).save(path)
    result = preprocess_path(path)
    assert not result.found
    assert result.message == "No digit found: the image is blank."
    assert result.source_size == (640, 480)


def test_16_bit_png(tmp_path: Path) -> None:
    grey = np.asarray(scan(6), dtype=np.uint16) * 257
    path = tmp_path / "deep.png"
    Image.fromarray(grey).save(path)
    loaded = load_image(path)
    assert loaded.mode.startswith("I")
    result = preprocess_image(loaded)
    assert result.found
    assert cosine(result.pixels, preprocess_image(scan(6)).pixels) > 0.95


def test_cmyk_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    scan(2).convert("CMYK").save(path, "JPEG", quality=95)
    assert load_image(path).mode == "CMYK"
    result = preprocess_path(path)
    assert result.found
    assert cosine(result.pixels, preprocess_image(scan(2)).pixels) > 0.9


def test_palette_with_transparency(tmp_path: Path) -> None:
    alpha = np.asarray(transparent(9))[..., 3]
    indices = (alpha > 127).astype(np.uint8)
    palette = Image.fromarray(indices, mode="L").convert("P")
    palette.putpalette([255, 255, 255, 0, 0, 0])
    palette.info["transparency"] = 0
    path = tmp_path / "palette.png"
    palette.save(path, transparency=0)
    loaded = load_image(path)
    assert loaded.mode == "P" and "transparency" in loaded.info
    result = preprocess_image(loaded)
    assert result.found
    assert cosine(result.pixels, preprocess_image(transparent(9)).pixels) > 0.85


def test_animated_gif_uses_the_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "moving.gif"
    first, second = scan(3).convert("P"), scan(8).convert("P")
    first.save(path, save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(path).n_frames == 2
    pixels = preprocess_path(path).pixels
    three = preprocess_image(mnist_like(3)).pixels
    eight = preprocess_image(mnist_like(8)).pixels
    assert cosine(pixels, three) > cosine(pixels, eight) + 0.05


def test_broken_exif_does_not_lose_the_picture(tmp_path: Path) -> None:
    path = tmp_path / "odd-exif.jpg"
    scan(1).save(path, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff")
    assert preprocess_path(path).found


# --- size limits ------------------------------------------------------------------------------


def test_decompression_bomb_is_refused_before_allocating(tmp_path: Path) -> None:
    # 15000 x 15000 1-bit, all zero: 225 million pixels in a few hundred kB.
    width = height = 15000
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    squeeze = zlib.compressobj(9)
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    path = tmp_path / "bomb.png"
    path.write_bytes(forged_png(width, height, idat))
    start = time.perf_counter()
    refused(path, "pixels")
    assert time.perf_counter() - start < 2


def test_bomb_warning_range_is_refused_and_prints_nothing(tmp_path: Path) -> None:
    # Between Pillow's warning (89 M) and error (179 M) limits.
    path = tmp_path / "big.png"
    path.write_bytes(forged_png(10000, 10000, zlib.compress(b"\x00" * 1251)))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        refused(path, "pixels")
    assert not [w for w in seen if issubclass(w.category, Image.DecompressionBombWarning)]


@pytest.mark.parametrize("pillow_limit", ["default", "off"])
def test_20000_square_refuses_quickly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pillow_limit: str
) -> None:
    if pillow_limit == "off":
        # Even with Pillow's own limit lifted, this module's limit holds.
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    path = tmp_path / "wide.png"
    path.write_bytes(forged_png(20000, 20000, zlib.compress(b"\x00" * 2501)))
    start = time.perf_counter()
    message = refused(path, "20000x20000" if pillow_limit == "off" else "pixels")
    assert time.perf_counter() - start < 2
    assert "resize" in message


def test_a_big_but_allowed_png_still_works(tmp_path: Path) -> None:
    path = tmp_path / "poster.png"
    scan(5).resize((3000, 3000), Image.Resampling.BILINEAR).save(path, compress_level=1)
    start = time.perf_counter()
    result = preprocess_path(path)
    assert result.found and result.source_size == (3000, 3000)
    assert time.perf_counter() - start < 5


# --- properties -------------------------------------------------------------------------------

SHAPES = st.tuples(st.integers(1, 64), st.integers(1, 64))
MODES = ["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "CMYK", "I", "F"]


def assert_valid(result: images.Preprocessed) -> None:
    assert result.pixels.shape == (28, 28) and result.pixels.dtype == np.float32
    assert np.isfinite(result.pixels).all()
    assert 0.0 <= result.pixels.min() and result.pixels.max() <= 1.0
    assert result.found or result.message.startswith("No digit found")
    if result.message:
        assert_one_sentence(result.message)
    assert result.original.dtype == np.uint8 and result.original.ndim == 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.uint8, np.float32, np.float64]),
        shape=SHAPES,
        elements=None,
    )
)
def test_any_small_array_gives_28x28_or_image_error(array: np.ndarray) -> None:
    try:
        result = preprocess_image(array)
    except ImageError as error:
        assert_one_sentence(str(error))
        return
    assert_valid(result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(MODES), shape=SHAPES, data=st.data())
def test_any_small_image_of_any_mode_gives_28x28_or_image_error(
    mode: str, shape: tuple[int, int], data: st.DataObject
) -> None:
    size = (shape[1], shape[0])
    probe = Image.new(mode, size)
    n_bytes = len(probe.tobytes())
    raw = data.draw(st.binary(min_size=n_bytes, max_size=n_bytes))
    image = Image.frombytes(mode, size, raw)
    if mode == "P":
        image.putpalette(data.draw(st.binary(min_size=768, max_size=768)))
        if data.draw(st.booleans()):
            image.info["transparency"] = data.draw(st.integers(0, 255))
    try:
        result = preprocess_image(image)
    except ImageError as error:
        assert_one_sentence(str(error))
        return
    assert_valid(result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(min_size=0, max_size=2048),
        # Real headers with random tails reach deeper into the decoders.
        st.tuples(
            st.sampled_from(
                [
                    b"\x89PNG\r\n\x1a\n",
                    b"\xff\xd8\xff\xe0",
                    b"GIF89a",
                    b"BM",
                    b"II*\x00",
                    b"RIFF\x00\x00\x00\x00WEBP",
                ]
            ),
            st.binary(max_size=2048),
        ).map(lambda parts: parts[0] + parts[1]),
    )
)
def test_any_bytes_give_an_image_or_image_error(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "input.png"
    path.write_bytes(data)
    try:
        image = load_image(path)
    except ImageError as error:
        assert_one_sentence(str(error))
        return
    assert isinstance(image, Image.Image)
    assert_valid(preprocess_image(image))


def test_non_images_are_refused_in_one_sentence() -> None:
    for thing in (None, "digit.png", [[0, 1], [1, 0]], np.zeros((0, 5)), np.zeros((2, 2, 2, 2))):
        with pytest.raises(ImageError) as caught:
            preprocess_image(thing)  # type: ignore[arg-type]
        assert_one_sentence(str(caught.value))
