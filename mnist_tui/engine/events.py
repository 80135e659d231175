"""The training events, defined once: the loop emits them, the run log stores them as JSON lines,
`train --events` prints them, and every face reads them back with :func:`parse_event`.

Torch-free, so the TUI and `runs watch` read logs without importing the engine's heavy parts.
A line that does not parse (not JSON, an unknown kind, a missing, extra or mistyped field) is
refused with a one-sentence note naming what is wrong, never silently dropped: a renamed field
shows up as an error, not as a screen that quietly stops updating.
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class RunStarted:
    """A run process began (or resumed) training ``name``; ``epochs_done`` were already kept."""

    kind: ClassVar[str] = "started"
    name: str
    pid: int
    config: dict
    epochs_done: int = 0
    started: float = 0.0  # wall-clock time.time()


@dataclass(frozen=True)
class Status:
    """A phase change worth telling the user ("Loading MNIST", "Evaluating on the test set")."""

    kind: ClassVar[str] = "status"
    message: str


@dataclass(frozen=True)
class DownloadProgress:
    """Bytes of one data-set file downloaded so far (total 0 when the server does not say)."""

    kind: ClassVar[str] = "download"
    file: str
    done: int
    total: int


@dataclass(frozen=True)
class BatchProgress:
    """Posted every few batches: where the run is and how fast it goes."""

    kind: ClassVar[str] = "batch"
    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based, within the epoch
    batches: int
    loss: float  # smoothed training loss
    images_per_s: float
    eta_s: float  # to the end of the whole run
    lr: float
    elapsed_s: float


@dataclass(frozen=True)
class EpochEnd:
    """Posted when an epoch ends, with its training and validation figures (NaN: no split)."""

    kind: ClassVar[str] = "epoch"
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    elapsed_s: float
    images_per_s: float


@dataclass(frozen=True)
class RunFinished:
    """The run ended with a result: finished and tested, or stopped keeping its last epoch."""

    kind: ClassVar[str] = "done"
    name: str | None
    arch: str
    dataset: str
    epochs_done: int
    epochs: int
    cancelled: bool
    val_acc: float | None
    test_acc: float | None
    test_loss: float | None
    train_seconds: float
    images_per_s: float
    used_ema: bool
    path: str | None
    message: str


@dataclass(frozen=True)
class RunFailed:
    """The run ended without a result; ``message`` is the one sentence to show."""

    kind: ClassVar[str] = "failed"
    message: str


Event = RunStarted | Status | DownloadProgress | BatchProgress | EpochEnd | RunFinished | RunFailed
EVENT_TYPES: dict[str, type[Any]] = {
    t.kind: t
    for t in (RunStarted, Status, DownloadProgress, BatchProgress, EpochEnd, RunFinished, RunFailed)
}
ENDINGS = (RunFinished, RunFailed)


class EventError(ValueError):
    """A line that is not a valid event; the message is one sentence naming the problem."""


def _clean(value: Any) -> Any:
    # JSON has no NaN or infinity: they are written as null and read back from the field type.
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def to_json(event: Event) -> str:
    """One line of strict JSON: ``{"kind": ..., <every field>}``."""
    body = {k: _clean(v) for k, v in asdict(event).items()}
    return json.dumps({"kind": event.kind, **body}, allow_nan=False, separators=(",", ":"))


_CHECKS: dict[str, Any] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "dict": lambda v: isinstance(v, dict),
}


def _coerce(kind: str, name: str, type_text: str, value: Any) -> Any:
    options = [t.strip() for t in type_text.split("|")]
    if value is None:
        if "None" in options:
            return None
        if "float" in options:
            return math.nan
    if value in ("inf", "-inf") and "float" in options:
        return float(value)
    for option in options:
        check = _CHECKS.get(option)
        if check is not None and check(value):
            return float(value) if option == "float" else value
    raise EventError(f"a {kind!r} event has {name}={value!r}, which is not a {type_text}")


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON object, checking every field against the dataclass."""
    kind = data.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventError(f"unknown event kind {kind!r}")
    declared = {f.name: f for f in fields(cls)}
    extra = sorted(set(data) - set(declared) - {"kind"})
    if extra:
        raise EventError(f"a {kind!r} event has unknown fields {', '.join(extra)}")
    values: dict[str, Any] = {}
    for name, f in declared.items():
        if name not in data:
            if f.default is MISSING:
                raise EventError(f"a {kind!r} event lacks its field {name!r}")
            continue
        values[name] = _coerce(kind, name, str(f.type), data[name])
    return cls(**values)


def parse_event(line: str) -> Event:
    """One log line back into its event; raises EventError with a sentence when it is not one."""
    text = line.strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise EventError(f"not a JSON line: {text[:40]!r}") from None
    if not isinstance(data, dict):
        raise EventError(f"not a JSON object: {text[:40]!r}")
    return from_dict(data)


def parse_lines(lines: list[str]) -> tuple[list[Event], list[str]]:
    """Every event of some lines, and a note for each line skipped (blank lines are not)."""
    events: list[Event] = []
    notes: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            events.append(parse_event(line))
        except EventError as exc:
            notes.append(f"line {number} skipped: {exc}.")
    return events, notes
