"""Safe image loading and MNIST-style preprocessing, with numpy and Pillow only (no torch).

A user's picture (a phone photo of a notebook, a scan, a transparent drawing, a printed digit or
an MNIST-style 28x28) becomes what the network was trained on: a (28, 28) float image with bright
antialiased ink on black, the digit fitted into a 20x20 box keeping its aspect ratio and placed so
that its centre of mass is at (14, 14), as described in the MNIST paper.

The pipeline: flatten transparency, detect polarity, divide out uneven lighting, threshold
(Otsu), remove ruled lines and specks, crop, normalise the stroke width, fit and centre.
"""

from __future__ import annotations

import errno
import io
import math
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_tui.errors import ImageError

SIDE = 28
BOX = 20
# MNIST's strokes are about 2-3 px wide at 28x28; strokes far from this are widened or thinned.
TARGET_STROKE = 2.5
# Files are read into memory whole; nothing a user draws or photographs needs more.
MAX_FILE_BYTES = 64 * 1024 * 1024
# Refuse to decode more pixels than this (after JPEG draft scaling): about 160 MB as RGBA.
MAX_DECODE_PIXELS = 40_000_000
# Everything is analysed at most this big: plenty for a 20x20 result, and fast.
WORK_SIDE = 512
THUMB_SIDE = 256
# Formats with a magic-number check; TGA and friends would accept arbitrary bytes.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "WEBP", "TIFF", "PPM", "ICO", "QOI", "AVIF")
# Where load_image records the file's own (width, height) when it decoded at a reduced scale.
SOURCE_SIZE_KEY = "mnist_tui.source_size"
# Ink must be at least this much darker than the paper (as a fraction) to count.
MIN_CONTRAST = 0.15
# A ruled line covers at least this fraction of the width (or height for vertical lines).
LINE_COVER = 0.6
# Images smaller than this on their shorter side have no ruled lines worth looking for.
MIN_LINE_SIDE = 48
EDGE_MESSAGE = "The digit touches the edge of the picture, so part of it may be cut off."
# The intermediate size the cropped digit is reduced to before stroke-width normalisation.
STROKE_SIDE = 4 * BOX


@dataclass
class Preprocessed:
    """A picture made ready for the network, plus what the user should see about it."""

    pixels: np.ndarray
    found: bool
    message: str
    original: np.ndarray
    source_size: tuple[int, int]
    # (left, top, right, bottom) of the digit in ``original``'s coordinates, None if not found.
    digit_box: tuple[int, int, int, int] | None = None


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


def _decode(data: bytes, shown: str, max_side: int | None) -> Image.Image:
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
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:
            # A broken EXIF block only costs the rotation, not the picture.
            upright = image.copy()
    if upright.size != image.size:
        source = (source[1], source[0])
    upright.info[SOURCE_SIZE_KEY] = source
    return upright


def load_image(path: str | os.PathLike[str], *, max_side: int | None = WORK_SIDE) -> Image.Image:
    """Open a picture file safely and return its first frame, upright per its EXIF orientation.

    Only regular files of at most 64 MB are read (never a FIFO or device), at most 40 million
    pixels are decoded, and JPEGs larger than ``max_side`` are decoded at a reduced scale in
    greyscale (pass ``max_side=None`` for full size). The file's own (width, height), upright,
    is in ``image.info["mnist_tui.source_size"]``. Every failure raises :class:`ImageError`
    with one sentence saying what is wrong and what to do.
    """
    shown = _shown(path)
    try:
        resolved = Path(os.path.expanduser(os.fspath(path)))
    except (TypeError, ValueError):
        raise ImageError(f"Cannot open image {shown}: the path is not valid; check it.") from None
    if "\x00" in os.fspath(resolved):
        raise _fail(shown, "the path contains a NUL character", "check the path")
    _check_path(resolved, shown)
    data = _read_regular_file(resolved, shown)
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


# ---------------------------------------------------------------------------------------------
# Small numpy image operations


def _pad(array: np.ndarray, pad: list[tuple[int, int]], extend: bool) -> np.ndarray:
    # Extending linearly (odd reflection) keeps a lighting ramp a ramp up to the border.
    if extend:
        return np.pad(array, pad, mode="reflect", reflect_type="odd")
    return np.pad(array, pad, mode="edge")


def _window_max(array: np.ndarray, size: int, axis: int, extend: bool = False) -> np.ndarray:
    """Running maximum over ``size`` (odd) samples along ``axis``, edges replicated."""
    if size <= 1:
        return array
    r = size // 2
    pad = [(0, 0)] * array.ndim
    pad[axis] = (r, r)
    if extend and array.shape[axis] <= r:
        extend = False
    padded = _pad(array, pad, extend)
    return np.lib.stride_tricks.sliding_window_view(padded, size, axis=axis).max(axis=-1)


def _dilate(array: np.ndarray, size: int, extend: bool = False) -> np.ndarray:
    return _window_max(_window_max(array, size, 0, extend), size, 1, extend)


def _erode(array: np.ndarray, size: int, extend: bool = False) -> np.ndarray:
    return -_dilate(-array, size, extend)


def _box_blur(array: np.ndarray, radius: int) -> np.ndarray:
    """Separable mean over (2r+1) samples with replicated edges: a cheap low-pass."""
    if radius < 1:
        return array
    out = array.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius + 1, radius)
        summed = np.cumsum(_pad(out, pad, out.shape[axis] > radius + 1), axis=axis)
        size = 2 * radius + 1
        if axis == 0:
            out = (summed[size:] - summed[:-size]) / size
        else:
            out = (summed[:, size:] - summed[:, :-size]) / size
    return out


def _block_quantile(array: np.ndarray, factor: int, q: float) -> np.ndarray:
    if factor <= 1:
        return array
    h, w = array.shape
    padded = np.pad(array, ((0, -h % factor), (0, -w % factor)), mode="edge")
    bh, bw = padded.shape[0] // factor, padded.shape[1] // factor
    blocks = padded.reshape(bh, factor, bw, factor).transpose(0, 2, 1, 3).reshape(bh, bw, -1)
    k = int(round(q * (blocks.shape[-1] - 1)))
    return np.partition(blocks, k, axis=-1)[..., k]


def _resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float image to (width, height): area-averaging down, bilinear up."""
    h, w = array.shape
    shrinking = size[0] <= w and size[1] <= h
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    resized = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32), mode="F")
    return np.asarray(resized.resize(size, method), dtype=np.float32)


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of values in [0, 1]."""
    hist = np.bincount(np.clip((values * 255).astype(np.int64), 0, 255).ravel(), minlength=256)
    hist = hist.astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 0.5
    levels = np.arange(256, dtype=np.float64)
    weight0 = np.cumsum(hist)
    weight1 = total - weight0
    sum0 = np.cumsum(hist * levels)
    mean0 = sum0 / np.maximum(weight0, 1e-12)
    mean1 = (sum0[-1] - sum0) / np.maximum(weight1, 1e-12)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return (int(np.argmax(between)) + 1) / 255.0


# ---------------------------------------------------------------------------------------------
# Connected components over horizontal runs (8-connectivity), fully vectorised


@dataclass
class _Components:
    labels: np.ndarray  # (H, W) int, -1 for background
    areas: np.ndarray
    top: np.ndarray
    bottom: np.ndarray  # inclusive
    left: np.ndarray
    right: np.ndarray  # inclusive


def _components(mask: np.ndarray) -> _Components:
    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # exclusive
    n = rows.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Components(np.full((h, w), -1), empty, empty, empty, empty, empty)
    stride = w + 3
    start_key = rows * stride + starts
    end_key = rows * stride + ends
    # Runs of the row above touching run b (8-connected): start <= end_b and end >= start_b.
    above = rows - 1
    lo = np.searchsorted(end_key, above * stride + starts, side="left")
    hi = np.searchsorted(start_key, above * stride + ends, side="right")
    count = np.maximum(hi - lo, 0)
    count[rows == 0] = 0
    b = np.repeat(np.arange(n), count)
    offsets = np.arange(b.size) - np.repeat(np.cumsum(count) - count, count)
    a = np.repeat(lo, count) + offsets
    parent = np.arange(n)
    # Hook each root to the smallest neighbouring root, then jump pointers, until stable.
    while a.size:
        root_a, root_b = parent[a], parent[b]
        low = np.minimum(root_a, root_b)
        new = parent.copy()
        np.minimum.at(new, root_a, low)
        np.minimum.at(new, root_b, low)
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, parent):
            break
        parent = new
    roots, run_label = np.unique(parent, return_inverse=True)
    lengths = ends - starts
    labels = np.full((h, w), -1, dtype=np.int64)
    labels[mask.astype(bool)] = np.repeat(run_label, lengths)
    k = roots.size
    areas = np.bincount(run_label, weights=lengths, minlength=k).astype(np.int64)
    top = np.full(k, h, dtype=np.int64)
    bottom = np.full(k, -1, dtype=np.int64)
    left = np.full(k, w, dtype=np.int64)
    right = np.full(k, -1, dtype=np.int64)
    np.minimum.at(top, run_label, rows)
    np.maximum.at(bottom, run_label, rows)
    np.minimum.at(left, run_label, starts)
    np.maximum.at(right, run_label, ends - 1)
    return _Components(labels, areas, top, bottom, left, right)


# ---------------------------------------------------------------------------------------------
# Ruled lines


def _vertical_runs(mask: np.ndarray) -> np.ndarray:
    """For each ink pixel, the length of the vertical run of ink it belongs to."""
    h, w = mask.shape
    cols = np.zeros((w, h + 1), dtype=bool)
    cols[:, :h] = mask.T
    flat = cols.ravel()
    starts = flat & ~np.concatenate(([False], flat[:-1]))
    ids = np.cumsum(starts)
    lengths = np.bincount(ids[flat], minlength=int(ids[-1]) + 1)
    out = np.zeros(flat.shape, dtype=np.int64)
    out[flat] = lengths[ids[flat]]
    return out.reshape(w, h + 1)[:, :h].T


def _horizontal_lines(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Pixels of long thin near-horizontal lines (±6°) spanning most of the width, and their count.

    Ink that continues above or below a line (a digit's stroke crossing it) is kept.
    """
    h, w = mask.shape
    found = np.zeros_like(mask)
    if min(h, w) < MIN_LINE_SIDE:
        return found, 0
    ys, xs = np.nonzero(mask)
    if ys.size < LINE_COVER * w:
        return found, 0
    pad = int(math.ceil(0.05 * w)) + 2
    n_rows = h + 2 * pad
    best: tuple[float, np.ndarray] | None = None
    # Shear so a slightly tilted line becomes a row; the best slope concentrates ink most.
    for slope in np.linspace(-0.1, 0.1, 21):
        sheared = ys - np.round((xs - w / 2) * slope).astype(np.int64) + pad
        cover = np.bincount(sheared, minlength=n_rows) / w
        score = float((cover**2).sum())
        if best is None or score > best[0]:
            best = (score, sheared)
    assert best is not None
    sheared = best[1]
    occupied = np.zeros((n_rows, w), dtype=bool)
    occupied[sheared, xs] = True
    # Allow a line to wander by a row (slope steps, JPEG); count columns, not pixels.
    near = occupied.copy()
    near[1:] |= occupied[:-1]
    near[:-1] |= occupied[1:]
    is_line = near.sum(axis=1) >= LINE_COVER * w
    if not is_line.any():
        return found, 0
    max_thick = max(3, round(0.02 * h))
    candidate = np.zeros(ys.size, dtype=bool)
    allowed = np.zeros(ys.size, dtype=np.int64)
    count = 0
    edges = np.diff(np.concatenate(([0], is_line.astype(np.int8), [0])))
    for first, stop in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True):
        thick = stop - first - 2  # the 3-row window widened the band by one row each side
        if thick > max_thick:
            continue
        in_band = (sheared >= first - 1) & (sheared <= stop)
        # A ruled line runs (nearly) edge to edge; a digit's stroke stops inside the picture.
        if np.ptp(xs[in_band]) < 0.85 * w:
            continue
        candidate |= in_band
        allowed[in_band] = max(thick, 1) + 2
        count += 1
    if not count:
        return found, 0
    runs = _vertical_runs(mask)[ys, xs]
    remove = candidate & (runs <= allowed)
    found[ys[remove], xs[remove]] = True
    return found, count


def _ruled_lines(mask: np.ndarray) -> tuple[np.ndarray, int]:
    across, n_across = _horizontal_lines(mask)
    down, n_down = _horizontal_lines(mask.T)
    return across | down.T, n_across + n_down


# ---------------------------------------------------------------------------------------------
# The pipeline


def _ink_is_dark(grey: np.ndarray) -> bool:
    """True for dark ink on light paper, judged by a clean border or else by the outliers."""
    h, w = grey.shape
    b = max(1, min(h, w) // 20)
    border = np.concatenate(
        [grey[:b].ravel(), grey[-b:].ravel(), grey[:, :b].ravel(), grey[:, -b:].ravel()]
    )
    level = float(np.median(border))
    if float(border.std()) < 0.1 and (level < 0.2 or level > 0.8):
        return level > 0.5
    # Ink is the minority: it lies further from the median, on its own side.
    median = float(np.median(grey))
    low, high = np.percentile(grey, [0.2, 99.8])
    return median - float(low) > float(high) - median


def _background(paper: np.ndarray) -> np.ndarray:
    """Paper brightness without the ink: a closing (max then min) at low resolution, blurred."""
    h, w = paper.shape
    factor = max(1, math.ceil(max(h, w) / 128))
    small = _block_quantile(paper, factor, 0.9)
    k = max(3, min(small.shape) // 4) | 1
    small = _erode(_dilate(small, k, extend=True), k, extend=True)
    # Only a light blur: a heavy one would smear a hard shadow edge into fake ink.
    small = _box_blur(small, 1)
    if float(small.max() - small.min()) < 0.08:
        # Evenly lit: one level for all, so clean images pass through untouched.
        return np.full_like(paper, float(np.median(small)))
    bh, bw = small.shape
    full = _resize(small.astype(np.float32), (bw * factor, bh * factor))
    return full[:h, :w]


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width: twice the area over the boundary length."""
    area = int(mask.sum())
    if area == 0:
        return 0.0
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    boundary = area - int(inner.sum())
    return 2.0 * area / max(boundary, 1)


def _crop_to_ink(array: np.ndarray, level: float = 0.0) -> np.ndarray:
    rows = np.nonzero((array > level).any(axis=1))[0]
    cols = np.nonzero((array > level).any(axis=0))[0]
    if rows.size == 0:
        return array[:0, :0]
    return array[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _normalise_strokes(crop: np.ndarray) -> np.ndarray:
    """Reduce to about 80 px keeping thin strokes (block max), then widen or thin strokes."""
    long_side = max(crop.shape)
    factor = max(1, math.ceil(long_side / STROKE_SIDE))
    if factor > 1:
        h, w = crop.shape
        padded = np.pad(crop, ((0, -h % factor), (0, -w % factor)))
        shape = (padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
        crop = padded.reshape(shape).max(axis=(1, 3))
    scale = max(crop.shape) / BOX  # intermediate pixels per final pixel
    target = TARGET_STROKE * scale
    width = _stroke_width(crop > 0.5)
    if 0 < width < 0.6 * target:
        size = 2 * max(1, round((0.85 * target - width) / 2)) + 1
        crop = np.pad(crop, size // 2)
        crop = _dilate(crop, size)
    elif width > 2.0 * target:
        size = 2 * max(1, min(round((width - 1.5 * target) / 2), round(width / 4))) + 1
        thinner = _erode(crop, size)
        if (thinner > 0.5).any():
            crop = thinner
    # Faint antialiasing fringes do not count towards the 20 px box (as in MNIST).
    return _crop_to_ink(crop, 0.1)


def _fit_and_centre(crop: np.ndarray) -> np.ndarray:
    """Fit into 20x20 keeping aspect ratio; place the centre of mass at (14, 14) in 28x28."""
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.clip(_resize(crop, size), 0.0, None)
    total = float(small.sum())
    canvas = np.zeros((SIDE, SIDE), dtype=np.float32)
    if total <= 0:
        return canvas
    rows, cols = np.indices(small.shape)
    cy = float((rows * small).sum()) / total
    cx = float((cols * small).sum()) / total
    sh, sw = small.shape
    # Integer shift (as MNIST), clamped so the whole box stays inside the 28x28 field.
    top = int(np.clip(round(SIDE / 2 - cy), 0, SIDE - sh))
    left = int(np.clip(round(SIDE / 2 - cx), 0, SIDE - sw))
    canvas[top : top + sh, left : left + sw] = small
    peak = float(canvas.max())
    if peak > 0:
        canvas /= peak
    return np.clip(canvas, 0.0, 1.0).astype(np.float32)


def _thumbnail(grey: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = grey.shape
    scale = min(1.0, THUMB_SIDE / max(h, w))
    picture = Image.fromarray(np.round(grey * 255).astype(np.uint8), mode="L")
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        picture = picture.resize(size, Image.Resampling.BOX)
    return np.asarray(picture, dtype=np.uint8).copy(), scale


def _main_part(parts: _Components, h: int, w: int) -> int:
    """The digit's largest piece; page edges and shadows along a whole side count for less."""
    heights = parts.bottom - parts.top + 1
    widths = parts.right - parts.left + 1
    touches = (parts.top == 0) | (parts.left == 0) | (parts.bottom == h - 1)
    touches |= parts.right == w - 1
    spans = touches & ((heights >= 0.9 * h) | (widths >= 0.9 * w))
    return int(np.argmax(parts.areas * np.where(spans, 0.25, 1.0)))


def _digit_pixels(parts: _Components) -> np.ndarray:
    """The main part plus every sizeable part near it (a broken stroke, a separate bar)."""
    h, w = parts.labels.shape
    main = _main_part(parts, h, w)
    reach = 0.15 * max(parts.bottom[main] - parts.top[main], parts.right[main] - parts.left[main])
    reach += 2
    sizeable = parts.areas >= 0.03 * parts.areas[main]
    keep = np.zeros(parts.areas.size, dtype=bool)
    keep[main] = True
    # Grow the kept box by parts within reach until nothing more joins.
    for _ in range(8):
        top, bottom = parts.top[keep].min() - reach, parts.bottom[keep].max() + reach
        left, right = parts.left[keep].min() - reach, parts.right[keep].max() + reach
        near = (parts.bottom >= top) & (parts.top <= bottom)
        near &= (parts.right >= left) & (parts.left <= right)
        grown = keep | (near & sizeable)
        if np.array_equal(grown, keep):
            break
        keep = grown
    labels = parts.labels
    return (labels >= 0) & keep[np.maximum(labels, 0)]


def _has_digit(parts: _Components, h: int, w: int) -> bool:
    if parts.areas.size == 0:
        return False
    main = _main_part(parts, h, w)
    extent = max(parts.bottom[main] - parts.top[main], parts.right[main] - parts.left[main]) + 1
    return bool(extent >= max(3, 0.04 * min(h, w)))


def _not_found(message: str, thumb: np.ndarray, source: tuple[int, int]) -> Preprocessed:
    blank = np.zeros((SIDE, SIDE), dtype=np.float32)
    return Preprocessed(blank, False, message, thumb, source)


def _pipeline(grey: np.ndarray, source: tuple[int, int]) -> Preprocessed:
    thumb, thumb_scale = _thumbnail(grey)
    h, w = grey.shape
    if max(h, w) < 8 or min(h, w) < 2:
        return _not_found(
            f"No digit found: the image is only {source[0]}x{source[1]} pixels.", thumb, source
        )
    paper = grey if _ink_is_dark(grey) else 1.0 - grey
    background = _background(paper)
    # Dividing by the paper's own brightness evens out shading and gradients.
    # (In near-black regions differences are judged absolutely: nothing there is recoverable.)
    ink = np.clip((background - paper) / np.maximum(background, 0.25), 0.0, 1.0)
    if float(ink.max()) < MIN_CONTRAST:
        return _not_found("No digit found: the image is blank.", thumb, source)
    threshold = max(_otsu(ink), MIN_CONTRAST)
    mask = ink >= threshold
    lines, n_lines = _ruled_lines(mask)
    parts = _components(mask & ~lines)
    if n_lines == 1 and not _has_digit(parts, h, w):
        # One lone "line" and nothing else is more likely a tightly cropped 1 than a rule.
        lines[:] = False
        parts = _components(mask)
    mask &= ~lines
    if not _has_digit(parts, h, w):
        if parts.areas.size == 0 and n_lines:
            return _not_found("No digit found: there are only ruled lines.", thumb, source)
        if parts.areas.size == 0:
            return _not_found("No digit found: the image is blank.", thumb, source)
        return _not_found(
            "No digit found: there are only specks, nothing the size of a digit.", thumb, source
        )
    kept = _digit_pixels(parts)
    # Bridge the thin gaps a removed line left in a stroke crossing it.
    kept |= lines & _dilate(kept.astype(np.uint8), 3).astype(bool)
    around = _dilate(kept.astype(np.uint8), 3).astype(bool) & ~(lines & ~kept)
    # Keep the antialiased greys: stretch between the paper noise and the typical stroke.
    outside = ink[~around]
    noise = float(np.percentile(outside, 99)) if outside.size else 0.0
    low = min(noise, 0.6 * threshold)
    high = max(float(np.percentile(ink[kept], 90)), low + 1e-3)
    soft = np.clip((ink - low) / (high - low), 0.0, 1.0) * around
    rows = np.nonzero(kept.any(axis=1))[0]
    cols = np.nonzero(kept.any(axis=0))[0]
    top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, h)
    left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, w)
    crop = _normalise_strokes(soft[top:bottom, left:right])
    if crop.size == 0:
        return _not_found("No digit found: the image is blank.", thumb, source)
    pixels = _fit_and_centre(crop)
    at_edge = rows[0] == 0 or cols[0] == 0 or rows[-1] == h - 1 or cols[-1] == w - 1
    message = EDGE_MESSAGE if at_edge else ""
    box = (
        int(cols[0] * thumb_scale),
        int(rows[0] * thumb_scale),
        int(math.ceil((cols[-1] + 1) * thumb_scale)),
        int(math.ceil((rows[-1] + 1) * thumb_scale)),
    )
    return Preprocessed(pixels, True, message, thumb, source, box)


def preprocess_image(image: Image.Image | np.ndarray) -> Preprocessed:
    """Turn a picture of one digit into an MNIST-style (28, 28) float32 image.

    Accepts a PIL image of any mode (transparency is flattened so the strokes show) or a
    numpy array: greyscale (H, W) uint8 or float in [0, 1], or (H, W, 3|4) colour. Dark ink on
    light paper and light ink on dark are both handled. When no digit is found (a blank, white
    or black picture, or only lines and specks) ``found`` is False, ``pixels`` is all zero and
    ``message`` says why. Raises :class:`ImageError` only for input that is not an image.
    """
    grey, source = _to_grey(image)
    return _pipeline(grey, source)


def preprocess_path(path: str | os.PathLike[str]) -> Preprocessed:
    """Load a picture file safely (see :func:`load_image`) and preprocess it."""
    return preprocess_image(load_image(path))


def naive_preprocess(image: Image.Image | np.ndarray) -> np.ndarray:
    """The old way, kept for comparison: greyscale and resize to 28x28, nothing else."""
    if isinstance(image, Image.Image):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
        except Exception:
            raise ImageError(
                f"Images in colour mode {image.mode} cannot be used; save the picture as PNG."
            ) from None
    elif isinstance(image, np.ndarray) and image.size and image.ndim >= 2:
        array = image[..., :3].mean(axis=-1) if image.ndim == 3 else image
        grey = _array_to_unit(np.asarray(array))
    else:
        raise ImageError("This is not an image; pass a PIL image or a numpy array.")
    return np.clip(_resize(grey, (SIDE, SIDE)), 0.0, 1.0).astype(np.float32)
