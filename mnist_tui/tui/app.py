"""The Textual app: a keyboard menu over the engine, built by one factory for the CLI and tests.

Start-up is a feature: nothing here imports torch. Screens are imported when first opened, and
torch is warmed up in a background thread after the menu has painted.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from mnist_tui.tui.services import Services


@dataclass(frozen=True)
class MenuEntry:
    """One menu line: the key that opens it, and the screen class (imported on first use)."""

    key: str
    id: str
    title: str
    help: str
    target: str  # "module:Class" under mnist_tui.tui.screens


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("1", "train", "Train", "train a network with live loss charts", "train:TrainScreen"),
    MenuEntry(
        "2",
        "weights",
        "First-layer weights",
        "see the filters as half-block art",
        "weights:WeightsScreen",
    ),  # fmt: skip
    MenuEntry(
        "3",
        "predict",
        "Predict an image",
        "classify an image file by its path",
        "predict:PredictScreen",
    ),  # fmt: skip
    MenuEntry(
        "4", "evaluate", "Evaluate", "test accuracy, confusion, mistakes", "evaluate:EvaluateScreen"
    ),  # fmt: skip
    MenuEntry(
        "5",
        "models",
        "Models",
        "activate, rename, delete; runs: watch, stop, queue",
        "models:ModelsScreen",
    ),  # fmt: skip
    MenuEntry(
        "6", "browse", "Browse the data set", "samples by digit and split", "browse:BrowseScreen"
    ),  # fmt: skip
    MenuEntry(
        "7", "draw", "Draw a digit", "draw with mouse or keys, live prediction", "draw:DrawScreen"
    ),  # fmt: skip
    MenuEntry(
        "8",
        "compare",
        "Compare runs",
        "curves overlaid, settings side by side",
        "compare:CompareScreen",
    ),  # fmt: skip
)


def screen_class(entry: MenuEntry) -> type[Screen[Any]]:
    """Import a menu entry's screen class (lazily: screens may import heavy modules)."""
    module, cls = entry.target.split(":")
    return getattr(importlib.import_module(f"mnist_tui.tui.screens.{module}"), cls)


class MenuScreen(Screen[None]):
    """The main menu: number keys or arrows + Enter; a status line for model and data."""

    if TYPE_CHECKING:

        @property
        def app(self) -> MnistTuiApp: ...

    DEFAULT_CSS = """
    MenuScreen #runs-line {
        dock: bottom; height: 1; margin-bottom: 2; background: $panel; color: $warning;
        display: none;
    }
    """
    BINDINGS = [
        *(Binding(e.key, f"open('{e.id}')", e.title, show=False) for e in MENU),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="menu-box"):
            yield Static("mnist-tui", id="menu-title")
            yield OptionList(
                *(Option(f"[b]{e.key}[/b]  {e.title:<22} [dim]{e.help}[/dim]", id=e.id)
                  for e in MENU),
                Option("[b]q[/b]  Quit", id="quit"),
                id="menu",
            )  # fmt: skip
        yield Static("", id="status-line")
        yield Static("", id="runs-line")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#menu", OptionList).focus()
        self.refresh_status()
        self.set_interval(2.0, self.refresh_runs_line)  # runs in other processes come and go

    def on_screen_resume(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        """Show the active model and whether the data set is present (no torch needed)."""
        services: Services = self.app.services
        try:
            model = services.active_info().summary()
        except Exception as exc:  # noqa: BLE001 - any store problem is shown, never raised
            model = f"none ({exc})"
        data = "present" if services.data_available() else "missing (Train offers to download)"
        self.query_one("#status-line", Static).update(
            f" Model: {model}   │   {services.dataset.upper()} data: {data}"
        )
        self.call_after_refresh(self.refresh_runs_line)  # after the menu has painted

    def refresh_runs_line(self) -> None:
        """Show running and queued runs of the store (any process's), hidden when none."""
        runs = self.app.runs_status()
        line = self.query_one("#runs-line", Static)
        line.update(f" {runs} · open Models (5) to watch or stop" if runs else "")
        line.display = bool(runs)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "quit":
            self.run_action("app.quit")
        elif event.option.id:
            self.action_open(event.option.id)

    def action_open(self, screen_id: str) -> None:
        self.app.open_screen(screen_id)


class ScreensProvider(Provider):
    """Command palette: every screen and the main actions."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = cast(MnistTuiApp, self.app)
        for entry in MENU:
            text = f"Open: {entry.title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text),
                          lambda e=entry: app.open_screen(e.id), help=entry.help)  # fmt: skip
        for text, action in (("Main menu", app.action_main_menu), ("Quit", app.exit)):
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), action)


class MnistTuiApp(App[int]):
    """mnist-tui's Textual application."""

    TITLE = "mnist-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ScreensProvider}
    BINDINGS = [
        Binding("question_mark", "help", "Keys", key_display="?"),
        # `?` types into a focused text field; F1 shows the keys from anywhere.
        Binding("f1", "help", "Keys", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, services: Services, *, warm_up: bool = True) -> None:
        super().__init__()
        self.services = services
        self._warm = warm_up
        self.shutdown_hooks: list[Any] = []  # called on exit: stop subprocesses, cancel work

    def on_mount(self) -> None:
        if os.environ.get("NO_COLOR"):
            self.ascii_art = True
        self.push_screen(MenuScreen())
        if self._warm:
            self.set_timer(0.4, self._warm_up)

    ascii_art: bool = bool(os.environ.get("NO_COLOR"))

    @work(thread=True, exclusive=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        self.services.warm_up()

    def open_screen(self, screen_id: str) -> None:
        """Open a menu entry's screen on top of the menu."""
        entry = next(e for e in MENU if e.id == screen_id)
        try:
            cls = screen_class(entry)
        except (ImportError, AttributeError):
            self.notify(f"{entry.title} is not available in this build.", severity="warning")
            return
        self.push_screen(cls())

    def action_main_menu(self) -> None:
        """Back to the main menu from anywhere."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        """Show the key bindings of the current screen."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def runs_status(self) -> str:
        """Running and queued runs of the store, for the status line ('' when none)."""
        from mnist_tui.engine.jobs import Runs
        from mnist_tui.tui.training import runs_status

        try:
            return runs_status(Runs(self.services.store().root))
        except Exception:  # noqa: BLE001 - a status line never raises
            return ""

    async def action_quit(self) -> None:
        """Quit; while runs train, ask whether to keep them going or stop them."""
        runs = self.runs_status()
        if not runs or self.screen.is_modal:
            self.run_shutdown_hooks()
            self.exit(0)
            return
        from mnist_tui.tui.widgets.quit_prompt import QuitWithRunsModal

        def answered(choice: str | None) -> None:
            if choice is None:
                return
            if choice == "stop":
                from mnist_tui.engine.jobs import Runs

                Runs(self.services.store().root).stop_all()
            self.run_shutdown_hooks()
            self.exit(0)

        self.push_screen(QuitWithRunsModal(runs), answered)

    def run_shutdown_hooks(self) -> None:
        """Stop background work (training subprocesses, workers) before exiting."""
        for hook in list(self.shutdown_hooks):
            try:
                hook()
            except Exception:  # noqa: BLE001 - exiting must never fail
                pass
        self.workers.cancel_all()


def create_app(
    services: Services | None = None, *, warm_up: bool = True, **kwargs: Any
) -> MnistTuiApp:
    """The one factory: the CLI passes command-line options, tests inject small data/models."""
    return MnistTuiApp(services or Services(**kwargs), warm_up=warm_up)


def run_app(**kwargs: Any) -> int:
    """Run the TUI; returns the exit status. Exits promptly even if a worker thread is busy."""
    app = create_app(**kwargs)
    try:
        result = app.run()
    finally:
        app.run_shutdown_hooks()
    code = result if isinstance(result, int) else 0
    sys.stdout.flush()
    sys.stderr.flush()
    # A thread worker blocked in torch cannot be interrupted, and the interpreter would join it
    # at exit; everything worth keeping is already saved atomically, so leave now.
    os._exit(code)
