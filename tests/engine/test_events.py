"""Training events: one definition writes the log, feeds `train --events` and is read back."""

from __future__ import annotations

import json
import math

import pytest

from mnist_tui.engine.events import (
    EVENT_TYPES,
    BatchProgress,
    EpochEnd,
    EventError,
    RunFinished,
    RunStarted,
    Status,
    parse_event,
    parse_lines,
    to_json,
)

BATCH = BatchProgress(1, 2, 3, 4, 0.5, 1000.0, float("inf"), 0.01, 1.5)
EPOCH = EpochEnd(1, 2, 0.4, 0.9, float("nan"), float("nan"), 0.01, 3.0, 900.0)


def test_every_kind_round_trips_through_strict_json() -> None:
    finished = RunFinished("a", "fast", "mnist", 2, 2, False, None, 0.99, 0.03, 4.0, 800.0,
                           False, "/m/a.safetensors", "Saved a.")  # fmt: skip
    for event in (BATCH, EPOCH, Status("Loading"), finished,
                  RunStarted("a", 12, {"arch": "fast"}, 1, 5.0)):  # fmt: skip
        line = to_json(event)
        json.loads(line)  # strict JSON: no NaN or Infinity tokens
        assert "NaN" not in line and "Infinity" not in line
        back = parse_event(line)
        assert type(back) is type(event)
        for key, value in vars(event).items():
            got = getattr(back, key)
            assert got == value or (math.isnan(value) and math.isnan(got)), key
    assert set(EVENT_TYPES) >= {"batch", "epoch", "status", "download", "done", "failed"}


def test_a_renamed_field_is_caught_not_ignored() -> None:
    data = json.loads(to_json(EPOCH))
    data["validation_acc"] = data.pop("val_acc")
    with pytest.raises(EventError) as err:
        parse_event(json.dumps(data))
    assert "validation_acc" in str(err.value)
    del data["validation_acc"]
    with pytest.raises(EventError, match="val_acc"):
        parse_event(json.dumps(data))


def test_a_mistyped_field_is_caught() -> None:
    data = json.loads(to_json(BATCH))
    data["batch"] = "three"
    with pytest.raises(EventError, match="batch="):
        parse_event(json.dumps(data))


def test_bad_lines_are_skipped_with_a_note_each() -> None:
    lines = [to_json(Status("one")), "Traceback (most recent call last):", "",
             '{"kind": "warp", "x": 1}', "[1, 2]", to_json(BATCH)]  # fmt: skip
    events, notes = parse_lines(lines)
    assert [e.kind for e in events] == ["status", "batch"]
    assert len(notes) == 3
    assert notes[0].startswith("line 2 skipped: not a JSON line")
    assert "unknown event kind 'warp'" in notes[1]


def test_runs_modules_import_neither_torch_nor_textual() -> None:
    """`runs watch`, the menu's status line and the log follower stay light."""
    import subprocess
    import sys

    code = (
        "import sys, mnist_tui.engine.events, mnist_tui.engine.jobs, mnist_tui.engine.compare,"
        " mnist_tui.engine.config; print('torch' in sys.modules, 'textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
