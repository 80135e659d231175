"""Asked when quitting while runs train: keep them going in the background, or stop them."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class QuitWithRunsModal(ModalScreen[str | None]):
    """Dismisses with "keep", "stop", or None (do not quit)."""

    BINDINGS = [
        Binding("k", "answer('keep')", "Keep running"),
        Binding("s", "answer('stop')", "Stop"),
        Binding("escape", "answer(None)", "Cancel"),
    ]
    DEFAULT_CSS = """
    QuitWithRunsModal { align: center middle; }
    QuitWithRunsModal > Vertical {
        width: 72; max-width: 100%; height: auto; border: round $warning;
        background: $surface; padding: 0 1;
    }
    QuitWithRunsModal Horizontal { height: auto; margin-top: 1; }
    QuitWithRunsModal Button { margin-right: 2; }
    """

    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"{self.summary}\nKeep training in the background (reopen mnist-tui from any"
                " terminal to watch), or stop now, keeping each run's last completed epoch?",
                id="quit-question",
            )
            with Horizontal():
                yield Button("Keep running (k)", id="keep", variant="primary", compact=True)
                yield Button("Stop (s)", id="stop", variant="error", compact=True)
                yield Button("Cancel (Esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id if event.button.id in ("keep", "stop") else None)

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)
