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

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from mnist_tui.render.depth import (
    ColorDepth,
    resolve_depth,
    rich_color_system,
    use_depth,
    utf8_locale,
)
from mnist_tui.tui.crash import log_exception, one_line
from mnist_tui.tui.services import Services
from mnist_tui.tui.widgets.fit import pack_parts

# Below this size widgets cannot lay out (Textual's OptionList divides by a zero width at 5x4):
# every screen hides its widgets and asks for a larger window instead.
MIN_WIDTH, MIN_HEIGHT = 40, 10
MENU_WIDE = 72  # the menu shows its help column from this width up

_DEPTH_LABELS: dict[str, str] = {
    "truecolor": "truecolor",
    "256": "256 colours",
    "16": "16 colours",
    "none": "no colour",
}


class TooSmall(Static):
    """Shown instead of a screen's widgets when the terminal is below the floor."""

    DEFAULT_CSS = """
    TooSmall { display: none; width: 100%; height: 100%; content-align: center middle; }
    """

    def __init__(self) -> None:
        super().__init__(f"Make the window larger (at least {MIN_WIDTH}x{MIN_HEIGHT}).")


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
        "models and runs: activate, watch, stop",
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

    BINDINGS = [
        *(Binding(e.key, f"open('{e.id}')", e.title, show=False) for e in MENU),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="menu-box"):
            yield Static("mnist-tui", id="menu-title")
            yield OptionList(*self.options(wide=True), id="menu")
        yield Static("", id="status-line")
        yield Footer()

    @staticmethod
    def options(wide: bool) -> list[Option]:
        """The menu's lines; a narrow window gets them without the help column, one line each."""

        def line(key: str, title: str, help: str) -> str:
            return (
                f"[b]{key}[/b]  {title:<22} [dim]{help}[/dim]" if wide else f"[b]{key}[/b]  {title}"
            )

        return [Option(line(e.key, e.title, e.help), id=e.id) for e in MENU] + [
            Option("[b]q[/b]  Quit", id="quit")
        ]

    def on_resize(self, event: events.Resize) -> None:
        if self._parts:
            self._show_status()
        menu = self.query_one("#menu", OptionList)
        # The menu box is 72 wide: key, title and help fit one line; narrower, the help goes.
        wide = event.size.width >= MENU_WIDE
        if wide != getattr(self, "_wide", True):
            self._wide = wide
            highlighted = menu.highlighted
            menu.clear_options()
            menu.add_options(self.options(wide))
            menu.highlighted = highlighted

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
        self._parts = [
            f"Model: {model}",
            f"{services.dataset.upper()} data: {data}",
            self.app.depth_label,
        ]
        self._show_status()
        self.call_after_refresh(self.refresh_runs_line)  # after the menu has painted

    _parts: list[str] = []
    _runs = ""

    def _show_status(self) -> None:
        """The status line's parts packed to the window's width, breaking only between parts."""
        sep = "│" if self.app.utf8 else "|"
        status = pack_parts(self._parts, self.size.width or self.app.size.width, sep)
        self.query_one("#status-line", Static).update(status + self._runs)

    def refresh_runs_line(self) -> None:
        """Add running and queued runs of the store (any process's) to the status line."""
        runs = self.app.runs_status()
        text = f"\n {runs} · Models (5) to watch or stop" if runs else ""
        if text != self._runs:
            self._runs = text
            self._show_status()

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

    def __init__(
        self,
        services: Services,
        *,
        warm_up: bool = True,
        color: str | None = None,
        log_crashes: bool = False,
    ) -> None:
        super().__init__()
        self.services = services
        self._warm = warm_up
        self.shutdown_hooks: list[Any] = []  # called on exit: stop subprocesses, cancel work
        self.utf8 = utf8_locale()
        # The depth Textual's console detects (TERM, COLORTERM, NO_COLOR, TEXTUAL_COLOR_SYSTEM),
        # or --color; the art draws that depth's own palette, so nothing is re-quantised.
        self.color_depth: ColorDepth = resolve_depth(color, os.environ)
        if color is not None:
            from rich.console import COLOR_SYSTEMS

            system = rich_color_system(self.color_depth)
            if system is not None:
                self.console._color_system = COLOR_SYSTEMS[system]  # --color overrides detection
            elif not self.no_color:
                from textual.filter import Monochrome

                self.no_color = True  # as NO_COLOR does
                self._filters.append(Monochrome())
        use_depth(self.color_depth)
        # No colour, or a locale that cannot show half-blocks (LANG=C): ASCII art.
        self.ascii_art = self.color_depth == "none" or not self.utf8
        if not self.utf8:
            self.add_class("-ascii")
        # run_app sets this: an error is logged to a file and ends the app with one line and
        # status 1, never touching a training child (tests leave it off: a bug fails the test).
        self.log_crashes = log_crashes
        self.crashed: str | None = None  # the one line, when an error ended the app

    @property
    def depth_label(self) -> str:
        """The colour depth in words, for the status line."""
        label = _DEPTH_LABELS[self.color_depth]
        return label if self.utf8 else f"{label}, ASCII (locale is not UTF-8)"

    def on_mount(self) -> None:
        self.push_screen(MenuScreen())
        if self._warm:
            self.set_timer(0.4, self._warm_up)

    def on_resize(self, event: events.Resize) -> None:
        self.fit_floor(event.size.width, event.size.height)

    def fit_floor(self, width: int, height: int) -> None:
        """Below the floor, every screen hides its widgets behind one line asking for room."""
        tiny = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(tiny, "-tiny")
        if tiny:
            for screen in self.screen_stack:
                if not screen.query(TooSmall):
                    screen.mount(TooSmall())

    def push_screen(self, *args: Any, **kwargs: Any) -> Any:
        result = super().push_screen(*args, **kwargs)
        if self.has_class("-tiny"):
            self.call_after_refresh(self.fit_floor, self.size.width, self.size.height)
        screen = args[0] if args else kwargs.get("screen")
        if not self.utf8 and isinstance(screen, Screen):
            self.call_after_refresh(self._ascii_headers, screen)
        return result

    def _ascii_headers(self, screen: Screen[Any]) -> None:
        """Under LANG=C the header's icon is a plain character too."""
        for header in screen.query(Header):
            header.icon = "*"

    def _handle_exception(self, error: Exception) -> None:
        if not self.log_crashes:
            super()._handle_exception(error)
            return
        if self.crashed is None:  # the first error is the one worth reporting
            self.crashed = one_line(error, log_exception(error))
        self._return_code = 1
        self._exception_event.set()  # wakes waiters (Pilot) on the loop that just stopped
        self.exit(1, return_code=1)

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
    services: Services | None = None,
    *,
    warm_up: bool = True,
    color: str | None = None,
    log_crashes: bool = False,
    **kwargs: Any,
) -> MnistTuiApp:
    """The one factory: the CLI passes command-line options, tests inject small data/models."""
    return MnistTuiApp(
        services or Services(**kwargs), warm_up=warm_up, color=color,
        log_crashes=log_crashes,
    )  # fmt: skip


def run_app(**kwargs: Any) -> int:
    """Run the TUI; returns the exit status. Exits promptly even if a worker thread is busy.

    An unexpected error never exits 0 and never kills a training child: the child is only
    stopped on an ordinary quit; after a crash it trains on, unread, saving each epoch.
    """
    app = create_app(log_crashes=True, **kwargs)
    try:
        result = app.run()
    except Exception as exc:  # noqa: BLE001 - the driver itself failed: one line, logged
        app.crashed = one_line(exc, log_exception(exc))
        result = 1
    if app.crashed is None:
        app.run_shutdown_hooks()
        code = app.return_code or (result if isinstance(result, int) else 0)
    else:
        print(f"mnist-tui: {app.crashed}", file=sys.stderr)
        print("mnist-tui: a training run, if any, goes on and saves each epoch to the store.",
              file=sys.stderr)  # fmt: skip
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # A thread worker blocked in torch cannot be interrupted, and the interpreter would join it
    # at exit; everything worth keeping is already saved atomically, so leave now.
    os._exit(code)
