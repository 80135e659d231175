"""iPhones save their photos as HEIC: such a photo reads like the same photo as a JPEG."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imagestyles import photo_lined  # noqa: E402

from mnist_tui.engine.images import load_image, preprocess_path  # noqa: E402
from mnist_tui.errors import ImageError  # noqa: E402

pillow_heif = pytest.importorskip("pillow_heif")
ORIENTATION = 0x0112


def _sideways_phone_photo(folder: Path, digit: int) -> tuple[Path, Path]:
    """The same photo of a digit as HEIC and as JPEG, stored sideways with EXIF orientation 6
    (rotate 90° clockwise to view), as a phone held upright writes it."""
    pillow_heif.register_heif_opener()
    stored = photo_lined(digit, seed=3, size=(640, 480)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    heic, jpeg = folder / "IMG_0001.HEIC", folder / "IMG_0001.jpg"
    stored.save(heic, exif=exif.tobytes(), quality=85)
    stored.save(jpeg, exif=exif.tobytes(), quality=85)
    return heic, jpeg


def _forget_heif(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: Pillow does not know HEIF until a HEIC file comes."""
    monkeypatch.setattr(Image, "ID", [name for name in Image.ID if name != "HEIF"])


def test_a_heic_photo_is_read_upright_like_its_jpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heic, jpeg = _sideways_phone_photo(tmp_path, 4)
    _forget_heif(monkeypatch)
    image = load_image(heic)
    assert image.size == load_image(jpeg).size == (640, 480), "turned upright by its EXIF"
    a, b = preprocess_path(heic), preprocess_path(jpeg)
    assert a.found and b.found and not a.message
    cosine = float(a.pixels.ravel() @ b.pixels.ravel())
    cosine /= float(np.linalg.norm(a.pixels) * np.linalg.norm(b.pixels))
    assert cosine > 0.95, "the digit the model sees is the JPEG's"


def test_without_pillow_heif_a_heic_photo_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heic, _ = _sideways_phone_photo(tmp_path, 7)
    _forget_heif(monkeypatch)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # import fails
    with pytest.raises(ImageError) as caught:
        load_image(heic)
    message = str(caught.value)
    assert "HEIC" in message and "pip install pillow-heif" in message and "JPEG" in message
    assert message.count(". ") == 0 and "\n" not in message, "one sentence"


def test_a_damaged_heic_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    heic, _ = _sideways_phone_photo(tmp_path, 1)
    _forget_heif(monkeypatch)
    data = heic.read_bytes()
    broken = tmp_path / "broken.heic"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"^Cannot open image .*broken\.heic: "):
        load_image(broken)
    garbage = tmp_path / "garbage.heic"
    garbage.write_bytes(data[:32] + bytes(range(256)) * 8)
    with pytest.raises(ImageError, match=r"^Cannot open image .*garbage\.heic: "):
        load_image(garbage)


def _through_pillow_heif(path: Path) -> np.ndarray:
    """The picture as pillow-heif reads it (RGB, turned upright), converted to grey by Pillow."""
    pillow_heif.register_heif_opener()
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.float32)


def test_a_heic_is_read_as_its_brightness_straight_from_libheif(tmp_path: Path) -> None:
    # A sideways phone photo in colour (blue ink on yellowish paper), stored as an iPhone
    # stores it: the rotation in the container.
    pillow_heif.register_heif_opener()
    photo = photo_lined(3, seed=5, size=(640, 480)).convert("RGB")
    tint = np.asarray(photo, dtype=np.float32) * np.float32([1.0, 0.95, 0.7])
    stored = Image.fromarray(tint.astype(np.uint8)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    heic = tmp_path / "IMG_0002.HEIC"
    stored.save(heic, exif=exif.tobytes(), quality=90)

    from mnist_tui.engine.heifluma import decode_luma

    luma = decode_luma(heic.read_bytes(), 10**8)
    assert luma is not None, "the fast path reads an ordinary phone HEIC"
    assert luma.mode == "L" and luma.size == (640, 480), "upright, by the container's rotation"
    expected = _through_pillow_heif(heic)
    difference = np.abs(np.asarray(luma, dtype=np.float32) - expected)
    assert difference.mean() < 1.5 and np.percentile(difference, 99) < 6, "Pillow's grey"
    # And what the app reads: the same 28x28 either way.
    image = load_image(heic)
    assert image.mode == "L" and image.size == (640, 480)


def test_a_heic_the_fast_path_cannot_read_still_opens_through_pillow_heif(tmp_path: Path) -> None:
    # Transparency is off the fast path (only brightness is decoded there).
    pillow_heif.register_heif_opener()
    photo = photo_lined(2, seed=6, size=(320, 240)).convert("RGBA")
    heic = tmp_path / "with-alpha.heic"
    photo.save(heic, quality=90)

    from mnist_tui.engine.heifluma import decode_luma

    assert decode_luma(heic.read_bytes(), 10**8) is None
    assert load_image(heic).size == (320, 240)
    assert decode_luma(heic.read_bytes()[:500], 10**8) is None, "a torn file: no crash, no answer"
    result = preprocess_path(heic)
    assert result.found
