"""Colour scales designed for each colour depth, derived from the one truecolor definition.

A truecolor scale (``colors.py``) is only a design: over SSH most users get 256 colours (OpenSSH
does not forward ``COLORTERM``) and some get 16. Downgrading each colour to the nearest xterm
colour bends a scale (the blue half of the weights scale turned teal then navy, viridis lost a
quarter of its levels), so each depth gets its own table instead:

- ``256``: a few levels per scale, each an xterm colour (6x6x6 cube or grey ramp) chosen by a small
  dynamic programme to be as close as possible (CIE76 in L*a*b*) to the truecolor design while
  lightness strictly grows with magnitude and, for a diverging scale, hue stays within a 35° band
  on each side. Only colours that rich's downgrade maps to themselves are used, so the terminal
  gets exactly the planned colour and nothing re-quantises it.
- ``16``: the 16 ANSI colours cannot make a scale; sequential scales become four greys (black,
  bright black, white, bright white) and a diverging scale becomes shade glyphs (``░▒▓█``) in
  two hues, bright blue and yellow (orange on the Linux console), which keeps the sign.
- ``none``: no colour at all; callers draw ASCII (``ascii.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# The xterm 256-colour palette: 16 system colours (not used: terminals redefine them), the
# 6x6x6 cube (16-231) and the 24-step grey ramp (232-255).
_CUBE_LEVELS = (0, 95, 135, 175, 215, 255)


def xterm_rgb(index: int) -> tuple[int, int, int]:
    """The standard RGB of xterm colour ``index`` (16-255)."""
    if 16 <= index <= 231:
        i = index - 16
        return (_CUBE_LEVELS[i // 36], _CUBE_LEVELS[(i // 6) % 6], _CUBE_LEVELS[i % 6])
    if 232 <= index <= 255:
        v = 8 + 10 * (index - 232)
        return (v, v, v)
    raise ValueError(f"Only xterm colours 16-255 have a fixed RGB, not {index}.")


# The 16 ANSI colours as rich's STANDARD palette has them; rich matches these RGBs to themselves,
# so a 16-colour console emits exactly the intended colour number.
ANSI16_RGB = {
    "black": (0, 0, 0),
    "bright_black": (85, 85, 85),
    "white": (170, 170, 170),
    "bright_white": (255, 255, 255),
    "yellow": (170, 85, 0),
    "bright_blue": (85, 85, 255),
}

# Shade glyphs by ink coverage: 0, 1/4, 1/2, 3/4, 1.
SHADES = " ░▒▓█"
SHADE_COVERAGE = (0.0, 0.25, 0.5, 0.75, 1.0)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB colours given as ``(..., 3)`` in 0-255."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [[0.4124564, 0.3575761, 0.1804375],
         [0.2126729, 0.7151522, 0.0721750],
         [0.0193339, 0.1191920, 0.9503041]]
    )  # fmt: skip
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def hue_degrees(lab: np.ndarray) -> np.ndarray:
    """The CIE LCh hue angle in degrees (0-360) of L*a*b* colours."""
    lab = np.asarray(lab, dtype=np.float64)
    return np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0


def chroma(lab: np.ndarray) -> np.ndarray:
    """The CIE LCh chroma of L*a*b* colours."""
    lab = np.asarray(lab, dtype=np.float64)
    return np.hypot(lab[..., 1], lab[..., 2])


def hue_spread(hues: np.ndarray) -> float:
    """The smallest arc (degrees) holding all the given hue angles."""
    h = np.sort(np.asarray(hues, dtype=np.float64) % 360.0)
    if h.size < 2:
        return 0.0
    gaps = np.diff(np.r_[h, h[0] + 360.0])
    return float(360.0 - gaps.max())


def rich_eight_bit(rgb: tuple[int, int, int]) -> int:
    """The xterm colour number rich's truecolor -> 256 downgrade (Textual's too) gives ``rgb``."""
    from rich.color import Color, ColorSystem

    number = Color.from_rgb(*rgb).downgrade(ColorSystem.EIGHT_BIT).number
    assert number is not None
    return number


def _representative(index: int) -> tuple[int, int, int] | None:
    """An RGB that rich downgrades to xterm colour ``index``: the colour itself where it survives,
    else (light greys) the grey rich's formula sends there; None if no RGB reaches it."""
    own = xterm_rgb(index)
    if rich_eight_bit(own) == index:
        return own
    if index >= 232:
        # rich maps a grey of lightness l to 231 + round(25 l); aim at the middle of that bin.
        v = round((index - 231) * 255 / 25)
        if rich_eight_bit((v, v, v)) == index:
            return (v, v, v)
    return None


@lru_cache(maxsize=1)
def xterm_candidates() -> tuple[np.ndarray, np.ndarray]:
    """The xterm colours a 256-colour scale may use: the RGB to emit for each (rich turns it into
    exactly that colour number) and the L*a*b* the terminal shows for it."""
    emit: list[tuple[int, int, int]] = []
    shown: list[tuple[int, int, int]] = []
    for index in range(16, 256):
        rgb = _representative(index)
        if rgb is not None:
            emit.append(rgb)
            shown.append(xterm_rgb(index))
    return np.array(emit, dtype=np.uint8), srgb_to_lab(np.array(shown, dtype=np.float64))


def delta_e94(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIE94 colour difference (graphic arts weights): chroma errors of vivid colours count less,
    so a scale keeps its hue rather than sliding to a duller colour of the right lightness."""
    lab1, lab2 = np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64)
    d_l = lab1[..., 0] - lab2[..., 0]
    c1, c2 = chroma(lab1), chroma(lab2)
    d_c = c1 - c2
    d_ab2 = (lab1[..., 1] - lab2[..., 1]) ** 2 + (lab1[..., 2] - lab2[..., 2]) ** 2
    d_h2 = np.maximum(d_ab2 - d_c**2, 0.0)
    return np.sqrt(d_l**2 + (d_c / (1 + 0.045 * c1)) ** 2 + d_h2 / (1 + 0.015 * c1) ** 2)


def monotone_pick(
    targets_lab: np.ndarray,
    cand_lab: np.ndarray,
    allowed: np.ndarray,
    floor_l: float,
    min_step: float,
) -> list[int]:
    """Pick one candidate per target, closest overall (CIE94), with L* rising by >= min_step.

    ``allowed[k, c]`` says whether candidate ``c`` may stand for target ``k``; the first pick must
    be at least ``min_step`` lighter than ``floor_l``. Returns candidate indices, or raises
    ValueError when no such sequence exists.
    """
    n_targets, n_cand = len(targets_lab), len(cand_lab)
    light = cand_lab[:, 0]
    order = np.argsort(light)
    dist = delta_e94(targets_lab[:, None, :], cand_lab[None, :, :])
    dist = np.where(allowed, dist, np.inf)
    cost = np.where(light >= floor_l + min_step, dist[0], np.inf)
    back: list[np.ndarray] = []
    for k in range(1, n_targets):
        # Best previous cost among candidates at least min_step darker than each candidate.
        sorted_cost = cost[order]
        prefix = np.minimum.accumulate(sorted_cost)
        prefix_arg = np.array([order[np.argmin(sorted_cost[: i + 1])] for i in range(n_cand)])
        limit = np.searchsorted(light[order], light - min_step, side="right") - 1
        best_prev = np.where(limit >= 0, prefix[np.maximum(limit, 0)], np.inf)
        back.append(np.where(limit >= 0, prefix_arg[np.maximum(limit, 0)], -1))
        cost = best_prev + dist[k]
    if not np.isfinite(cost.min()):
        raise ValueError("No monotone sequence of palette colours fits these targets.")
    picks = [int(np.argmin(cost))]
    for pointers in reversed(back):
        picks.append(int(pointers[picks[-1]]))
    return picks[::-1]
