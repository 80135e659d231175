"""Colour scales for text art: arrays of values in, arrays of uint8 RGB out.

The scales are piecewise-linear ramps through a few anchor colours, vectorised with ``np.interp``
so that a whole image is coloured in one call. Colour depth is rich's job: styles are built from
24-bit colours and a ``Console(color_system="256")`` downgrades them to the nearest xterm colour
when it prints. Whether to draw in colour at all (``NO_COLOR``, ``TERM=dumb``) is the caller's
choice; :func:`no_color_requested` and :func:`color_depth` only read the environment for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

import numpy as np

ColorDepth = Literal["truecolor", "256"]
SequentialMap = Literal["gray", "viridis"]

# Blue -> near-black -> red/orange; CIE lightness ~83, 56, 36, 15, 39, 60, 84 so that equal
# magnitudes look equally strong on either side and zero recedes into a dark terminal.
_DIVERGING_POS = np.linspace(-1.0, 1.0, 7)
_DIVERGING_RGB = np.array(
    [
        (170, 210, 255),
        (60, 135, 235),
        (35, 80, 170),
        (38, 38, 42),
        (165, 50, 38),
        (228, 112, 55),
        (255, 200, 140),
    ],
    dtype=np.float64,
)

# Nine samples of matplotlib's viridis: perceptually uniform, readable by most colour-blind users.
_VIRIDIS_POS = np.linspace(0.0, 1.0, 9)
_VIRIDIS_RGB = np.array(
    [
        (68, 1, 84),
        (72, 40, 120),
        (62, 73, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (253, 231, 37),
    ],
    dtype=np.float64,
)

_GRAY_POS = np.array([0.0, 1.0])
_GRAY_RGB = np.array([(0, 0, 0), (255, 255, 255)], dtype=np.float64)


def _ramp(v: np.ndarray, positions: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """Interpolate each value between anchor colours; values outside the anchors are clamped."""
    flat = np.nan_to_num(np.asarray(v, dtype=np.float64), nan=0.0).ravel()
    out = np.empty((flat.size, 3), dtype=np.uint8)
    for channel in range(3):
        out[:, channel] = np.rint(np.interp(flat, positions, colors[:, channel]))
    return out.reshape(*np.shape(v), 3)


def diverging(v: np.ndarray | float) -> np.ndarray:
    """Map values in [-1, 1] to RGB: blue for negative, near-black at zero, orange for positive.

    Values outside [-1, 1] are clamped; NaN counts as zero. Returns uint8 ``v.shape + (3,)``.
    """
    return _ramp(np.asarray(v), _DIVERGING_POS, _DIVERGING_RGB)


def sequential(v: np.ndarray | float, cmap: SequentialMap = "gray") -> np.ndarray:
    """Map values in [0, 1] to RGB: ``"gray"`` black to white (digits), ``"viridis"`` (heatmaps).

    Values outside [0, 1] are clamped; NaN counts as zero. Returns uint8 ``v.shape + (3,)``.
    """
    if cmap == "gray":
        return _ramp(np.asarray(v), _GRAY_POS, _GRAY_RGB)
    if cmap == "viridis":
        return _ramp(np.asarray(v), _VIRIDIS_POS, _VIRIDIS_RGB)
    raise ValueError(f"Unknown colour map {cmap!r}; use 'gray' or 'viridis'.")


def to_unit(a: np.ndarray) -> np.ndarray:
    """Intensities as float in [0, 1]: uint8 is divided by 255, floats are clipped."""
    a = np.asarray(a)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    return np.clip(np.nan_to_num(a.astype(np.float32)), 0.0, 1.0)


def normalise_signed(a: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Divide by ``vmax`` (default: max |a|) into [-1, 1]; zero ``vmax`` gives zeros, not NaNs."""
    a = np.nan_to_num(np.asarray(a, dtype=np.float64))
    if vmax is None:
        vmax = float(np.max(np.abs(a))) if a.size else 0.0
    if vmax <= 0:
        return np.zeros_like(a)
    return np.clip(a / vmax, -1.0, 1.0)


def contrasting_text(rgb: np.ndarray) -> np.ndarray:
    """Pick black or white text for each background colour (uint8 ``(..., 3)``) by luminance."""
    rgb = np.asarray(rgb, dtype=np.float64)
    luminance = rgb @ np.array([0.2126, 0.7152, 0.0722])
    dark = np.zeros(rgb.shape, dtype=np.uint8)
    light = np.full(rgb.shape, 255, dtype=np.uint8)
    return np.where((luminance > 140)[..., None], dark, light)


def no_color_requested(environ: Mapping[str, str] | None = None) -> bool:
    """True when the user asked for no colour (``NO_COLOR`` set and non-empty, or ``TERM=dumb``).

    The caller decides what that means; render's ``ascii=True`` variants are the intended fallback.
    """
    env = os.environ if environ is None else environ
    return env.get("NO_COLOR", "") != "" or env.get("TERM", "") == "dumb"


def color_depth(environ: Mapping[str, str] | None = None) -> ColorDepth:
    """``"truecolor"`` when ``COLORTERM`` advertises 24-bit colour, else ``"256"``.

    Pass the answer as ``Console(color_system=...)``; rich then downgrades every 24-bit style.
    """
    env = os.environ if environ is None else environ
    if env.get("COLORTERM", "").strip().lower() in ("truecolor", "24bit"):
        return "truecolor"
    return "256"
