"""Colour scales for text art: arrays of values in, arrays of uint8 RGB out.

The scales are piecewise-linear ramps through a few anchor colours, vectorised with ``np.interp``
so that a whole image is coloured in one call. These truecolor ramps are the one
definition of each scale; ``palette.py`` derives a table per colour depth from them (exact xterm
colours for 256, four greys or two-hue shade glyphs for 16), so no terminal re-quantises a scale.
The depth in use is a fact of the process, like the locale: the app and the CLI set it once with
:func:`use_depth` (from :func:`color_depth` or ``--color``) and every art function follows it
unless given ``depth=``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

from mnist_tui.render.depth import (  # noqa: F401 - re-exported: this module's old public names
    COLOR_DEPTHS,
    ColorDepth,
    color_depth,
    current_depth,
    no_color_requested,
    resolve_depth,
    rich_color_system,
    use_depth,
    utf8_locale,
)

SequentialMap = Literal["gray", "viridis"]

# Blue -> near-black -> orange; CIE lightness ~83, 56, 36, 15, 39, 60, 82 so that equal
# magnitudes look equally strong on either side and zero recedes into a dark terminal. Zero is a
# neutral grey (xterm 235) and each half keeps its hue within 26 degrees (LCh), so no tint drifts.
_DIVERGING_POS = np.linspace(-1.0, 1.0, 7)
_DIVERGING_RGB = np.array(
    [
        (170, 210, 255),
        (60, 135, 235),
        (35, 80, 170),
        (38, 38, 38),
        (150, 60, 45),
        (222, 110, 62),
        (255, 188, 150),
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


def _levels(v: np.ndarray, low: float, high: float, steps: int) -> np.ndarray:
    """Indices of the nearest of ``steps + 1`` even levels over [low, high]; NaN counts as zero."""
    flat = np.clip(np.nan_to_num(np.asarray(v, dtype=np.float64), nan=0.0), low, high)
    return np.rint((flat - low) / (high - low) * steps).astype(np.intp)


def diverging(v: np.ndarray | float, depth: ColorDepth | None = None) -> np.ndarray:
    """Map values in [-1, 1] to RGB: blue for negative, near-black at zero, orange for positive.

    Values outside [-1, 1] are clamped; NaN counts as zero. Returns uint8 ``v.shape + (3,)``.
    At 256 colours every colour is an exact xterm colour of the designed table; at 16 colours
    the colour is a shade glyph's ink (see :func:`diverging_shades`).
    """
    depth = current_depth(depth)
    v = np.asarray(v)
    if depth == "256":
        return _diverging_256()[_levels(v, -1.0, 1.0, 2 * _HALF_LEVELS_256)]
    if depth == "16":
        return diverging_shades(v)[1]
    return _ramp(v, _DIVERGING_POS, _DIVERGING_RGB)


def diverging_shades(v: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """The 16-colour form of the diverging scale: shade glyph index (into ``palette.SHADES``)
    growing with |v|, and its ink colour, bright blue for negative and yellow for positive."""
    from mnist_tui.render.palette import ANSI16_RGB

    v = np.nan_to_num(np.clip(np.asarray(v, dtype=np.float64), -1.0, 1.0), nan=0.0)
    level = np.rint(np.abs(v) * 4).astype(np.intp)
    rgb = np.where(
        (v < 0)[..., None],
        np.array(ANSI16_RGB["bright_blue"], dtype=np.uint8),
        np.array(ANSI16_RGB["yellow"], dtype=np.uint8),
    ).astype(np.uint8)
    return level, rgb


def sequential(
    v: np.ndarray | float, cmap: SequentialMap = "gray", depth: ColorDepth | None = None
) -> np.ndarray:
    """Map values in [0, 1] to RGB: ``"gray"`` black to white (digits), ``"viridis"`` (heatmaps).

    Values outside [0, 1] are clamped; NaN counts as zero. Returns uint8 ``v.shape + (3,)``.
    At 256 colours the colours come from the scale's exact-xterm table; at 16, four greys.
    """
    if cmap not in _SEQUENTIAL:
        raise ValueError(f"Unknown colour map {cmap!r}; use 'gray' or 'viridis'.")
    depth = current_depth(depth)
    v = np.asarray(v)
    if depth == "256":
        return _sequential_256(cmap)[_levels(v, 0.0, 1.0, _SEQUENTIAL_LEVELS_256 - 1)]
    if depth == "16":
        return _greys_16()[_levels(v, 0.0, 1.0, 3)]
    positions, colors = _SEQUENTIAL[cmap]
    return _ramp(v, positions, colors)


_SEQUENTIAL: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "gray": (_GRAY_POS, _GRAY_RGB),
    "viridis": (_VIRIDIS_POS, _VIRIDIS_RGB),
}

# Levels per half of the 256-colour diverging scale, and levels of a 256-colour sequential scale:
# as many as the xterm palette can give with lightness rising by >= 3 L* a step.
_HALF_LEVELS_256 = 8
_SEQUENTIAL_LEVELS_256 = 16
_HUE_BAND = 35.0  # degrees each half of a diverging scale may span


@lru_cache(maxsize=1)
def _diverging_256() -> np.ndarray:
    """The 256-colour diverging table: 2 * 8 + 1 exact xterm colours from -1 to +1."""
    from mnist_tui.render.palette import (
        chroma,
        delta_e94,
        hue_degrees,
        monotone_pick,
        srgb_to_lab,
        xterm_candidates,
    )

    cand_rgb, cand_lab = xterm_candidates()
    zero_lab = srgb_to_lab(_ramp(np.array(0.0), _DIVERGING_POS, _DIVERGING_RGB))
    greys = chroma(cand_lab) < 2.0
    zero = int(np.argmin(np.where(greys, np.linalg.norm(cand_lab - zero_lab, axis=1), np.inf)))
    zero_l = float(cand_lab[zero, 0])
    halves: list[np.ndarray] = []
    for sign in (-1.0, 1.0):
        values = sign * np.arange(1, _HALF_LEVELS_256 + 1) / _HALF_LEVELS_256
        target_lab = srgb_to_lab(_ramp(values, _DIVERGING_POS, _DIVERGING_RGB))
        hues = hue_degrees(target_lab)[chroma(target_lab) >= 5.0]
        design = np.degrees(np.angle(np.exp(1j * np.radians(hues)).mean())) % 360.0
        best: tuple[float, list[int]] | None = None
        # Lightness steps as large as the palette allows; then the band may slide a little off
        # the design's hue where the palette has closer colours.
        for step in (3.0, 2.0, 1.0, 0.0):
            for centre in design + np.arange(-10.0, 10.5, 2.5):
                off = np.abs((hue_degrees(cand_lab) - centre + 180.0) % 360.0 - 180.0)
                ok = (off <= _HUE_BAND / 2 - 0.5) & (chroma(cand_lab) >= 5.0)
                allowed = np.broadcast_to(ok, (len(values), len(cand_lab)))
                try:
                    picks = monotone_pick(target_lab, cand_lab, allowed, zero_l, step)
                except ValueError:
                    continue
                cost = float(delta_e94(target_lab, cand_lab[picks]).sum())
                if best is None or cost < best[0]:
                    best = (cost, picks)
            if best is not None:
                break
        if best is None:
            raise ValueError("The xterm palette cannot hold this diverging scale.")
        picks = best[1]
        halves.append(cand_rgb[picks])
    return np.concatenate([halves[0][::-1], cand_rgb[[zero]], halves[1]]).astype(np.uint8)


@lru_cache(maxsize=4)
def _sequential_256(cmap: str) -> np.ndarray:
    """A 256-colour sequential table: 16 exact xterm colours with strictly rising lightness."""
    from mnist_tui.render.palette import chroma, hue_degrees, srgb_to_lab, xterm_candidates

    cand_rgb, cand_lab = xterm_candidates()
    positions, colors = _SEQUENTIAL[cmap]
    values = np.linspace(0.0, 1.0, _SEQUENTIAL_LEVELS_256)
    target_lab = srgb_to_lab(_ramp(values, positions, colors))
    # A colourful target keeps a colourful pick of a nearby hue (no grey or mauve steps in
    # the middle of viridis); a grey target (the gray map) may take any colour.
    allowed = chroma(cand_lab)[None, :] >= 0.5 * chroma(target_lab)[:, None]
    hue_off = np.abs(
        (hue_degrees(cand_lab)[None, :] - hue_degrees(target_lab)[:, None] + 180.0) % 360.0 - 180.0
    )
    allowed &= (hue_off <= 40.0) | (chroma(target_lab)[:, None] < 10.0)
    return cand_rgb[_pick(target_lab, cand_lab, allowed, -1e9)].astype(np.uint8)


def _pick(
    target_lab: np.ndarray, cand_lab: np.ndarray, allowed: np.ndarray, floor_l: float
) -> list[int]:
    """The closest monotone pick, with the largest lightness step (3, 2 or 1 L*) that fits."""
    from mnist_tui.render.palette import monotone_pick

    for step in (3.0, 2.0, 1.0):
        try:
            return monotone_pick(target_lab, cand_lab, allowed, floor_l, step)
        except ValueError:
            continue
    return monotone_pick(target_lab, cand_lab, allowed, floor_l, 0.0)


@lru_cache(maxsize=1)
def _greys_16() -> np.ndarray:
    from mnist_tui.render.palette import ANSI16_RGB

    names = ("black", "bright_black", "white", "bright_white")
    return np.array([ANSI16_RGB[n] for n in names], dtype=np.uint8)


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
