"""TrainConfig is declared once: every field reaches the CLI, a run's start-up and back."""

from __future__ import annotations

from dataclasses import fields

import pytest

from mnist_tui.cli import build_parser, config_from_args
from mnist_tui.engine.config import TrainConfig, setting
from mnist_tui.errors import ConfigError

# A valid value for each field that differs from the fast recipe's and the dataclass default.
CHANGED = {
    "arch": "classic", "dataset": "fashion", "epochs": 7, "batch_size": 33, "optimizer": "sgd",
    "lr": 0.0123, "scheduler": "cosine", "augment": True, "flip": True, "erase": 0.25,
    "elastic": 2.5,
    "label_smoothing": 0.05, "weight_decay": 0.001, "ema": 0.9, "focus": 0.5, "seed": 42,
    "precision": "bfloat16", "device": "cpu", "threads": 3, "val_size": 123,
}  # fmt: skip


def test_every_field_has_a_changed_value_here() -> None:
    assert set(CHANGED) == {f.name for f in fields(TrainConfig)}, "a new field needs a test value"


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_every_field_round_trips_cli_to_config(name: str) -> None:
    value = CHANGED[name]
    flag = "--" + name.replace("_", "-")
    argv = [flag] if value is True else [flag, str(value)]
    cfg = config_from_args(build_parser().parse_args(["train", *argv]))
    assert getattr(cfg, name) == value


def test_every_field_round_trips_through_a_runs_json() -> None:
    cfg = TrainConfig(**CHANGED)
    args = build_parser().parse_args(["train", "--config-json", cfg.to_json()])
    assert config_from_args(args) == cfg
    with pytest.raises(ConfigError, match="unknown settings: warp"):
        TrainConfig.from_json('{"warp": 1}')


def test_every_field_is_validated_from_its_declaration() -> None:
    for f in fields(TrainConfig):
        s = setting(f)
        assert s.label and s.help
        if s.high is not None:
            bad = s.high if s.high_open else s.high + 1
            with pytest.raises(ConfigError, match="(?i)" + s.label.split()[0]):
                TrainConfig(**{f.name: type(f.default)(bad)}).validate()


def test_a_resumed_run_takes_only_the_machines_settings() -> None:
    """Resuming elsewhere may change where and on how many threads it computes, nothing else."""
    stored = TrainConfig(**{**CHANGED, "device": "auto", "threads": 0})
    here = TrainConfig(device="cpu", threads=1)
    resumed = stored.resumed_with(here)
    assert (resumed.device, resumed.threads) == ("cpu", 1)
    assert resumed == TrainConfig(**{**CHANGED, "device": "cpu", "threads": 1})


def test_elastic_is_not_dropped_by_a_detached_run(tmp_path) -> None:  # noqa: ANN001
    """The drift the issue names: --elastic was lost when the TUI started or resumed a run."""
    from mnist_tui.engine.jobs import Runs, submit_run
    from mnist_tui.engine.store import ModelStore

    store = ModelStore(tmp_path / "m", shipped=tmp_path / "none")
    cfg = TrainConfig(arch="fast", augment=True, elastic=3.0, threads=1)
    state = submit_run(store, cfg, name="el", data_dir=tmp_path, spawn=False)
    assert TrainConfig.from_json(__import__("json").dumps(state.config)) == cfg
    assert Runs(store.root).get("el").status == "queued"
