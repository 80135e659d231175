"""A small modal list of the store's usable models; dismisses with the chosen name (or None)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from mnist_tui.tui.app import MnistTuiApp


class ModelPicker(ModalScreen[str | None]):
    """Pick a model from the store: arrows + Enter choose, Escape keeps the current one."""

    if TYPE_CHECKING:

        @property
        def app(self) -> MnistTuiApp: ...

    DEFAULT_CSS = """
    ModelPicker {
        align: center middle;
    }
    ModelPicker > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    ModelPicker OptionList {
        height: auto;
        max-height: 16;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str | None = None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        services = self.app.services
        try:
            infos = [i for i in services.store().list() if not i.error]
            problem = "" if infos else "The store has no usable model yet: train one first (1)."
        except Exception as exc:  # noqa: BLE001 - a store problem is shown, not raised
            infos, problem = [], str(exc)
        with Vertical():
            yield Static("[b]Pick a model[/b]  (Enter choose · Escape cancel)")
            if problem:
                yield Static(problem, classes="error")
            options = [
                Option(("● " if i.name == self.current else "  ") + i.summary(), id=i.name)
                for i in infos
            ]
            yield OptionList(*options, id="models")

    def on_mount(self) -> None:
        options = self.query_one("#models", OptionList)
        options.focus()
        if self.current:
            try:
                options.highlighted = options.get_option_index(self.current)
            except Exception:  # noqa: BLE001 - the current model may not be listed
                pass

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
