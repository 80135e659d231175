"""Models: the store as a table; make one active, rename, delete, or resume a stopped run.

Listing reads checkpoint headers only (no torch), so this screen opens instantly; a broken
file is listed as unusable and never hides the others.
"""

from __future__ import annotations

import contextlib

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static

from mnist_tui.engine.jobs import Runs, RunState
from mnist_tui.engine.store import ModelInfo, validate_name
from mnist_tui.errors import MnistTuiError
from mnist_tui.tui.screens.base import AppScreen
from mnist_tui.tui.widgets.text_input import InOrderInput


def model_state(info: ModelInfo, active: str | None) -> str:
    """The state column: active marker, unfinished run, shipped, or why it is unusable."""
    if info.error:
        return f"unusable: {info.error}"
    parts = []
    if info.name == active:
        parts.append("active")
    if not info.complete:
        parts.append(f"stopped at epoch {info.epochs_done}/{info.epochs}")
    if info.shipped:
        parts.append("shipped")
    return ", ".join(parts)


def run_state(run: RunState) -> str:
    """The state column of a queued or running run."""
    if run.status == "queued":
        return f"queued #{run.position}"
    return "stopping..." if run.stopping else "training (w: watch)"


def _pct(value: float | None) -> str:
    return f"{value:.2%}" if value is not None else "-"


class NameValidator(Validator):
    """The store's name rules, as an Input validator."""

    def validate(self, value: str) -> ValidationResult:
        try:
            validate_name(value.strip())
        except MnistTuiError as exc:
            return self.failure(str(exc))
        return self.success()


class RenameModal(ModalScreen[str | None]):
    """Ask for a new name; Enter accepts, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    RenameModal { align: center middle; }
    RenameModal > Vertical {
        width: 64; max-width: 100%; height: auto; border: round $primary;
        background: $surface; padding: 0 1;
    }
    RenameModal .error { color: $error; }
    """

    def __init__(self, old: str) -> None:
        super().__init__()
        self.old = old

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Rename {self.old} to:")
            yield InOrderInput(self.old, id="new-name", validators=[NameValidator()])
            yield Static("", id="rename-error", classes="error")
            yield Label("Enter: rename   Escape: cancel", classes="hint")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        text = "" if result is None or result.is_valid else result.failure_descriptions[0]
        self.query_one("#rename-error", Static).update(text)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#rename-error", Static).update(result.failure_descriptions[0])
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question: y confirms; n or Escape declines."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
    ]
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical {
        width: 64; max-width: 100%; height: auto; border: round $error;
        background: $surface; padding: 0 1;
    }
    ConfirmModal Horizontal { height: auto; margin-top: 1; }
    ConfirmModal Button { margin-right: 2; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question")
            with Horizontal():
                yield Button("Yes (y)", id="yes", variant="error", compact=True)
                yield Button("No (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ModelsScreen(AppScreen):
    """The model store: every checkpoint, its accuracy and state, and what can be done with it."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "activate", "Make active"),
        Binding("r", "rename", "Rename"),
        Binding("d", "delete", "Delete"),
        Binding("t", "resume", "Resume training"),
        Binding("w", "watch", "Watch run"),
        Binding("x", "stop_run", "Stop run"),
        Binding("plus", "move_run(-1)", "Sooner", key_display="+"),
        Binding("minus", "move_run(1)", "Later", key_display="-"),
        Binding("space", "mark", "Mark", show=False),
        Binding("c", "compare", "Compare"),
    ]
    DEFAULT_CSS = """
    ModelsScreen #models-box { height: 1fr; padding: 0 1; }
    ModelsScreen #store-path { color: $text-muted; }
    ModelsScreen #models-table { height: 1fr; }
    ModelsScreen #models-message { height: auto; }
    ModelsScreen #models-message.error { color: $error; }
    ModelsScreen #models-hint { color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.infos: dict[str, ModelInfo] = {}
        self.runs: dict[str, RunState] = {}  # queued, running and recent runs by name
        self.marked: list[str] = []  # rows marked (space) for Compare

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="models-box"):
            yield Static("", id="store-path")
            yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="models-message")
            yield Static(
                "Enter/a make active · r rename · d delete · t resume · w watch a run · x stop"
                " · +/- reorder the queue · space mark · c compare",
                id="models-hint",
            )
        yield Footer()

    COLUMNS = ("name", "arch", "val", "test", "state", "params", "data", "created")
    # What a narrow window keeps: whole columns in this order, never a cut one.
    PRIORITY = ("name", "state", "test", "created", "arch", "val", "data", "params")

    def on_mount(self) -> None:
        table = self.query_one("#models-table", DataTable)
        self._shown_columns: list[int] = []
        self.refresh_table()
        table.focus()
        self.set_interval(2.0, self._refresh_runs)  # runs progress and end in other processes

    def on_resize(self) -> None:
        self.refresh_table()

    def on_screen_resume(self) -> None:
        self.refresh_table()

    @property
    def services(self):  # noqa: ANN201 - Services, typed loosely to keep imports light
        return self.app.services

    def refresh_table(self, select: str | None = None) -> None:
        """Re-read the store (headers only) and keep the cursor on the same model if possible."""
        table = self.query_one("#models-table", DataTable)
        keep = select or self.current_name()
        store = self.services.store()
        self.query_one("#store-path", Static).update(f"Store: {store.root}")
        try:
            infos = store.list()
        except OSError as exc:
            self.say(f"Cannot read the store {store.root}: {exc.strerror or exc}.", error=True)
            infos = []
        try:
            active: str | None = self.services.active_model_name()
        except MnistTuiError:
            active = None
        self.infos = {i.name: i for i in infos}
        self.runs = {r.name: r for r in Runs(store.root).list()}
        ascii_art = bool(getattr(self.app, "ascii_art", False))
        rows: list[tuple[str, list[str]]] = []
        for r in self.runs.values():  # runs with no checkpoint yet: queued, or in epoch 1
            if r.active and r.name not in self.infos:
                cfg = r.config
                cells = ["  " + r.name, str(cfg.get("arch", "?")), "-", "-", run_state(r), "",
                         str(cfg.get("dataset", "")), ""]  # fmt: skip
                rows.append((r.name, cells))
        for i in infos:
            marker = ("* " if ascii_art else "● ") if i.name == active else "  "
            if i.name in self.marked:
                marker = "+ "
            if i.error:
                rows.append((i.name, [marker + i.name, "?", "", "", model_state(i, active),
                                      "", "", ""]))  # fmt: skip
                continue
            rows.append((i.name, [
                marker + i.name, i.arch_label, _pct(i.val_acc), _pct(i.test_acc),
                run_state(self.runs[i.name]) if i.name in self.runs and self.runs[i.name].active
                else model_state(i, active), f"{i.params:,}", i.dataset,
                i.created[:16].replace("T", " "),
            ]))  # fmt: skip
        from mnist_tui.tui.widgets.fit import fit_columns

        # The table's width less its scrollbar; at 80 columns val, params and data make way.
        shown = fit_columns(self.COLUMNS, [r for _, r in rows], self.PRIORITY,
                            max(1, table.size.width - 2), always=2)  # fmt: skip
        if shown != self._shown_columns:
            table.clear(columns=True)
            table.add_columns(*(self.COLUMNS[c] for c in shown))
            self._shown_columns = shown
        table.clear()
        for key, row in rows:
            table.add_row(*(row[c] for c in shown), key=key)
        if not infos and not self.runs:
            self.say("The store is empty: train a model (menu key 1).")
        if keep in self.infos or keep in self.runs:
            with contextlib.suppress(Exception):  # a run with no row (crashed before epoch 1)
                table.move_cursor(row=table.get_row_index(keep))

    def _refresh_runs(self) -> None:
        """Re-read the store when a run started, ended or moved (cheap: state files only)."""
        states = {r.name: (r.status, r.position, r.stopping) for r in
                  Runs(self.services.store().root).list()}  # fmt: skip
        if states != {r.name: (r.status, r.position, r.stopping) for r in self.runs.values()}:
            self.refresh_table()

    def current_name(self) -> str | None:
        """The model under the cursor."""
        table = self.query_one("#models-table", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return str(key.value) if key.value is not None else None

    def say(self, text: str, *, error: bool = False) -> None:
        """One sentence under the table (red when it is an error)."""
        message = self.query_one("#models-message", Static)
        message.update(text)
        message.set_class(error, "error")

    # ------------------------------------------------------------------ actions

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        name = self.current_name()
        if name in self.runs and self.runs[name].active:
            self.action_watch()  # a run still going: Enter attaches to it
        else:
            self.action_activate()

    def action_watch(self) -> None:
        """Follow the run under the cursor on the Train screen (its history, then live)."""
        name = self.current_name()
        if name is None:
            return
        if name not in self.runs:
            self.say(f"{name} has no run log to watch (it was trained elsewhere).", error=True)
            return
        from mnist_tui.tui.screens.train import TrainScreen

        self.app.push_screen(TrainScreen(attach=name))

    def action_stop_run(self) -> None:
        """Stop the run under the cursor (its last completed epoch is kept), or unqueue it."""
        name = self.current_name()
        if name is None:
            return
        try:
            self.say(Runs(self.services.store().root).stop(name))
        except MnistTuiError as exc:
            self.say(str(exc), error=True)
        self.refresh_table(select=name)

    def action_move_run(self, delta: int) -> None:
        """Move the queued run under the cursor sooner (-1) or later (+1)."""
        name = self.current_name()
        if name is None:
            return
        try:
            place = Runs(self.services.store().root).move(name, delta)
        except MnistTuiError as exc:
            self.say(str(exc), error=True)
            return
        self.refresh_table(select=name)
        self.say(f"{name} is now #{place} in the queue.")

    def action_mark(self) -> None:
        """Mark (or unmark) the model under the cursor for Compare."""
        name = self.current_name()
        if name is None:
            return
        if name in self.marked:
            self.marked.remove(name)
        else:
            self.marked.append(name)
        self.refresh_table(select=name)
        self.say(f"Marked for Compare: {', '.join(self.marked) or 'none'} (c compares).")

    def action_compare(self) -> None:
        """Open Compare with the marked models (or pick them there)."""
        from mnist_tui.tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(list(self.marked)))

    def action_activate(self) -> None:
        """Make the model under the cursor the active one."""
        name = self.current_name()
        if name is None:
            return
        info = self.infos[name]
        if info.error:
            self.say(f"{name} cannot be used: {info.error}", error=True)
            return
        try:
            self.services.set_active_model(name)
        except MnistTuiError as exc:
            self.say(str(exc), error=True)
            return
        self.refresh_table(select=name)
        self.say(f"{name} is now the active model.")

    def action_rename(self) -> None:
        """Ask for a new name, then rename."""
        old = self.current_name()
        if old is None:
            return

        def done(new: str | None) -> None:
            if not new or new == old:
                return
            try:
                self.services.store().rename(old, new)
            except MnistTuiError as exc:
                self.say(str(exc), error=True)
                return
            self.services.forget_model(old)
            if self.services.model == old:
                self.services.model = new
            self.refresh_table(select=new)
            self.say(f"Renamed {old} to {new}.")

        self.app.push_screen(RenameModal(old), done)

    def action_delete(self) -> None:
        """Ask to confirm, then delete the model (and its resume state)."""
        name = self.current_name()
        if name is None:
            return

        def done(yes: bool | None) -> None:
            if not yes:
                self.say("Nothing deleted.")
                return
            try:
                self.services.store().delete(name)
            except MnistTuiError as exc:
                self.say(str(exc), error=True)
                return
            self.services.forget_model(name)
            if self.services.model == name:
                self.services.model = None
            self.refresh_table()
            self.say(f"Deleted {name}.")

        self.app.push_screen(ConfirmModal(f"Delete {name}? This cannot be undone. (y/n)"), done)

    def action_resume(self) -> None:
        """Continue a stopped run on the Train screen."""
        name = self.current_name()
        if name is None:
            return
        info = self.infos[name]
        if info.error or not info.resumable:
            why = "it is unusable" if info.error else "it is not a stopped run with saved state"
            self.say(f"{name} cannot be resumed: {why}.", error=True)
            return
        from mnist_tui.tui.screens.train import TrainScreen

        self.app.push_screen(TrainScreen(resume=name))
