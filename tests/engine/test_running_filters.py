"""The hand-written running extremes give scipy.ndimage's pixels exactly (they replace it on
the preprocessing's hot path, so every picture must preprocess as before)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mnist_tui.engine.imageops import grey_opening, max_filter, min_filter

MODES = ["constant", "nearest", "reflect", "mirror"]


def _pictures(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        h, w = (int(v) for v in rng.integers(1, 70, 2))
        picture = rng.random((h, w)).astype(np.float32)
        if rng.random() < 0.3:
            picture = np.round(picture * 4) / 4  # ties: flat runs, as paper has
        yield rng, picture


@pytest.mark.parametrize("mode", MODES)
def test_max_and_min_filters_match_scipy_bit_for_bit(mode: str) -> None:
    for rng, picture in _pictures(MODES.index(mode), 150):
        size = int(rng.integers(1, 2 * max(picture.shape) + 2))
        sizes = size if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(1, 80, 2))
        for ours, theirs, cval in (
            (max_filter, ndimage.maximum_filter, -np.inf),
            (min_filter, ndimage.minimum_filter, np.inf),
        ):
            expected = theirs(picture, sizes, mode=mode, cval=cval)
            got = ours(picture, sizes, mode=mode, cval=cval)
            assert got.dtype == expected.dtype
            assert np.array_equal(got, expected), (picture.shape, sizes, mode)


def test_filters_do_not_change_their_input_and_keep_uint8() -> None:
    picture = (np.arange(48, dtype=np.uint8) % 7).reshape(6, 8)
    before = picture.copy()
    out = min_filter(picture, 3, mode="nearest")
    assert np.array_equal(picture, before)
    assert out.dtype == np.uint8
    assert np.array_equal(out, ndimage.minimum_filter(picture, 3, mode="nearest"))
    same = max_filter(picture, 1)
    assert np.array_equal(same, picture) and same is not picture


def test_grey_opening_matches_scipy_for_odd_and_even_windows() -> None:
    for rng, picture in _pictures(7, 200):
        size = tuple(int(v) for v in rng.integers(1, 40, 2))
        expected = ndimage.grey_opening(picture, size=size)
        assert np.array_equal(grey_opening(picture, size), expected), (picture.shape, size)
