"""Fitting tables to narrow windows: drop whole columns, least important first, never cut one."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len

CELL_PADDING = 2  # a DataTable cell's padding, left and right together


def fit_columns(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    priority: Sequence[str],
    width: int,
    always: int = 1,
) -> list[int]:
    """Indices (in table order) of the columns to show in ``width`` cells.

    The first ``always`` columns of ``priority`` always show; the rest are taken in ``priority``
    order (headers not named there come last) while they fit. A column is as wide as its widest
    cell or header, plus padding.
    """
    need = [
        max([cell_len(h)] + [cell_len(str(r[i])) for r in rows]) + CELL_PADDING
        for i, h in enumerate(headers)
    ]
    order = [headers.index(h) for h in priority if h in headers]
    order += [i for i in range(len(headers)) if i not in order]
    chosen: list[int] = []
    used = 0
    for i in order:
        if len(chosen) < always or used + need[i] <= width:
            chosen.append(i)
            used += need[i]
    return sorted(chosen)


def pack_parts(parts: Sequence[str], width: int, sep: str, gap: int = 3, lead: str = " ") -> str:
    """``parts`` on as few lines of ``width`` cells as they fit on, each line led by ``lead``
    and its parts joined by ``sep`` with ``gap`` spaces either side: a line breaks between two
    parts, never inside one ("256 colours" is not left as "256" and "colours")."""
    joint = " " * gap + sep + " " * gap
    lines: list[str] = []
    for part in parts:
        if lines and cell_len(lines[-1] + joint + part) <= width:
            lines[-1] += joint + part
        else:
            lines.append(lead + part)
    return "\n".join(lines)
