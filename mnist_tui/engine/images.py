"""Image loading and MNIST-style preprocessing: the names every face and test imports.

The work lives in four modules: :mod:`imageio` (safe loading, conversion to grey),
:mod:`imageops` (morphology, labelling, ruled lines), :mod:`preprocess` (the MNIST-style
pipeline) and :mod:`segment` (splitting a row of digits). This module re-exports them so
``mnist_tui.engine.images`` keeps working as before.
"""

from __future__ import annotations

from mnist_tui.engine.imageio import (
    FORMATS,
    MAX_DECODE_PIXELS,
    MAX_FILE_BYTES,
    SOURCE_SIZE_KEY,
    WORK_SIDE,
    _read_regular_file,
    _to_grey,
    load_image,
)
from mnist_tui.engine.imageops import LINE_COVER, MIN_LINE_SIDE, _components, _ruled_lines
from mnist_tui.engine.preprocess import (
    BOX,
    EDGE_MESSAGE,
    MIN_CONTRAST,
    SIDE,
    STROKE_SIDE,
    TARGET_STROKE,
    THUMB_SIDE,
    Preprocessed,
    naive_preprocess,
    preprocess_image,
    preprocess_path,
)

__all__ = [
    "BOX",
    "EDGE_MESSAGE",
    "FORMATS",
    "LINE_COVER",
    "MAX_DECODE_PIXELS",
    "MAX_FILE_BYTES",
    "MIN_CONTRAST",
    "MIN_LINE_SIDE",
    "SIDE",
    "SOURCE_SIZE_KEY",
    "STROKE_SIDE",
    "TARGET_STROKE",
    "THUMB_SIDE",
    "WORK_SIDE",
    "Preprocessed",
    "_components",
    "_read_regular_file",
    "_ruled_lines",
    "_to_grey",
    "load_image",
    "naive_preprocess",
    "preprocess_image",
    "preprocess_path",
]
