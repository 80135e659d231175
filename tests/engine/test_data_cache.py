"""The decompressed-data cache: a second load reads it; a changed or damaged cache is ignored."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
from datagen import write_dataset

from mnist_tui.engine.data import load_dataset
from mnist_tui.paths import user_cache_dir


def test_second_load_uses_the_cache_and_matches(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", n_train=300, n_test=100)
    first = load_dataset("mnist", root, val_size=50, download=False)
    cached = sorted(user_cache_dir().glob("*.npy"))
    assert len(cached) >= 4  # images and labels of train and test
    second = load_dataset("mnist", root, val_size=50, download=False)
    assert np.array_equal(first.train.images, second.train.images)
    assert np.array_equal(first.test.labels, second.test.labels)


def test_changed_file_is_parsed_again_not_served_stale(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", n_train=300, n_test=100)
    load_dataset("mnist", root, val_size=50, download=False)
    labels = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[8] = (raw[8] + 1) % 10
    labels.write_bytes(gzip.compress(bytes(raw)))
    os.utime(labels, ns=(1, 1))  # a different modification time, as any real edit gives
    again = load_dataset("mnist", root, val_size=50, download=False)
    assert int(again.test.labels[0]) == raw[8]


def test_damaged_cache_is_ignored(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", n_train=300, n_test=100)
    expected = load_dataset("mnist", root, val_size=50, download=False)
    for path in user_cache_dir().glob("*.npy"):
        path.write_bytes(b"not an array")
    again = load_dataset("mnist", root, val_size=50, download=False)
    assert np.array_equal(expected.test.images, again.test.images)
