"""Draw "why this digit": a saliency map over the 28×28 the model saw, as half-blocks or ASCII."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from mnist_tui.render.halfblocks import halfblock_lines, scale_nearest

FOR = np.array([255, 140, 0], dtype=np.float64)  # orange: ink that made the answer
AGAINST = np.array([60, 140, 255], dtype=np.float64)  # blue: ink that argued for another digit


def saliency_rgb(pixels: np.ndarray, sal: np.ndarray) -> np.ndarray:
    """(28, 28, 3) uint8: the digit in dim grey, tinted orange where it supports the answer and
    blue where it argues against it, as strongly as ``sal`` (in [-1, 1]) says."""
    ink = np.clip(np.asarray(pixels, dtype=np.float64), 0.0, 1.0)
    s = np.clip(np.nan_to_num(np.asarray(sal, dtype=np.float64)), -1.0, 1.0)
    grey = (30 + 110 * ink)[..., None] * np.ones(3)
    weight = np.abs(s)[..., None] ** 0.7  # lift the mid-range so moderate evidence shows
    colour = np.where((s >= 0)[..., None], FOR, AGAINST)
    # Evidence is brightest where there is ink; off the ink it is shown faintly.
    strength = weight * (0.35 + 0.65 * ink[..., None])
    return np.clip(grey * (1 - strength) + colour * strength, 0, 255).astype(np.uint8)


def saliency_image(
    pixels: np.ndarray, sal: np.ndarray, *, scale: int = 1, ascii: bool = False
) -> list[Text]:
    """The 28×28 with its saliency: half-block lines, or (``ascii``) two characters a pixel:
    "##" strong and "++" some evidence for the answer, "==" / "--" against, ".." other ink."""
    if not ascii:
        return halfblock_lines(scale_nearest(saliency_rgb(pixels, sal), scale))
    ink = np.asarray(pixels, dtype=np.float64)
    s = np.asarray(sal, dtype=np.float64)
    lines = []
    for y in range(s.shape[0]):
        row = []
        for x in range(s.shape[1]):
            v = s[y, x]
            if v > 0.5:
                row.append("##")
            elif v > 0.2:
                row.append("++")
            elif v < -0.5:
                row.append("==")
            elif v < -0.2:
                row.append("--")
            elif ink[y, x] > 0.3:
                row.append("..")
            else:
                row.append("  ")
        lines.append(Text("".join(row)))
    return lines


def saliency_caption(label: str, *, ascii: bool = False) -> list[Text]:
    """The key under the map."""
    if ascii:
        return [Text(f"why {label}: # for it, = against")]
    line = Text("why ")
    line.append(label, style="bold")
    line.append(": ")
    line.append("■ for it", style="rgb(255,140,0)")
    line.append("  ")
    line.append("■ against", style="rgb(60,140,255)")
    return [line]


def saliency_picture(
    pixels: np.ndarray, sal: np.ndarray, max_cols: int, max_rows: int, ascii: bool = False
) -> list[Text]:
    """The map fitted to ``max_cols`` × ``max_rows`` cells, the way the plain 28×28 is drawn
    beside it: half-blocks scaled up crisply, or ASCII halved when 28 rows do not fit."""
    from mnist_tui.render.halfblocks import fit_scale

    pixels = np.asarray(pixels, dtype=np.float32).reshape(28, 28)
    sal = np.asarray(sal, dtype=np.float32).reshape(28, 28)
    if ascii:
        if max_rows < 28 or max_cols < 56:
            pixels = pixels.reshape(14, 2, 14, 2).mean((1, 3))
            # keep the sign of the strongest evidence in each 2×2 block
            blocks = sal.reshape(14, 2, 14, 2).transpose(0, 2, 1, 3).reshape(14, 14, 4)
            pick = np.abs(blocks).argmax(-1)
            sal = np.take_along_axis(blocks, pick[..., None], -1)[..., 0]
        return saliency_image(pixels, sal, ascii=True)
    scale = fit_scale(28, 28, max(2, max_cols), max(1, max_rows))
    return saliency_image(pixels, sal, scale=scale)
