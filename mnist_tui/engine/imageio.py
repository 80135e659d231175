"""Safe loading of a user's picture, and its conversion to one grey float image (no torch).

Only regular files of sane size are read (never a FIFO or device), decoding is bounded, big JPEGs
are decoded at reduced scale, EXIF rotation is applied, and every failure is one sentence.
Phones' HEIC photos are read through pillow-heif.
"""

from __future__ import annotations

import errno
import io
import math
import os
import stat
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_tui.errors import ImageError
from mnist_tui.paths import file_named_as_folder, is_web_address, meant_path

# Files are read into memory whole; nothing a user draws or photographs needs more.
MAX_FILE_BYTES = 64 * 1024 * 1024
# Refuse to decode more pixels than this (after JPEG draft scaling): about 160 MB as RGBA.
MAX_DECODE_PIXELS = 40_000_000
# Everything is analysed at most this big: plenty for a 20x20 result, and fast.
WORK_SIDE = 512
# Formats with a magic-number check; TGA and friends would accept arbitrary bytes. HEIF is
# there once pillow-heif has registered it (see _open_heif).
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "WEBP", "TIFF", "PPM", "ICO", "QOI", "AVIF", "HEIF")
# The ISO-BMFF brands of HEIF pictures: an iPhone saves its photos as HEIC ("heic", "mif1").
HEIF_BRANDS = (
    b"heic",
    b"heix",
    b"heim",
    b"heis",
    b"hevc",
    b"hevx",
    b"hevm",
    b"hevs",
    b"mif1",
    b"msf1",
)
# Where load_image records the file's own (width, height) when it decoded at a reduced scale.
SOURCE_SIZE_KEY = "mnist_tui.source_size"


# ---------------------------------------------------------------------------------------------
# Loading


def _shown(path: str | os.PathLike[str]) -> str:
    """The path as the user typed it, safe to put in a one-line message."""
    text = os.fspath(path)
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _fail(shown: str, problem: str, advice: str) -> ImageError:
    return ImageError(f"Cannot open image {shown}: {problem}; {advice}.")


def _check_path(path: Path, shown: str) -> None:
    """Stat first: only a regular, non-empty file of sane size is ever opened."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise _fail(
                shown, "it is a link to a file that does not exist", "fix the link or pick the file"
            ) from None
        raise _fail(shown, "there is no such file", "check the path and try again") from None
    except PermissionError:
        raise _fail(
            shown, "permission to reach it was denied", "check the folder's permissions"
        ) from None
    except OSError as error:
        raise _os_failure(shown, error) from None
    if stat.S_ISDIR(info.st_mode):
        raise _fail(shown, "it is a folder, not a file", "pick an image file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise _fail(
            shown, "it is not a regular file (a pipe, device or socket)", "pick an image file"
        )
    if info.st_size == 0:
        raise _fail(shown, "the file is empty", "pick a saved picture")
    if info.st_size > MAX_FILE_BYTES:
        raise _fail(
            shown,
            f"the file is {info.st_size / 2**20:.0f} MB, more than the "
            f"{MAX_FILE_BYTES // 2**20} MB limit",
            "use a smaller picture",
        )


def _os_failure(shown: str, error: OSError) -> ImageError:
    if error.errno == errno.ELOOP:
        return _fail(shown, "it is a link that points back to itself", "fix the link")
    if error.errno == errno.ENOTDIR:
        return _fail(shown, "part of the path is a file, not a folder", "check the path")
    if error.errno == errno.ENAMETOOLONG:
        return _fail(shown, "the path is too long", "use a shorter path")
    reason = (error.strerror or type(error).__name__).rstrip(".").lower()
    return _fail(shown, f"the system could not read it ({reason})", "check the file")


def _read_regular_file(path: Path, shown: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read at most ``limit`` bytes, refusing anything that is not a regular file once open.

    O_NONBLOCK means a FIFO swapped in after the stat cannot block the open or the read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise _fail(shown, "there is no such file", "check the path and try again") from None
    except PermissionError:
        raise _fail(
            shown, "permission to read it was denied", "check the file's permissions"
        ) from None
    except OSError as error:
        raise _os_failure(shown, error) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _fail(
                shown, "it is not a regular file (a pipe, device or socket)", "pick an image file"
            )
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except BlockingIOError:
        raise _fail(shown, "it is not a regular file", "pick an image file") from None
    except OSError as error:
        raise _os_failure(shown, error) from None
    finally:
        os.close(fd)
    if total > limit:
        raise _fail(
            shown, f"the file is more than the {limit // 2**20} MB limit", "use a smaller picture"
        )
    if total == 0:
        raise _fail(shown, "the file is empty", "pick a saved picture")
    return b"".join(chunks)


def _formats() -> tuple[str, ...]:
    Image.init()
    return tuple(name for name in FORMATS if name in Image.ID)


def _too_many_pixels(shown: str, size: tuple[int, int] | None) -> ImageError:
    what = f"it is {size[0]}x{size[1]} pixels" if size else "it has too many pixels"
    return _fail(
        shown,
        f"{what}, more than the {MAX_DECODE_PIXELS // 1_000_000} million this app opens safely",
        "resize it to at most 6000x6000 first",
    )


def _is_heif(data: bytes) -> bool:
    """Whether the bytes start like a HEIF/HEIC picture (an ``ftyp`` box with a HEIF brand)."""
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


def _open_heif(shown: str) -> None:
    """Teach Pillow HEIF through pillow-heif, only when a HEIC file comes (it is not imported
    otherwise: start-up and other formats do not pay for it)."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        raise _fail(
            shown,
            "it is a HEIC photo (an iPhone's own format) and the pillow-heif package is missing",
            "install it with pip install pillow-heif, or save the photo as JPEG",
        ) from None
    register_heif_opener()


def _decode(data: bytes, shown: str, max_side: int | None) -> Image.Image:
    if _is_heif(data):
        if max_side:
            from mnist_tui.engine import heifluma

            # A phone's HEIC as brightness only, straight from libheif: a third faster.
            luma = heifluma.decode_luma(data, MAX_DECODE_PIXELS)
            if luma is not None:
                luma.info[SOURCE_SIZE_KEY] = luma.size  # upright already (HEIF's own rotation)
                return luma
        if "HEIF" not in Image.ID:
            _open_heif(shown)
    # Pillow warns through `warnings` (which would scribble over the TUI); a bomb warning is
    # treated as the error it stands for.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_formats())
        except UnidentifiedImageError:
            raise _fail(
                shown, "it is not a picture in a format this app can read", "save it as PNG or JPEG"
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(shown, None) from None
        except MemoryError:
            raise _too_many_pixels(shown, None) from None
        except Exception:
            # Pillow's plugins raise many kinds of errors on malformed headers.
            raise _fail(
                shown, "its header is damaged", "save or download the picture again"
            ) from None
        source = image.size
        if source[0] < 1 or source[1] < 1:
            raise _fail(shown, "it has no pixels", "pick a picture with a digit in it")
        if max_side and image.format == "JPEG" and max(source) > max_side:
            # Decode a big JPEG at 1/2, 1/4 or 1/8 scale in grey: 10x faster and 30x less memory.
            try:
                image.draft("L", (max_side, max_side))
            except Exception:
                pass
        if image.size[0] * image.size[1] > MAX_DECODE_PIXELS:
            raise _too_many_pixels(shown, source)
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
            raise _too_many_pixels(shown, source) from None
        except Exception:
            raise _fail(
                shown,
                "the picture data is damaged or incomplete",
                "save or download the picture again",
            ) from None
        loaded = image.size
        try:
            # In place: a picture already upright is not copied (29 ms for a 12 MP HEIC).
            ImageOps.exif_transpose(image, in_place=True)
        except Exception:
            # A broken EXIF block only costs the rotation, not the picture.
            pass
    if image.size != loaded:
        source = (source[1], source[0])
    image.info[SOURCE_SIZE_KEY] = source
    return image


def load_image(path: str | os.PathLike[str], *, max_side: int | None = WORK_SIDE) -> Image.Image:
    """Open a picture file safely and return its first frame, upright per its EXIF orientation.

    Only regular files of at most 64 MB are read (never a FIFO or device), at most 40 million
    pixels are decoded, and JPEGs larger than ``max_side`` are decoded at a reduced scale in
    greyscale (pass ``max_side=None`` for full size). The file's own (width, height), upright,
    is in ``image.info["mnist_tui.source_size"]``. Every failure raises :class:`ImageError`
    with one sentence saying what is wrong and what to do.
    """
    shown = _shown(path)
    if isinstance(path, str):
        if is_web_address(path):
            raise _fail(
                shown,
                "it is a web address, and only files on this machine can be opened",
                "download it first, for example with curl -O",
            )
        path = meant_path(path)  # quoted or escaped as a terminal pastes it, or file://
    try:
        typed = os.path.expanduser(os.fspath(path))
        resolved = Path(typed)
    except (TypeError, ValueError):
        raise ImageError(f"Cannot open image {shown}: the path is not valid; check it.") from None
    if "\x00" in typed:
        raise _fail(shown, "the path contains a NUL character", "check the path")
    if file_named_as_folder(typed):
        raise _fail(
            shown, "it ends with a slash, which means a folder, but it is a file", "drop the slash"
        )
    _check_path(resolved, shown)
    data = _read_regular_file(resolved, shown)
    return _decode(data, shown, max_side)


def load_image_stream(
    stream: BinaryIO, shown: str = "from standard input", *, max_side: int | None = WORK_SIDE
) -> Image.Image:
    """A picture piped in rather than named (``ssh server mnist-tui predict - < photo.jpg``
    classifies a photo that is on the user's own machine), read and decoded with
    :func:`load_image`'s limits; ``shown`` names it in the one-sentence errors."""
    try:
        data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _os_failure(shown, exc) from None
    if len(data) > MAX_FILE_BYTES:
        raise _fail(
            shown,
            f"the picture is more than the {MAX_FILE_BYTES // 2**20} MB limit",
            "use a smaller picture",
        )
    if not data:
        raise _fail(shown, "nothing was piped in", "pipe a picture in: mnist-tui predict - < a.jpg")
    return _decode(data, shown, max_side)


# ---------------------------------------------------------------------------------------------
# Conversion to one grey float image


def _block_mean(array: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor`` x ``factor`` blocks (edges padded by replication)."""
    if factor <= 1:
        return array
    h, w = array.shape[:2]
    ph, pw = -h % factor, -w % factor
    pad = ((0, ph), (0, pw)) + ((0, 0),) * (array.ndim - 2)
    padded = np.pad(array, pad, mode="edge")
    shape = (padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    return padded.reshape(shape + padded.shape[2:]).mean(axis=(1, 3))


def _array_to_unit(array: np.ndarray) -> np.ndarray:
    """Any numeric array to float32 in [0, 1]: uint8 /255, uint16 /65535, floats as [0, 1]."""
    kind = array.dtype.kind
    if kind == "b":
        return array.astype(np.float32)
    if kind == "u" and array.dtype.itemsize == 1:
        return array.astype(np.float32) / 255.0
    if kind == "u" and array.dtype.itemsize == 2:
        return array.astype(np.float32) / 65535.0
    if kind in "ui":
        return np.clip(array.astype(np.float64), 0, 255).astype(np.float32) / 255.0
    if kind == "f":
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        if values.size and values.max() > 1.0:
            # Floats above 1 are taken to be on the 0-255 scale.
            values = values / 255.0
        return np.clip(values, 0.0, 1.0).astype(np.float32)
    raise ImageError(
        f"An image array of type {array.dtype} cannot be used; pass uint8 or float values."
    )


def _flatten_alpha(lum: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite onto whichever of black or white contrasts with the opaque strokes."""
    weight = float(alpha.sum())
    if weight <= 0:
        return np.zeros_like(lum)
    if float(alpha.min()) >= 1.0:
        return lum
    mean = float((lum * alpha).sum()) / weight
    # Dark strokes go on white and light strokes on black, so "ink only in alpha" is visible.
    background = 1.0 if mean < 0.5 else 0.0
    return (lum * alpha + background * (1.0 - alpha)).astype(np.float32)


def _from_array(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind not in "buif":
        raise ImageError(
            f"An image array of type {array.dtype} cannot be used; pass uint8 or float values."
        )
    if array.ndim == 3 and array.shape[2] in (1, 2, 3, 4):
        channels = array.shape[2]
        unit = _array_to_unit(array)
        lum = unit[..., 0] if channels < 3 else unit[..., :3] @ np.float32([0.299, 0.587, 0.114])
        if channels in (2, 4):
            return _flatten_alpha(lum.astype(np.float32), unit[..., -1])
        return lum.astype(np.float32)
    if array.ndim != 2:
        raise ImageError(
            f"An image array of shape {array.shape} cannot be used; pass a greyscale "
            "(height, width) array."
        )
    return _array_to_unit(array)


def _from_pil(image: Image.Image) -> np.ndarray:
    mode = image.mode
    factor = max(1, math.ceil(max(image.size) / WORK_SIDE))
    if mode.startswith("I;16"):
        values = np.asarray(image.convert("I").reduce(factor), dtype=np.float64) / 65535.0
        return np.clip(values, 0, 1).astype(np.float32)
    if mode in ("I", "F"):
        values = np.asarray(image.reduce(factor), dtype=np.float64)
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if mode == "F" and low >= 0 and high <= 1:
            scale = 1.0
        elif low >= 0 and high <= 255:
            scale = 255.0
        elif low >= 0 and high <= 65535:
            scale = 65535.0
        else:
            # Unknown range: stretch it.
            values, scale = values - low, max(high - low, 1e-12)
        return np.clip(values / scale, 0, 1).astype(np.float32)
    has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
    try:
        if has_alpha:
            la = np.asarray(image.convert("RGBA").convert("LA"), dtype=np.float32) / 255.0
            # Premultiplied averaging, so colours hidden under alpha=0 do not bleed in.
            lum = _block_mean(la[..., 0] * la[..., 1], factor)
            alpha = _block_mean(la[..., 1], factor)
            with np.errstate(invalid="ignore", divide="ignore"):
                lum = np.where(alpha > 0, lum / np.maximum(alpha, 1e-12), 0.0)
            return _flatten_alpha(lum.astype(np.float32), alpha.astype(np.float32))
        grey = image if mode == "L" else image.convert("L")
    except ValueError:
        try:
            grey = image.convert("RGB").convert("L")
        except Exception:
            raise ImageError(
                f"Images in colour mode {mode} cannot be used; save the picture as RGB PNG or JPEG."
            ) from None
    return np.asarray(grey.reduce(factor), dtype=np.float32) / 255.0


def _to_grey(image: Image.Image | np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The picture as float32 grey in [0, 1], at most WORK_SIDE, plus the source (w, h)."""
    if isinstance(image, Image.Image):
        if image.size[0] < 1 or image.size[1] < 1:
            raise ImageError("The image has no pixels; pick a picture with a digit in it.")
        source = image.info.get(SOURCE_SIZE_KEY, image.size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grey = _from_pil(image)
        return grey, (int(source[0]), int(source[1]))
    if isinstance(image, np.ndarray):
        if image.size == 0 or image.ndim < 2:
            raise ImageError("The image array is empty; pass a (height, width) array of pixels.")
        grey = _from_array(image)
        h, w = grey.shape
        factor = math.ceil(max(h, w) / WORK_SIDE)
        return _block_mean(grey, factor).astype(np.float32), (w, h)
    raise ImageError(
        f"A {type(image).__name__} is not an image; pass a PIL image or a numpy array."
    )
