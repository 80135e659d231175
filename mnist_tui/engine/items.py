"""Preprocessing for data sets whose pictures hold one whole object (Fashion-MNIST).

A digit is ink on paper: the digit pipeline (:mod:`preprocess`) finds strokes, normalises their
width and fits them in MNIST's 20x20 box, and a row of digits is read as a number. None of that
fits a photo of a shoe. Fashion-MNIST's pictures were made from product photos on a plain
background by trimming the background, resizing the longest edge to 28 pixels, centring the
result in 28x28 and negating it (the item bright on black). This module does the same to the
user's picture, so what the network sees is what it was trained on. It is small enough that a
library would add nothing: Pillow resizes, scipy.ndimage drops specks.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from mnist_tui.engine.imageio import _to_grey
from mnist_tui.engine.imageops import _resize
from mnist_tui.engine.preprocess import SIDE, Preprocessed, _thumbnail

# How much an item must differ from the background (as a fraction of the range) to count.
ITEM_CONTRAST = 0.08
NO_ITEM = (
    "No item found in the image: it is blank or too faint; photograph the item on a plain "
    "background."
)


def _background(grey: np.ndarray) -> float:
    """The background's brightness: the median of the picture's outer frame (a product photo's
    item sits inside the frame; its background reaches the edges)."""
    h, w = grey.shape
    b = max(1, min(h, w) // 40)
    frame = np.concatenate(
        [grey[:b].ravel(), grey[-b:].ravel(), grey[:, :b].ravel(), grey[:, -b:].ravel()]
    )
    return float(np.median(frame))


def item_pixels(grey: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """The item bright on black, trimmed of its background, its longest edge 28 pixels and
    centred in 28x28; plus its (left, top, right, bottom) in ``grey``. None when nothing stands
    out from the background."""
    background = _background(grey)
    # Light backgrounds (a product photo, a scan) are negated, as Fashion-MNIST's were.
    item = 1.0 - grey if background > 0.5 else grey.copy()
    level = min(background, 1.0 - background)
    item = np.clip((item - level) / max(1.0 - level, 1e-6), 0.0, 1.0)
    # Specks and JPEG noise never widen the box: only what survives a 3x3 median counts.
    mask = ndimage.median_filter(item, size=3) > ITEM_CONTRAST
    if not mask.any():
        return np.zeros((SIDE, SIDE), np.float32), None
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = item[top:bottom, left:right]
    h, w = crop.shape
    scale = SIDE / max(h, w)
    small = np.clip(_resize(crop, (max(1, round(w * scale)), max(1, round(h * scale)))), 0, 1)
    canvas = np.zeros((SIDE, SIDE), np.float32)
    sh, sw = small.shape
    y, x = (SIDE - sh) // 2, (SIDE - sw) // 2
    canvas[y : y + sh, x : x + sw] = small
    return canvas, (left, top, right, bottom)


def is_item_format(grey: np.ndarray) -> bool:
    """True for a picture that already is a data-set image: 28x28 with a black background."""
    return grey.shape == (SIDE, SIDE) and _background(grey) <= 0.05


def preprocess_item(image: object) -> Preprocessed:
    """Make one picture of a whole object (a PIL image or an array) ready for a Fashion-MNIST
    network. ``found`` is False, with one sentence, when nothing stands out from the
    background. Raises :class:`ImageError` only for input that is not an image."""
    grey, source = _to_grey(image)  # type: ignore[arg-type]
    thumb, thumb_scale = _thumbnail(grey)
    if is_item_format(grey):
        pixels = np.clip(grey, 0.0, 1.0).astype(np.float32)
        if pixels.max() <= ITEM_CONTRAST:
            return Preprocessed(np.zeros_like(pixels), False, NO_ITEM, thumb, source)
        full = (0, 0, SIDE, SIDE)
        return Preprocessed(pixels, True, "", thumb, source, full, full)
    pixels, box = item_pixels(grey)
    if box is None:
        return Preprocessed(pixels, False, NO_ITEM, thumb, source)
    h, w = grey.shape
    sx, sy = source[0] / w, source[1] / h
    source_box = (
        int(box[0] * sx), int(box[1] * sy), round(box[2] * sx), round(box[3] * sy)
    )  # fmt: skip
    shown = tuple(int(round(v * thumb_scale)) for v in box)
    return Preprocessed(pixels, True, "", thumb, source, shown, source_box)  # type: ignore[arg-type]
