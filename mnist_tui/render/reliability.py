"""A reliability diagram as text: per confidence bin, how often the model was right (a bar)
against how sure it said it was (a mark), so a gap between the two is visible at a glance."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

from mnist_tui.render.bars import bar_cells

CONF_MARK = "│"
ASCII_CONF_MARK = "|"


def reliability_diagram(
    edges: Sequence[float],
    counts: Sequence[int],
    confidence: Sequence[float | None],
    accuracy: Sequence[float | None],
    ece: float | None,
    *,
    width: int = 30,
    ascii: bool = False,
    title: str = "",
) -> list[Text]:
    """One line per non-empty bin, most confident first: the bin's range, a bar as long as its
    accuracy with a mark at its mean confidence, the accuracy and the number of images.

    A calibrated model has each mark at the end of its bar; the ECE (the count-weighted mean gap)
    heads the diagram. ``ascii=True`` gives unstyled text ("#" bars, "|" marks).
    """
    mark = ASCII_CONF_MARK if ascii else CONF_MARK
    total = sum(int(c) for c in counts)
    head = title or "reliability"
    ece_text = "-" if ece is None or math.isnan(ece) else f"{ece:.2%}"
    lines = [
        Text(f"{head}: ECE {ece_text} over {total:,} images", style="" if ascii else "bold"),
        Text(
            f"{'confidence':<11} accuracy (bar) vs confidence ({mark})",
            style="" if ascii else "dim",
        ),
    ]
    for i in reversed(range(len(counts))):
        n = int(counts[i])
        acc, conf = accuracy[i], confidence[i]
        if n == 0 or acc is None or conf is None or math.isnan(acc) or math.isnan(conf):
            continue
        span = f"{edges[i] * 100:3.0f}-{edges[i + 1] * 100:.0f}%"
        cells = list(bar_cells(acc, width, ascii))
        at = min(width - 1, max(0, int(round(conf * width)) - 1))
        cells[at] = mark
        bar = "".join(cells)
        tail = f" {acc * 100:5.1f}% {n:>7,}"
        if ascii:
            lines.append(Text(f"{span:<11}{bar}{tail}"))
            continue
        gap = abs(acc - conf)
        colour = "green" if gap < 0.02 else "yellow" if gap < 0.1 else "red"
        line = Text(f"{span:<11}")
        line.append(bar[:at], style=colour)
        line.append(mark, style="bold white")
        line.append(bar[at + 1 :], style=colour)
        line.append(tail)
        lines.append(line)
    if len(lines) == 2:
        lines.append(Text("(no images)", style="" if ascii else "dim"))
    return lines


def diagram_from_dict(data: dict[str, object], **kwargs: object) -> list[Text]:
    """The diagram from an evaluation's ``reliability`` JSON (as ``evaluate --json`` prints)."""
    bins = int(data["bins"])  # type: ignore[call-overload]
    edges = [i / bins for i in range(bins + 1)]
    return reliability_diagram(
        edges,
        data["counts"],  # type: ignore[arg-type]
        data["confidence"],  # type: ignore[arg-type]
        data["accuracy"],  # type: ignore[arg-type]
        data["ece"],  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
