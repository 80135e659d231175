"""The TUI's side of a run: one Textual message per training event kind, and the thread work
that follows a run's log in the store.

Training runs in a detached run process (:mod:`mnist_tui.engine.jobs`) that belongs to the
store, not to a screen: it survives the terminal closing and the UI quitting, and any number
of screens (in any number of TUIs) may follow it. The follower reads the log from its first
line, so attaching late rebuilds the charts and table, then goes on live. No torch here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.message import Message

from mnist_tui.engine.events import (
    BatchProgress,
    DownloadProgress,
    EpochEnd,
    Event,
    RunFailed,
    RunFinished,
    RunStarted,
    Status,
)
from mnist_tui.engine.jobs import Runs, RunState


class RunMessage(Message):
    """A training event from a followed run (``run`` is the run's name)."""

    def __init__(self, run: str, event: Any) -> None:
        super().__init__()
        self.run = run
        self.event = event


class RunBegan(RunMessage):
    """The run process started (or resumed) training."""

    event: RunStarted


class RunStatus(RunMessage):
    """A phase change ("Loading mnist data")."""

    event: Status


class RunDownload(RunMessage):
    """Download progress; a newer one replaces one not yet handled."""

    event: DownloadProgress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunDownload) and message.run == self.run


class RunBatch(RunMessage):
    """Batch progress; a newer one replaces one not yet handled, taking over its chart points,
    so a fast producer never floods the UI and no point of the loss curve is lost."""

    event: BatchProgress

    def __init__(self, run: str, event: BatchProgress) -> None:
        super().__init__(run, event)
        self.points: list[tuple[float, float]] = [
            (event.epoch - 1 + event.batch / event.batches, event.loss)
        ]

    def can_replace(self, message: Message) -> bool:
        # Called on the older message with the newer one pending: hand the points over.
        if isinstance(message, RunBatch) and message.run == self.run:
            message.points[:0] = self.points
            return True
        return False


class RunEpoch(RunMessage):
    """An epoch ended."""

    event: EpochEnd


class RunDone(RunMessage):
    """The run ended with a result (finished, or stopped keeping its last epoch)."""

    event: RunFinished


class RunError(RunMessage):
    """The run ended without a result; ``event.message`` is the sentence to show."""

    event: RunFailed


class LogRestarted(RunMessage):
    """The log was compacted; it is read again from the start (rebuild what is shown)."""


MESSAGES: dict[type[Any], type[RunMessage]] = {
    RunStarted: RunBegan,
    Status: RunStatus,
    DownloadProgress: RunDownload,
    BatchProgress: RunBatch,
    EpochEnd: RunEpoch,
    RunFinished: RunDone,
    RunFailed: RunError,
}


def message_for(run: str, event: Event | None) -> RunMessage:
    """The message a followed event is posted as (None: the log restarted)."""
    if event is None:
        return LogRestarted(run, None)
    return MESSAGES[type(event)](run, event)


def follow_run(
    runs: Runs, name: str, post: Callable[[Message], Any], cancelled: Callable[[], bool]
) -> None:
    """Post one message per event of run ``name`` until it ends (blocking: a thread worker)."""
    for event in runs.follow(name, cancelled=cancelled):
        if cancelled():
            return
        post(message_for(name, event))


def runs_status(runs: Runs) -> str:
    """The menu's status-line part for runs: what trains now and how many wait."""
    try:
        states = [s for s in runs.list() if s.active]
    except OSError:
        return ""
    running = [s for s in states if s.status == "running"]
    queued = len(states) - len(running)
    if not states:
        return ""
    parts = [_running_text(runs, s) for s in running]
    if queued:
        parts.append(f"{queued} queued")
    return "Runs: " + ", ".join(parts)


def _running_text(runs: Runs, state: RunState) -> str:
    epochs = state.config.get("epochs", "?")
    verb = "stopping" if state.stopping else "training"
    return f"{state.name} {verb} (epoch {runs.epochs_done(state.name)}/{epochs} done)"
