"""On the real MNIST (skipped unless MNIST_TUI_DATA points at it)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest

from mnist_tui.engine.data import load_dataset

pytestmark = pytest.mark.realdata

# From /work/shared/data/README.md
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_loads_with_its_class_counts(real_data_dir: Path) -> None:
    data = load_dataset("mnist", real_data_dir, download=False)
    assert (len(data.train), len(data.val), len(data.test)) == (55_000, 5_000, 10_000)
    train_counts = np.bincount(np.concatenate([data.train.labels, data.val.labels]), minlength=10)
    assert train_counts.tolist() == TRAIN_COUNTS
    assert np.bincount(data.test.labels, minlength=10).tolist() == TEST_COUNTS


def test_fast_recipe_reaches_98_5_in_one_epoch(
    real_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mnist_tui.cli import main

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = main(["train", "--data-dir", str(real_data_dir), "--models-dir", str(tmp_path),
                     "--epochs", "1", "--json", "--no-download"])  # fmt: skip
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["arch"] == "fast" and result["epochs_done"] == 1
    assert result["test_acc"] >= 0.985, result
