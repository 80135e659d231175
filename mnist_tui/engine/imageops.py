"""Image operations the preprocessing and the segmentation share: morphology, blurs, resizing,
Otsu's threshold, connected components and ruled-line detection (numpy, scipy.ndimage, Pillow).

Blurs and labelling are ``scipy.ndimage`` (uniform filter, label, find_objects, binary_erosion),
replacing a hand-written numpy version: the same pixels (to 2e-4) and faster. Hand-written:
``_vertical_runs`` (run lengths, which ndimage has no call for) and the running maximum and
minimum (:func:`max_filter`, :func:`min_filter`, :func:`grey_opening`): ndimage's pixels bit
for bit, at a fifth of its time, which halved a photo's preprocessing (see :func:`_running`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

# A ruled line covers at least this fraction of the width (or height for vertical lines).
LINE_COVER = 0.6
# Images smaller than this on their shorter side have no ruled lines worth looking for.
MIN_LINE_SIDE = 48
# Ruled lines are looked for up to this slope (about 20 degrees: a photo taken askew).
MAX_SLOPE = 0.36
# 8-connectivity: diagonal neighbours belong to the same stroke.
EIGHT = np.ones((3, 3), dtype=bool)
FOUR = ndimage.generate_binary_structure(2, 1)


# ---------------------------------------------------------------------------------------------
# Filters


def _running(
    array: np.ndarray, size: int, axis: int, op, mode: str, cval: float, origin: int = 0
) -> np.ndarray:
    """The running maximum (``op`` = np.maximum) or minimum (np.minimum) over ``size``
    samples along ``axis``: ``ndimage.maximum_filter1d``'s (or ``minimum_filter1d``'s) result,
    bit for bit, for the modes "constant", "nearest" and "reflect" (others go to ndimage).

    Written here because scipy's running extremes cost 1.3-2 ms per pass on a working-size
    picture of real paper, even for a 3-sample window (measured), and they were half of a
    photo's preprocessing. This one takes the extreme of pairs, then of pairs of
    pairs, so a window of any size is two overlapping power-of-two windows: log2(size) + 1
    elementwise passes of numpy, 0.15-0.4 ms each call for the windows used here. Max and min
    are exact, so no rounding differs.
    """
    n = array.shape[axis]
    before = size // 2 + origin
    after = size - 1 - before
    simple = mode in ("constant", "nearest", "reflect")
    if size <= 1 or not simple or max(before, after) >= n or min(before, after) < 0:
        filt = ndimage.maximum_filter1d if op is np.maximum else ndimage.minimum_filter1d
        return filt(array, size, axis=axis, mode=mode, cval=cval, origin=origin)
    m = _pad_line(np.moveaxis(array, axis, 0), before, after, mode, cval)
    span = 1
    while 2 * span <= size:
        m = op(m[:-span], m[span:])
        span *= 2  # m[i]: the extreme over samples i .. i + span - 1 of the padded line
    out = op(m[:n], m[size - span : size - span + n]) if span < size else m[:n]
    return np.ascontiguousarray(np.moveaxis(out, 0, axis))


def _pad_line(lines: np.ndarray, before: int, after: int, mode: str, cval: float) -> np.ndarray:
    """``lines`` extended along its first axis as ndimage's ``mode`` extends it (both pads
    shorter than the line): np.pad's result, without its general machinery's cost."""
    n = lines.shape[0]
    out = np.empty((before + n + after,) + lines.shape[1:], dtype=lines.dtype)
    out[before : before + n] = lines
    if mode == "constant":
        out[:before] = cval
        out[before + n :] = cval
    elif mode == "nearest":
        out[:before] = lines[:1]
        out[before + n :] = lines[-1:]
    else:  # reflect: d c b a | a b c d | d c b a
        out[:before] = lines[:before][::-1]
        out[before + n :] = lines[n - after :][::-1]
    return out


def _extreme_filter(
    array: np.ndarray, size, op, mode: str = "reflect", cval: float = 0.0, origin=0
) -> np.ndarray:
    """A running extreme over a rectangle (``size``: an int or one per axis): the 1-D passes
    of :func:`_running` along each axis in turn, as ``ndimage.maximum_filter`` does."""
    sizes = [size] * array.ndim if isinstance(size, int) else list(size)
    origins = [origin] * array.ndim if isinstance(origin, int) else list(origin)
    out = array
    for axis, (s, o) in enumerate(zip(sizes, origins, strict=True)):
        if s > 1:
            out = _running(out, s, axis, op, mode, cval, o)
    return out.copy() if out is array else out


def max_filter(array: np.ndarray, size, mode: str = "reflect", cval: float = 0.0) -> np.ndarray:
    """``ndimage.maximum_filter(array, size, mode=mode, cval=cval)``, the same pixels, faster
    (see :func:`_running`)."""
    return _extreme_filter(array, size, np.maximum, mode, cval)


def min_filter(array: np.ndarray, size, mode: str = "reflect", cval: float = 0.0) -> np.ndarray:
    """``ndimage.minimum_filter(array, size, mode=mode, cval=cval)``, the same pixels, faster
    (see :func:`_running`)."""
    return _extreme_filter(array, size, np.minimum, mode, cval)


def grey_opening(array: np.ndarray, size) -> np.ndarray:
    """``ndimage.grey_opening(array, size=size)``, the same pixels, faster: its erosion, then
    its dilation, whose window ndimage shifts by one sample along an even-sized axis."""
    sizes = [size] * array.ndim if isinstance(size, int) else list(size)
    eroded = _extreme_filter(array, sizes, np.minimum)
    return _extreme_filter(eroded, sizes, np.maximum, origin=[-(1 - s % 2) for s in sizes])


def _pad(array: np.ndarray, pad: list[tuple[int, int]], extend: bool) -> np.ndarray:
    # Extending linearly (odd reflection) keeps a lighting ramp a ramp up to the border.
    if extend:
        return np.pad(array, pad, mode="reflect", reflect_type="odd")
    return np.pad(array, pad, mode="edge")


def _filtered(array: np.ndarray, size: int, extend: bool, apply, room: int) -> np.ndarray:
    """``apply`` (a filter of ``size`` taking ndimage's modes) with edges replicated, or
    extended linearly (odd reflection) along each axis longer than ``room``."""
    if not extend:
        return apply(array, size=size, mode="nearest")
    r = size // 2
    pad = [(r, r) if n > room else (0, 0) for n in array.shape]
    out = apply(_pad(array, pad, True), size=size, mode="nearest")
    return out[tuple(slice(p, p + n) for (p, _), n in zip(pad, array.shape, strict=True))]


def _dilate(array: np.ndarray, size: int, extend: bool = False) -> np.ndarray:
    """Grey dilation by a ``size`` x ``size`` square (running maximum)."""
    if size <= 1:
        return array
    return _filtered(array, size, extend, max_filter, size // 2)


def _erode(array: np.ndarray, size: int, extend: bool = False) -> np.ndarray:
    """Grey erosion by a ``size`` x ``size`` square (running minimum)."""
    if size <= 1:
        return array
    return _filtered(array, size, extend, min_filter, size // 2)


def _box_blur(array: np.ndarray, radius: int) -> np.ndarray:
    """Mean over (2r+1) x (2r+1) samples, edges extended linearly: a cheap low-pass."""
    if radius < 1:
        return array
    size = 2 * radius + 1
    return _filtered(array.astype(np.float64), size, True, ndimage.uniform_filter, radius + 1)


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


def _percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear, no NaNs), the same number, about 5x faster on a
    working-size picture: np.percentile also partitions for a NaN check (1.7 ms of a 40 ms
    preprocess, twice); here one partition at the lower index, the next value is the minimum
    above it, and np.percentile interpolates between the two exactly as it would."""
    flat = np.ravel(values)
    index = q / 100 * (flat.size - 1)
    lo = int(math.floor(index))
    part = np.partition(flat, lo)
    above = part[lo + 1 :].min() if lo + 1 < flat.size else part[lo]
    pair = np.array([part[lo], above], dtype=flat.dtype)
    return float(np.percentile(pair, (index - lo) * 100))


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
# Connected components (8-connectivity)


@dataclass
class _Components:
    labels: np.ndarray  # (H, W) int, -1 for background
    areas: np.ndarray
    top: np.ndarray
    bottom: np.ndarray  # inclusive
    left: np.ndarray
    right: np.ndarray  # inclusive


def _components(mask: np.ndarray) -> _Components:
    """Label 8-connected ink, numbered in raster order of each part's first pixel."""
    labels, k = ndimage.label(mask, structure=EIGHT)
    labels = labels.astype(np.int64) - 1
    areas = np.bincount(labels[labels >= 0], minlength=k).astype(np.int64)
    boxes = ndimage.find_objects(labels + 1, max_label=k)
    top = np.array([b[0].start for b in boxes], dtype=np.int64)
    bottom = np.array([b[0].stop - 1 for b in boxes], dtype=np.int64)
    left = np.array([b[1].start for b in boxes], dtype=np.int64)
    right = np.array([b[1].stop - 1 for b in boxes], dtype=np.int64)
    return _Components(labels, areas, top, bottom, left, right)


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width: twice the area over the boundary length."""
    area = int(mask.sum())
    if area == 0:
        return 0.0
    inner = ndimage.binary_erosion(mask, structure=FOUR, border_value=1)
    boundary = area - int(inner.sum())
    return 2.0 * area / max(boundary, 1)


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


def _best_shear(ys: np.ndarray, xs: np.ndarray, h: int, w: int) -> tuple[np.ndarray, float, int]:
    """Shear the ink so that tilted lines become rows: each pixel's row under the slope that
    concentrates the ink most, that slope, and the number of rows."""
    pad = int(math.ceil(MAX_SLOPE / 2 * w)) + 2
    n_rows = h + 2 * pad
    best: tuple[float, np.ndarray, float] | None = None

    def shear(slope: float) -> tuple[float, np.ndarray]:
        sheared = ys - np.round((xs - w / 2) * slope).astype(np.int64) + pad
        cover = np.bincount(sheared, minlength=n_rows) / w
        return float((cover**2).sum()), sheared

    # Coarse steps over a phone's tilt (about 20 degrees either way), then fine ones around
    # the best.
    coarse = max(np.linspace(-MAX_SLOPE, MAX_SLOPE, 21), key=lambda m: shear(float(m))[0])
    for slope in np.clip(np.linspace(coarse - 0.02, coarse + 0.02, 9), -MAX_SLOPE, MAX_SLOPE):
        score, sheared = shear(float(slope))
        if best is None or score > best[0]:
            best = (score, sheared, float(slope))
    assert best is not None
    return best[1], best[2], n_rows


def _line_rows(sheared: np.ndarray, xs: np.ndarray, n_rows: int, w: int, cover: float):  # noqa: ANN202
    """Which sheared rows are lines: ink in at least ``cover`` of the columns, a line allowed
    to wander by a row (slope steps, JPEG)."""
    occupied = np.zeros((n_rows, w), dtype=bool)
    occupied[sheared, xs] = True
    near = occupied.copy()
    near[1:] |= occupied[:-1]
    near[:-1] |= occupied[1:]
    return near.sum(axis=1) >= cover * w


def _line_slope(mask: np.ndarray, cover: float = 0.4) -> float:
    """The slope of the ruled lines in ``mask`` (rows per column, down to the right positive),
    0 unless two or more lines run across ``cover`` of the width at it: a page turned in the
    photo, whose lines need not reach both edges of the picture (the table shows past them)."""
    h, w = mask.shape
    if min(h, w) < MIN_LINE_SIDE:
        return 0.0
    ys, xs = np.nonzero(mask)
    if ys.size < 2 * cover * w:
        return 0.0
    sheared, slope, n_rows = _best_shear(ys, xs, h, w)
    edges = np.diff(np.concatenate(([0], _line_rows(sheared, xs, n_rows, w, cover), [0])))
    # Thin bands only (as _horizontal_lines): a smudge or shadow filling many rows is no line.
    thick = np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0] - 2
    return slope if np.count_nonzero(thick <= max(3, round(0.02 * h))) >= 2 else 0.0


def _horizontal_lines(mask: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Pixels of long thin near-horizontal lines (±20°) spanning most of the width, their
    count, and their slope (rows per column, down to the right positive; 0 without lines).

    Ink that continues above or below a line (a digit's stroke crossing it) is kept.
    """
    h, w = mask.shape
    found = np.zeros_like(mask)
    if min(h, w) < MIN_LINE_SIDE:
        return found, 0, 0.0
    ys, xs = np.nonzero(mask)
    if ys.size < LINE_COVER * w:
        return found, 0, 0.0
    # Shear so a tilted line becomes a row; the best slope concentrates ink most.
    sheared, slope, n_rows = _best_shear(ys, xs, h, w)
    # Count columns, not pixels.
    is_line = _line_rows(sheared, xs, n_rows, w, LINE_COVER)
    if not is_line.any():
        return found, 0, 0.0
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
        return found, 0, 0.0
    runs = _vertical_runs(mask)[ys, xs]
    remove = candidate & (runs <= allowed)
    found[ys[remove], xs[remove]] = True
    return found, count, slope


def _ruled_lines(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Pixels of ruled (and grid) lines across and down the picture, and how many there are."""
    lines, count, _ = _ruled_lines_and_tilt(mask)
    return lines, count


def _ruled_lines_and_tilt(mask: np.ndarray) -> tuple[np.ndarray, int, float]:
    """:func:`_ruled_lines`, plus the slope of the lines across (0 when fewer than two): the
    page's tilt in the picture, which the writing on it shares."""
    across, n_across, slope = _horizontal_lines(mask)
    down, n_down, _ = _horizontal_lines(mask.T)
    return across | down.T, n_across + n_down, slope if n_across >= 2 else 0.0
