"""Pure text art: numpy arrays in, rich ``Text`` (or plain strings) out. No torch, no textual."""

from mnist_tui.render.ascii import GRAY_RAMP, SIGNED_RAMP, ascii_image, ascii_signed
from mnist_tui.render.bars import bar_cells, heatmap, probability_bars
from mnist_tui.render.colors import (
    COLOR_DEPTHS,
    ColorDepth,
    color_depth,
    contrasting_text,
    current_depth,
    diverging,
    no_color_requested,
    normalise_signed,
    resolve_depth,
    rich_color_system,
    sequential,
    to_unit,
    use_depth,
    utf8_locale,
)
from mnist_tui.render.grid import filter_grid, legend, tile_grid
from mnist_tui.render.halfblock import (
    fit_scale,
    gray_image,
    halfblock,
    halfblock_lines,
    scale_nearest,
    signed_image,
)
from mnist_tui.render.output import to_ansi, to_plain

__all__ = [
    "COLOR_DEPTHS",
    "ColorDepth",
    "current_depth",
    "resolve_depth",
    "rich_color_system",
    "use_depth",
    "utf8_locale",
    "GRAY_RAMP",
    "SIGNED_RAMP",
    "ascii_image",
    "ascii_signed",
    "bar_cells",
    "color_depth",
    "contrasting_text",
    "diverging",
    "filter_grid",
    "fit_scale",
    "gray_image",
    "halfblock",
    "halfblock_lines",
    "heatmap",
    "legend",
    "no_color_requested",
    "normalise_signed",
    "probability_bars",
    "scale_nearest",
    "sequential",
    "signed_image",
    "tile_grid",
    "to_ansi",
    "to_plain",
    "to_unit",
]
