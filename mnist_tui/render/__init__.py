"""Pure text art: numpy arrays in, rich ``Text`` (or plain strings) out. No torch, no textual.

Names are loaded on first use (PEP 562), so ``mnist_tui.render.depth`` (which the app needs to
paint its menu) comes without numpy and the art modules.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name and the module that defines it. No module may share a public name: importing
# mnist_tui.render.NAME sets the package's attribute NAME to the module.
_SOURCES: dict[str, str] = {
    "COLOR_DEPTHS": "depth",
    "ColorDepth": "depth",
    "current_depth": "depth",
    "resolve_depth": "depth",
    "rich_color_system": "depth",
    "use_depth": "depth",
    "utf8_locale": "depth",
    "GRAY_RAMP": "ascii",
    "SIGNED_RAMP": "ascii",
    "ascii_image": "ascii",
    "ascii_signed": "ascii",
    "bar_cells": "bars",
    "color_depth": "depth",
    "contrasting_text": "colors",
    "diverging": "colors",
    "filter_grid": "grid",
    "fit_scale": "halfblocks",
    "gray_image": "halfblocks",
    "halfblock": "halfblocks",
    "halfblock_lines": "halfblocks",
    "heatmap": "bars",
    "legend": "grid",
    "no_color_requested": "depth",
    "normalise_signed": "colors",
    "probability_bars": "bars",
    "scale_nearest": "halfblocks",
    "sequential": "colors",
    "signed_image": "halfblocks",
    "tile_grid": "grid",
    "to_ansi": "output",
    "to_plain": "output",
    "to_unit": "colors",
}

__all__ = list(_SOURCES)


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_SOURCES])
