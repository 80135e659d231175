"""What the engine-backed screens share: work that stops with the screen, one error line, and
the way to the activations screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from textual import on
from textual.screen import Screen
from textual.widgets import Static

from mnist_tui.tui.messages import WorkFailed

if TYPE_CHECKING:
    from mnist_tui.tui.app import MnistTuiApp


class AppScreen(Screen[None]):
    """A screen of this app: ``self.app`` is typed, so screens reach services without casts."""

    if TYPE_CHECKING:

        @property
        def app(self) -> MnistTuiApp:  # typed access to services, hooks and actions
            ...


class EngineScreen(AppScreen):
    """A screen whose engine work runs in thread workers and whose failures are one sentence.

    Subclasses name their error line (a ``Static``) in ``ERROR_ID``.
    """

    ERROR_ID: ClassVar[str] = ""

    def on_unmount(self) -> None:
        # Leaving the screen cancels its workers; their results would have nowhere to go.
        self.app.workers.cancel_node(self)

    def show_error(self, text: str) -> None:
        """One sentence in the error line (hidden when empty)."""
        error = self.query_one(f"#{self.ERROR_ID}", Static)
        error.update(text)
        error.display = bool(text)

    @on(WorkFailed)
    def _work_failed(self, message: WorkFailed) -> None:
        self.on_work_failure()
        self.show_error(message.text)

    def on_work_failure(self) -> None:
        """Reset what the failed work would have filled in (override per screen)."""

    def open_activations(
        self, pixels: np.ndarray, title: str, model_name: str | None = None
    ) -> None:
        """Show every layer's response to a 28x28 input (float in [0, 1], ink bright)."""
        from mnist_tui.tui.screens.activations import ActivationsScreen

        self.app.push_screen(ActivationsScreen(pixels, title, model_name=model_name))
