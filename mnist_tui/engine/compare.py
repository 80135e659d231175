"""Runs side by side: each model's per-epoch history (finished, stopped or still running), its
best epoch, and a table of settings with the ones that differ marked.

Torch-free: histories come from checkpoint headers and, for a run still going, from its log.
Used by `mnist-tui compare`, `models export` and the Compare screen.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

from mnist_tui.engine.events import EpochEnd, RunStarted
from mnist_tui.engine.jobs import Runs
from mnist_tui.errors import ConfigError, StoreError

MAX_COMPARED = 8
HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "elapsed_s")


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


@dataclass
class RunSummary:
    """One model or run as Compare shows it."""

    name: str
    status: str  # finished, stopped, running, queued, crashed, failed
    config: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    epochs: int = 0
    test_acc: float | None = None
    train_seconds: float | None = None

    @property
    def arch(self) -> str:
        """The architecture."""
        return str(self.config.get("arch", "?"))

    @property
    def best_epoch(self) -> int | None:
        """The epoch of the highest validation accuracy (None without a validation split)."""
        scored = [(a, int(r["epoch"])) for r in self.history if (a := _num(r.get("val_acc")))
                  is not None]  # fmt: skip
        return max(scored, key=lambda t: (t[0], -t[1]))[1] if scored else None

    @property
    def best_val_acc(self) -> float | None:
        """The highest validation accuracy of any epoch."""
        accs = [a for r in self.history if (a := _num(r.get("val_acc"))) is not None]
        return max(accs) if accs else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (NaN as null)."""
        return {
            "name": self.name, "status": self.status, "arch": self.arch,
            "dataset": self.config.get("dataset"), "epochs_done": len(self.history),
            "epochs": self.epochs, "best_epoch": self.best_epoch,
            "best_val_acc": self.best_val_acc, "test_acc": self.test_acc,
            "train_seconds": self.train_seconds, "config": self.config,
        }  # fmt: skip


def summarize(store: Any, name: str) -> RunSummary:
    """A model's history, from its checkpoint and, while its run goes on, from its log."""
    runs = Runs(store.root)
    state = runs.get(name) if _safe_name(name) else None
    info = None
    try:
        info = store.info(name)
    except Exception:  # noqa: BLE001 - a run with no checkpoint yet is still comparable
        if state is None:
            raise
    if state is not None and (state.active or info is None):
        events, _ = runs.read_log(name)
        rows: dict[int, dict[str, Any]] = {}
        for e in events:
            if isinstance(e, RunStarted):  # a resumed run restarts after its kept epochs
                rows = {k: v for k, v in rows.items() if k <= e.epochs_done}
            elif isinstance(e, EpochEnd):
                rows[e.epoch] = {c: getattr(e, c) for c in HISTORY_COLUMNS}
        history = [rows[k] for k in sorted(rows)]
        if info is not None and len(info.history) > len(history):
            history = info.history
        seconds = _num(history[-1]["elapsed_s"]) if history else None
        epochs = int(state.config.get("epochs", 0))
        return RunSummary(name, state.status, dict(state.config), history, epochs, None, seconds)
    assert info is not None
    if info.error:
        raise StoreError(info.error)
    status = "finished" if info.complete else "stopped"
    seconds = _num(info.extra.get("train_seconds"))
    if seconds is None and info.history:
        seconds = _num(info.history[-1].get("elapsed_s"))
    config = dict(info.config) or {"arch": info.arch, "dataset": info.dataset}
    return RunSummary(name, status, config, list(info.history), info.epochs, info.test_acc, seconds)


def _safe_name(name: str) -> bool:
    from mnist_tui.engine.store import NAME_RE

    return bool(NAME_RE.match(name))


@dataclass
class Comparison:
    """Several runs and the settings that tell them apart."""

    runs: list[RunSummary]
    settings: list[str]
    differing: set[str]

    def to_dict(self) -> dict[str, Any]:
        """What `compare --json` prints."""
        return {
            "runs": [r.to_dict() for r in self.runs],
            "differing": sorted(self.differing),
        }

    def table(self) -> tuple[list[str], list[tuple[str, list[str], bool]]]:
        """Header (model names) and rows ``(label, one cell per run, differs)``."""

        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:.2%}"

        def secs(v: float | None) -> str:
            if v is None:
                return "-"
            return f"{v:.0f}s" if v < 120 else f"{v / 60:.1f}m"

        rows: list[tuple[str, list[str], bool]] = [
            ("status", [r.status for r in self.runs], False),
            ("epochs", [f"{len(r.history)}/{r.epochs}" for r in self.runs], False),
            ("best val", [pct(r.best_val_acc) for r in self.runs], False),
            ("best epoch", [str(r.best_epoch or "-") for r in self.runs], False),
            ("test acc", [pct(r.test_acc) for r in self.runs], False),
            ("train time", [secs(r.train_seconds) for r in self.runs], False),
        ]
        for key in self.settings:
            cells = [_cell(r.config.get(key)) for r in self.runs]
            rows.append((key, cells, key in self.differing))
        return [r.name for r in self.runs], rows


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def compare(store: Any, names: list[str]) -> Comparison:
    """Summaries of 2-8 models or runs, and which settings differ between them."""
    unique = list(dict.fromkeys(names))
    if not 2 <= len(unique) <= MAX_COMPARED:
        raise ConfigError(f"Compare needs 2 to {MAX_COMPARED} different models, not {len(unique)}.")
    runs = [summarize(store, n) for n in unique]
    settings: list[str] = []
    for r in runs:
        settings += [k for k in r.config if k not in settings]
    differing = {k for k in settings if len({json.dumps(r.config.get(k)) for r in runs}) > 1}
    return Comparison(runs, settings, differing)


def history_csv(summary: RunSummary) -> str:
    """The per-epoch history as CSV (empty cells where a figure is missing)."""
    extra = [k for r in summary.history for k in r if k not in HISTORY_COLUMNS]
    columns = [*HISTORY_COLUMNS, *dict.fromkeys(extra)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in summary.history:
        writer.writerow(["" if (v := row.get(c)) is None or v != v else v for c in columns])
    return out.getvalue()


def history_json(summary: RunSummary) -> str:
    """The per-epoch history and the run's summary as one JSON document (NaN as null)."""
    rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in summary.history]  # fmt: skip
    return json.dumps({**summary.to_dict(), "history": rows}, indent=2)
