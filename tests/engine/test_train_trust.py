"""A run that diverges stops with one sentence and saves nothing as complete; a run that ends
near chance says so, in its message and in its metadata."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_tui.engine import train as train_mod
from mnist_tui.engine.config import TrainConfig
from mnist_tui.engine.data import load_dataset
from mnist_tui.engine.runs import run_training
from mnist_tui.engine.store import ModelStore
from mnist_tui.errors import DivergedError

NO_SHIPPED = Path(os.devnull) / "none"
CFG = TrainConfig(arch="fast", epochs=2, batch_size=32, lr=3e-3, val_size=100, threads=1)


@pytest.mark.parametrize("at_epoch", [1, 2])
def test_a_run_that_diverges_stops_with_one_sentence_and_saves_nothing_complete(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_epoch: int
) -> None:
    real_step = train_mod.optim.Adam.step
    calls = {"n": 0}
    data = load_dataset("mnist", data_dir, val_size=100, download=False)
    steps = len(data.train) // CFG.batch_size

    def poisoned_step(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        out = real_step(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == (at_epoch - 1) * steps + 3:  # the weights blow up, as at --lr 10
            with torch.no_grad():
                self.params[0].fill_(float("nan"))
        return out

    monkeypatch.setattr(train_mod.optim.Adam, "step", poisoned_step)
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    with pytest.raises(DivergedError) as err:
        run_training(CFG, store=store, name="boom", data=data)
    message = str(err.value)
    assert "\n" not in message and message.endswith(".")
    assert f"epoch {at_epoch}" in message and "--lr" in message
    infos = {i.name: i for i in store.list()}
    if at_epoch == 1:
        assert "boom" not in infos  # nothing at all was saved
    else:  # epoch 1 was fine and is kept, but only as an unfinished, resumable run
        assert not infos["boom"].complete and infos["boom"].epochs_done == 1
    assert not list(tmp_path.glob(".boom.claim"))  # the name is free again


def test_a_run_near_chance_says_so(data_dir: Path, tmp_path: Path) -> None:
    data = load_dataset("mnist", data_dir, val_size=100, download=False)
    rng = np.random.default_rng(0)
    for split in (data.train, data.val, data.test):  # labels that carry no information
        split.labels[:] = rng.integers(0, 10, len(split.labels))
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    cfg = CFG.with_(epochs=1)
    outcome = run_training(cfg, store=store, name="noise", data=data)
    assert outcome.test is not None and outcome.test.accuracy < 0.2
    assert "near chance" in outcome.message
    assert store.info("noise").extra["near_chance"] is True


def test_a_normal_run_is_not_called_near_chance(store: ModelStore) -> None:
    info = store.info("tiny")
    assert info.test_acc is not None and info.test_acc > 0.5
    assert "near_chance" not in info.extra


def test_a_device_this_machine_lacks_is_refused_before_the_data_is_read(tmp_path: Path) -> None:
    """`--device cuda` on a machine without CUDA, where the data is not downloaded yet: the
    user is told about the device first, not sent to fetch data and told afterwards; the store
    is left as it was (not even created)."""
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from mnist_tui.errors import ConfigError

    store = ModelStore(tmp_path / "store", shipped=NO_SHIPPED)
    cfg = TrainConfig(arch="fast", epochs=1, device="cuda")
    with pytest.raises(ConfigError, match="no CUDA GPU is available; use --device cpu"):
        run_training(cfg, store=store, data_dir=tmp_path / "no-data", download=False)
    assert not (tmp_path / "store").exists()
    assert not (tmp_path / "no-data").exists()
