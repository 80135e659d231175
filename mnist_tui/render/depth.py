"""The colour depth the art is drawn for, and what the terminal and locale advertise.

Kept apart from :mod:`colors` (whose scales need numpy) so the app can choose its depth, and
paint its menu, without importing numpy: start-up is a feature.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

ColorDepth = Literal["truecolor", "256", "16", "none"]
COLOR_DEPTHS: tuple[ColorDepth, ...] = ("truecolor", "256", "16", "none")

_depth: ColorDepth = "truecolor"


def use_depth(depth: ColorDepth) -> None:
    """Make ``depth`` the colour depth every art function draws for (set once at start-up)."""
    global _depth
    if depth not in COLOR_DEPTHS:
        raise ValueError(f"Unknown colour depth {depth!r}; use one of {', '.join(COLOR_DEPTHS)}.")
    _depth = depth


def current_depth(depth: ColorDepth | None = None) -> ColorDepth:
    """``depth`` if given, else the process-wide depth set by :func:`use_depth`."""
    return _depth if depth is None else depth


def no_color_requested(environ: Mapping[str, str] | None = None) -> bool:
    """True when the user asked for no colour (``NO_COLOR`` set and non-empty, or ``TERM=dumb``).

    The caller decides what that means; render's ``ascii=True`` variants are the intended fallback.
    """
    env = os.environ if environ is None else environ
    return env.get("NO_COLOR", "") != "" or env.get("TERM", "") == "dumb"


def color_depth(environ: Mapping[str, str] | None = None) -> ColorDepth:
    """The colour depth a terminal gets, decided as Textual (through rich) decides it.

    ``NO_COLOR`` (non-empty) or ``TERM=dumb``: ``"none"``. ``TEXTUAL_COLOR_SYSTEM`` wins when set
    (``truecolor``, ``256``, ``standard``/``16``). ``COLORTERM=truecolor|24bit``: truecolor.
    Otherwise the end of ``TERM``: ``-256color`` (or ``-kitty``) gives 256, anything else
    (``xterm``, ``screen``, ``linux``) 16, as rich's ``_TERM_COLORS``. Over SSH, which does not
    forward ``COLORTERM``, that is 256 for ``xterm-256color``.
    """
    env = os.environ if environ is None else environ
    if no_color_requested(env):
        return "none"
    forced = env.get("TEXTUAL_COLOR_SYSTEM", "").strip().lower()
    if forced in ("truecolor", "24bit"):
        return "truecolor"
    if forced in ("256", "8bit", "eight_bit"):
        return "256"
    if forced in ("standard", "16", "windows"):
        return "16"
    if env.get("COLORTERM", "").strip().lower() in ("truecolor", "24bit"):
        return "truecolor"
    colors = env.get("TERM", "").strip().lower().rpartition("-")[2]
    return "256" if colors in ("256color", "kitty") else "16"


def resolve_depth(
    choice: str | None = None,
    environ: Mapping[str, str] | None = None,
    is_terminal: bool = True,
) -> ColorDepth:
    """The depth to draw for: ``--color`` when given, else ``none`` when output is not a
    terminal, else what the terminal advertises (:func:`color_depth`)."""
    if choice is not None:
        if choice not in COLOR_DEPTHS:
            raise ValueError(f"Unknown colour depth {choice!r}; use {', '.join(COLOR_DEPTHS)}.")
        return choice  # type: ignore[return-value]
    if not is_terminal:
        return "none"
    return color_depth(environ)


def rich_color_system(depth: ColorDepth) -> str | None:
    """The ``color_system`` name rich and Textual use for a depth (None: no colour)."""
    return {"truecolor": "truecolor", "256": "256", "16": "standard", "none": None}[depth]


def utf8_locale(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the locale (``LC_ALL``, else ``LC_CTYPE``, else ``LANG``) is UTF-8.

    Under ``LANG=C`` a terminal may show half-blocks and box drawing as junk, so art and frames
    fall back to ASCII. An unset locale counts as UTF-8 (the usual default of modern systems).
    """
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name, "")
        if value:
            return "utf-8" in value.lower() or "utf8" in value.lower()
    return True
