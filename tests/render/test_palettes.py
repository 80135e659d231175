"""Every colour scale, at every colour depth, judged in CIE L*a*b* by the colours a terminal shows.

Each art is rendered from a known ramp of values; each cell's colours go through what Textual
does to them at that depth (rich's downgrade to a colour number, then the terminal's palette for
that number), shade glyphs mix their ink with the background by coverage, and the result must
have monotone lightness along the scale and, for a diverging scale, hue within 35° per half.
A new scale (saliency, say) is one more line in ``ARTS``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from rich.color import Color, ColorSystem
from rich.style import Style
from rich.text import Text

from mnist_tui.render import filter_grid, gray_image, heatmap, legend, signed_image
from mnist_tui.render.colors import COLOR_DEPTHS, ColorDepth, color_depth, utf8_locale
from mnist_tui.render.palette import (
    SHADE_COVERAGE,
    SHADES,
    chroma,
    hue_degrees,
    hue_spread,
    srgb_to_lab,
)

RGB = tuple[int, int, int]
N = 33  # samples along each scale
COLOUR_DEPTHS: tuple[ColorDepth, ...] = ("truecolor", "256", "16")


def shown(color: Color, depth: ColorDepth) -> RGB:
    """The RGB a terminal shows for ``color`` after Textual's console downgrades it to ``depth``."""
    if depth == "truecolor":
        assert color.triplet is not None
        return tuple(color.triplet)  # type: ignore[return-value]
    system = ColorSystem.EIGHT_BIT if depth == "256" else ColorSystem.STANDARD
    number = color.downgrade(system).number
    assert number is not None
    from rich._palettes import EIGHT_BIT_PALETTE, STANDARD_PALETTE

    palette = EIGHT_BIT_PALETTE if depth == "256" else STANDARD_PALETTE
    return tuple(int(c) for c in palette[number])  # type: ignore[return-value]


def _mix(ink: RGB, paper: RGB, coverage: float) -> np.ndarray:
    """The colour a glyph covering ``coverage`` of its cell looks from a distance (linear light)."""
    lin = lambda c: (np.asarray(c, float) / 255) ** 2.2  # noqa: E731
    mixed = coverage * lin(ink) + (1 - coverage) * lin(paper)
    return 255 * mixed ** (1 / 2.2)


def cell_colours(line: Text, depth: ColorDepth) -> list[np.ndarray]:
    """What each cell of a line looks like: a half-block gives its top pixel (fg), a shade glyph
    the mix of ink and paper, a space its background."""
    out: list[np.ndarray] = []
    for i, ch in enumerate(line.plain):
        style = Style()
        for span in line.spans:
            if span.start <= i < span.end:
                style += Style.parse(span.style) if isinstance(span.style, str) else span.style
        fg = shown(style.color, depth) if style.color else None
        bg = shown(style.bgcolor, depth) if style.bgcolor else (0, 0, 0)
        if ch == "▀":
            assert fg is not None
            out.append(np.array(fg, float))
        elif ch in SHADES and ch != " ":
            assert fg is not None
            out.append(_mix(fg, bg, SHADE_COVERAGE[SHADES.index(ch)]))
        else:
            out.append(np.array(bg, float))
    return out


def _every_other(cells: list[np.ndarray], step: int) -> np.ndarray:
    return np.array(cells[::step])


# Each art draws the ramp ``values`` and returns the colour of each value, in order.
Art = Callable[[np.ndarray, ColorDepth], np.ndarray]


def weights_tiles(values: np.ndarray, depth: ColorDepth) -> np.ndarray:
    bank = np.stack([values, values])[None]  # one filter, two identical pixel rows
    lines = filter_grid(bank, scale=1, max_width=200, depth=depth)
    cells = cell_colours(lines[1], depth)
    return _every_other(cells, 2 if depth == "16" else 1)


def weights_legend(values: np.ndarray, depth: ColorDepth) -> np.ndarray:
    return np.array(cell_colours(legend(1.0, width=len(values), depth=depth)[0], depth))


def signed_picture(values: np.ndarray, depth: ColorDepth) -> np.ndarray:
    text = signed_image(np.stack([values, values]), vmax=1.0, depth=depth)
    cells = cell_colours(text.split("\n")[0], depth)
    return _every_other(cells, 2 if depth == "16" else 1)


def sequential_picture(cmap: str) -> Art:
    def draw(values: np.ndarray, depth: ColorDepth) -> np.ndarray:
        text = gray_image(np.stack([values, values]), cmap=cmap, depth=depth)  # type: ignore[arg-type]
        return np.array(cell_colours(text.split("\n")[0], depth))

    return draw


def confusion_heatmap(values: np.ndarray, depth: ColorDepth) -> np.ndarray:
    # Counts whose log1p grows evenly, so the background level walks the whole scale.
    counts = np.rint(np.expm1(np.linspace(0.2, 1.0, len(values)) * np.log1p(5000)))
    lines = heatmap(counts[None, :], cell_width=6, depth=depth)
    cells = cell_colours(lines[1], depth)[2:]  # after the row label and its space
    return _every_other(cells, 6)


DIVERGING = "diverging"
SEQUENTIAL = "sequential"
ARTS: list[tuple[str, str, Art]] = [
    ("weights tiles", DIVERGING, weights_tiles),
    ("weights legend", DIVERGING, weights_legend),
    ("signed image", DIVERGING, signed_picture),
    ("activations (viridis)", SEQUENTIAL, sequential_picture("viridis")),
    ("digits (gray)", SEQUENTIAL, sequential_picture("gray")),
    ("confusion heatmap", SEQUENTIAL, confusion_heatmap),
]


def _lab(colours: np.ndarray) -> np.ndarray:
    return srgb_to_lab(np.clip(colours, 0, 255))


def _assert_half(lab: np.ndarray, what: str) -> None:
    """Lab of one half, from zero outward: lightness never falls, hue within a 35° band."""
    lightness = lab[:, 0]
    assert np.all(np.diff(lightness) >= -0.5), f"{what}: lightness falls: {np.round(lightness)}"
    assert lightness[-1] - lightness[0] >= 25, f"{what}: the far end is barely lighter than zero"
    hues = hue_degrees(lab)[chroma(lab) >= 5.0]
    assert hue_spread(hues) <= 35.0, f"{what}: hue wanders {hue_spread(hues):.0f}°"


@pytest.mark.parametrize("depth", COLOUR_DEPTHS)
@pytest.mark.parametrize(("name", "kind", "draw"), ARTS, ids=[a[0] for a in ARTS])
def test_scales_are_monotone_in_lightness_and_keep_their_hue(name, kind, draw, depth) -> None:
    if kind == DIVERGING:
        values = np.linspace(-1.0, 1.0, N)
        lab = _lab(draw(values, depth))
        assert len(lab) == N
        mid = N // 2
        _assert_half(lab[mid::-1], f"{name} at {depth}, negative half")
        _assert_half(lab[mid:], f"{name} at {depth}, positive half")
        neg_hue = hue_degrees(lab[0])
        pos_hue = hue_degrees(lab[-1])
        gap = abs((neg_hue - pos_hue + 180) % 360 - 180)
        assert gap > 90, f"{name} at {depth}: the two signs look alike"
    else:
        values = np.linspace(0.0, 1.0, N)
        colours = draw(values, depth)
        lab = _lab(colours)
        assert len(lab) == N
        lightness = lab[:, 0]
        assert np.all(np.diff(lightness) >= -0.5), f"{name} at {depth}: {np.round(lightness)}"
        levels = len({tuple(np.rint(c)) for c in colours})
        assert levels >= {"truecolor": 24, "256": 10, "16": 3}[depth], f"{name}: {levels} levels"
        if depth != "16":
            # No flattening: 256-colour viridis once turned 8 of 33 levels into one slate colour.
            same = [np.array_equal(a, b) for a, b in zip(colours[:-1], colours[1:], strict=True)]
            longest = max((len(run) for run in "".join("x" if x else " " for x in same).split()),
                          default=0)  # fmt: skip
            assert longest + 1 <= 4, f"{name} at {depth}: {longest + 1} samples share one colour"


@pytest.mark.parametrize("depth", ["256", "16"])
def test_what_the_art_asks_for_is_what_the_terminal_shows(depth) -> None:
    """The tables are exact palette colours: after Textual's downgrade nothing moves."""
    from mnist_tui.render.colors import diverging, sequential

    ramp = np.linspace(-1.0, 1.0, 65)
    asked = [diverging(ramp, depth)] + [
        sequential((ramp + 1) / 2, cmap, depth)
        for cmap in ("gray", "viridis")  # type: ignore[misc]
    ]
    for rgbs in asked:
        distinct = {tuple(c) for c in rgbs.reshape(-1, 3).tolist()}
        for rgb in distinct:
            got = shown(Color.from_rgb(*rgb), depth)
            if depth == "16":
                assert got == rgb
            else:
                # Light greys are reached through rich's grey formula; the number is what counts.
                number = Color.from_rgb(*rgb).downgrade(ColorSystem.EIGHT_BIT).number
                assert number is not None and number >= 16


def test_16_colour_weights_keep_the_sign_in_glyph_and_hue() -> None:
    bank = np.array([[[-1.0, -0.3, 0.0, 0.3, 1.0]] * 2])
    line = filter_grid(bank, scale=1, max_width=80, depth="16")[1]
    glyphs = line.plain[::2]
    assert glyphs == "█░ ░█"
    inks = [shown(Style.parse(str(s.style)).color, "16") for s in line.spans]  # type: ignore[arg-type]
    assert (85, 85, 255) in inks and (170, 85, 0) in inks  # bright blue, and yellow (orange)


@pytest.mark.parametrize("art", ["weights", "legend"])
def test_no_colour_art_is_plain_and_keeps_the_sign(art) -> None:
    values = np.linspace(-1.0, 1.0, 9)
    if art == "weights":
        line = filter_grid(np.stack([values] * 2)[None], scale=2, max_width=80, depth="none")[1]
        glyphs = line.plain[::2]
    else:
        line = legend(1.0, width=9, depth="none")[0]
        glyphs = line.plain
    assert not line.spans and not line.style
    negative, positive = set(glyphs[:4]), set(glyphs[5:])
    assert negative.isdisjoint(positive)
    assert glyphs[4] == " "


def test_depth_is_decided_as_textual_decides_it() -> None:
    assert color_depth({"TERM": "xterm-256color"}) == "256"  # what SSH brings
    assert color_depth({"TERM": "xterm-256color", "COLORTERM": "truecolor"}) == "truecolor"
    assert color_depth({"TERM": "tmux-256color"}) == "256"
    for term in ("xterm", "screen", "linux", "vt100"):
        assert color_depth({"TERM": term}) == "16"
    assert color_depth({"TERM": "xterm-256color", "NO_COLOR": "1"}) == "none"
    assert color_depth({"TERM": "dumb"}) == "none"
    assert color_depth({"TERM": "xterm", "TEXTUAL_COLOR_SYSTEM": "truecolor"}) == "truecolor"
    assert color_depth({"TEXTUAL_COLOR_SYSTEM": "standard", "COLORTERM": "truecolor"}) == "16"
    assert set(COLOR_DEPTHS) == {"truecolor", "256", "16", "none"}


def test_utf8_locale() -> None:
    assert utf8_locale({"LANG": "C.UTF-8"})
    assert utf8_locale({"LANG": "en_GB.utf8"})
    assert not utf8_locale({"LANG": "C"})
    assert not utf8_locale({"LANG": "en_US.UTF-8", "LC_ALL": "C"})
    assert not utf8_locale({"LC_CTYPE": "POSIX", "LANG": "C.UTF-8"})
    assert utf8_locale({})
