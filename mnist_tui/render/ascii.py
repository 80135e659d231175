"""Plain-ASCII images for terminals without colour (NO_COLOR, TERM=dumb, logs, copy-paste).

Each pixel is one row tall and ``width_scale`` characters wide (2 by default) because a text cell
is about twice as tall as it is wide, so a square pixel needs two characters.
"""

from __future__ import annotations

import numpy as np

from mnist_tui.render.colors import normalise_signed, to_unit

# From no ink to most ink; the standard ten-step ramp.
GRAY_RAMP = " .:-=+*#%@"

# Signed filters, from -1 to +1: minus-like glyphs for negative (". - =" grow with magnitude),
# blank at zero, plus-like glyphs for positive ("+ * #"), so the sign reads without colour.
SIGNED_RAMP = "=-. +*#"


def _lookup(levels: np.ndarray, ramp: str, width_scale: int) -> list[str]:
    """Turn a 2-D array of ramp indices into strings, each character repeated width_scale times."""
    if width_scale < 1:
        raise ValueError(f"width_scale must be a positive integer, got {width_scale}.")
    glyphs = np.array([ch * width_scale for ch in ramp], dtype=object)
    return ["".join(row) for row in glyphs[levels].tolist()]


def ascii_image(a: np.ndarray, width_scale: int = 2, ramp: str = GRAY_RAMP) -> list[str]:
    """Render a 2-D intensity image (float in [0, 1] or uint8) as lines of ramp characters.

    0 maps to the first ramp character (blank), 1 to the last ("@").
    """
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"Expected a 2-D image, got shape {a.shape}.")
    levels = np.rint(to_unit(a) * (len(ramp) - 1)).astype(np.intp)
    return _lookup(levels, ramp, width_scale)


def ascii_signed(
    a: np.ndarray, vmax: float | None = None, width_scale: int = 2, ramp: str = SIGNED_RAMP
) -> list[str]:
    """Render a 2-D signed array with the signed ramp: -vmax is "=", zero blank, +vmax is "#".

    ``vmax`` defaults to the largest magnitude in ``a``.
    """
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"Expected a 2-D array, got shape {a.shape}.")
    unit = (normalise_signed(a, vmax) + 1.0) / 2.0
    levels = np.rint(unit * (len(ramp) - 1)).astype(np.intp)
    return _lookup(levels, ramp, width_scale)
