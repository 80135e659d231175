"""Messages every screen shares. Screen-specific messages live beside their screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class WorkFailed(Message):
    """A worker could not do its job; ``text`` is one sentence saying what is wrong and what to do.

    Every engine-backed screen handles it once, in :class:`EngineScreen`, which shows the
    sentence and calls the screen's ``on_work_failure`` hook to reset its own state.
    """

    text: str
