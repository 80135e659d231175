"""Plain-string variants: the same lines as ANSI-coloured text or as bare characters."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Literal

from rich.color import ColorSystem as ColorSystemEnum
from rich.style import Style
from rich.text import Span, Text

ColorSystem = Literal["truecolor", "256", "16", "standard", "none"]

_SYSTEMS = {
    "truecolor": ColorSystemEnum.TRUECOLOR,
    "256": ColorSystemEnum.EIGHT_BIT,
    "16": ColorSystemEnum.STANDARD,
    "standard": ColorSystemEnum.STANDARD,
}


def eight_bit_rgb(number: int) -> tuple[int, int, int]:
    """The RGB rich (and so Textual) assumes for xterm colour ``number``."""
    from rich._palettes import EIGHT_BIT_PALETTE

    r, g, b = EIGHT_BIT_PALETTE[number]
    return (int(r), int(g), int(b))


def to_plain(lines: Iterable[Text | str]) -> str:
    """Join lines into one string with no colour codes (what a NO_COLOR terminal or a log shows)."""
    return "\n".join(line.plain if isinstance(line, Text) else line for line in lines)


# SGR codes for the text attributes render uses; colours come from rich's own downgrade.
_ATTRIBUTE_CODES = (
    ("bold", "1"),
    ("dim", "2"),
    ("italic", "3"),
    ("underline", "4"),
    ("blink", "5"),
    ("reverse", "7"),
    ("strike", "9"),
)


def _sgr(style: Style, system: ColorSystemEnum) -> str:
    codes = [code for name, code in _ATTRIBUTE_CODES if getattr(style, name)]
    if style.color is not None:
        codes.extend(style.color.downgrade(system).get_ansi_codes(foreground=True))
    if style.bgcolor is not None:
        codes.extend(style.bgcolor.downgrade(system).get_ansi_codes(foreground=False))
    return ";".join(codes)


def to_ansi(lines: Iterable[Text | str], color_system: ColorSystem = "truecolor") -> str:
    """Join lines into one string with ANSI escapes for ``color_system``; lines are never wrapped.

    24-bit colours are downgraded to 256 (or 16) by rich's ``Color.downgrade``, as Textual does;
    the scales of ``colors.py`` drawn for that depth are exact palette colours, so nothing moves.
    ``"none"`` gives plain text.
    The escapes are built here rather than by ``Console.print`` because rich caches a style's
    escape codes for the first colour system it meets, which would leak between calls.
    """
    # Imported here: rich.console is the slow part of rich and only printing needs it.
    from rich.console import Console

    if color_system == "none":
        return to_plain(lines)
    system = _SYSTEMS[color_system]
    console = Console(color_system=None, file=io.StringIO())
    out: list[str] = []
    for line in lines:
        text = line if isinstance(line, Text) else Text(line)
        if text.style and not text.spans:
            # Text.render ignores the whole-line style when there are no spans; make it a span.
            text = Text(text.plain, spans=[Span(0, len(text.plain), text.style)])
        parts: list[str] = []
        for segment in text.render(console, end=""):
            codes = _sgr(segment.style, system) if segment.style else ""
            parts.append(f"\x1b[{codes}m{segment.text}\x1b[0m" if codes else segment.text)
        out.append("".join(parts))
    return "\n".join(out)
