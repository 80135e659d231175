"""Text art for calibration (the reliability diagram) and for "why this digit" (saliency)."""

from __future__ import annotations

import numpy as np

from mnist_tui.render.reliability import CONF_MARK, reliability_diagram
from mnist_tui.render.saliency import saliency_image, saliency_picture


def _diagram(conf: list[float], acc: list[float], counts: list[int], ascii: bool = False):  # noqa: ANN202
    edges = [i / len(counts) for i in range(len(counts) + 1)]
    gaps = [n * abs(a - c) for n, a, c in zip(counts, acc, conf, strict=True) if n]
    ece = sum(gaps) / sum(counts)
    return reliability_diagram(edges, counts, conf, acc, ece, width=20, ascii=ascii)


def test_diagram_heads_with_ece_and_lists_the_most_confident_bin_first() -> None:
    nan = float("nan")
    lines = _diagram([nan, 0.55, 0.97], [nan, 0.5, 0.99], [0, 10, 990])
    text = [line.plain for line in lines]
    assert text[0].startswith("reliability: ECE 2.03% over 1,000 images")
    rows = text[2:]
    assert len(rows) == 2  # the empty bin is left out
    assert rows[0].startswith(" 67-100%") and rows[0].rstrip().endswith("990")
    assert rows[1].startswith(" 33-67%")


def test_an_overconfident_bin_shows_its_mark_past_the_end_of_its_bar() -> None:
    over = _diagram([0.95], [0.5], [100], ascii=True)[2].plain
    bar = over[11 : 11 + 20]
    assert bar.index("|") > bar.rindex("#")  # said 95%, right half the time
    honest = _diagram([0.5], [0.5], [100])[2].plain
    bar = honest[11 : 11 + 20]
    assert bar.index(CONF_MARK) == 9 and bar.count("█") == 9  # the mark ends the bar


def test_saliency_colours_supporting_ink_warm_and_opposing_ink_cool() -> None:
    from mnist_tui.render.saliency import saliency_rgb

    pixels = np.zeros((28, 28), dtype=np.float32)
    pixels[10:18, 10:18] = 1.0
    sal = np.zeros((28, 28), dtype=np.float32)
    sal[10:14, 10:18] = 1.0
    sal[14:18, 10:18] = -1.0
    rgb = saliency_rgb(pixels, sal).astype(int)
    r, g, b = rgb[12, 12]
    assert r > 200 and b < 100  # orange: evidence for the answer
    r, g, b = rgb[16, 12]
    assert b > 200 and r < 100  # blue: evidence against
    assert rgb[2, 2].tolist() == [30, 30, 30]  # no ink, no evidence: the dark background


def test_saliency_fits_the_space_like_the_plain_picture() -> None:
    pixels = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    sal = np.random.default_rng(1).uniform(-1, 1, (28, 28)).astype(np.float32)
    assert len(saliency_image(pixels, sal)) == 14  # half-blocks: two pixel rows a line
    assert len(saliency_picture(pixels, sal, 56, 28)) == 28  # scaled up 2x
    ascii_small = saliency_picture(pixels, sal, 28, 14, ascii=True)
    assert len(ascii_small) == 14 and all(len(line.plain) == 28 for line in ascii_small)
    assert any("#" in line.plain for line in ascii_small)
    assert any("=" in line.plain for line in ascii_small)
