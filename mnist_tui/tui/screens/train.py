"""Train: a form over the architecture's recipe, then live charts of a run that belongs to the
store.

Starting submits a detached run process (:mod:`mnist_tui.engine.jobs`): it survives this screen,
the UI quitting and the terminal closing, and waits in the queue when another run trains. The
screen follows the run's log in a thread worker (one typed message per event kind, see
:mod:`mnist_tui.tui.training`), so opening a running run from the Models screen, from any TUI,
rebuilds the charts and table from the log and goes on live. Charts are redrawn on a timer
(at most four times a second), never per event.

States: ``form`` (nothing submitted) → ``queued`` → ``running`` → ``ended``.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Header, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from mnist_tui.engine.archs import ARCH_INFO, DEFAULT_ARCH
from mnist_tui.engine.config import TrainConfig, recipe
from mnist_tui.engine.events import EpochEnd, RunFinished
from mnist_tui.engine.jobs import Runs
from mnist_tui.errors import MnistTuiError
from mnist_tui.tui.screens.base import AppScreen
from mnist_tui.tui.training import (
    LogRestarted,
    RunBatch,
    RunBegan,
    RunDone,
    RunDownload,
    RunEpoch,
    RunError,
    RunStatus,
    follow_run,
)
from mnist_tui.tui.widgets.run_charts import RunCharts, Series
from mnist_tui.tui.widgets.train_form import TrainForm, short_count  # noqa: F401 - re-exported

REDRAW_S = 0.25  # charts and bars are refreshed at most this often


def _figure(value: Any) -> float | None:
    """A measured figure; None for a missing or NaN one."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def duration(seconds: float) -> str:
    """A short human duration: '42s', '3m 05s', '1h 02m'; '?' when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def save_view(screen: Any, stem: str) -> str:
    """Save the screen as an SVG in the current folder; returns the sentence to show."""
    filename = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.svg"
    try:
        path = screen.app.save_screenshot(filename=filename, path=os.getcwd())
    except OSError as exc:
        return f"Could not save the charts: {exc.strerror or exc}."
    return f"Saved the view as {path}."


def _focus_words(focus: float) -> str:
    """Focus epochs learn from each batch's hardest share, and the train columns and the train
    loss line are over those images: say so, or they read as if training got worse."""
    if focus >= 1:
        return ""
    return f" · focus {focus:g} (train figures after epoch 1: the hardest {focus:.0%})"


class TrainScreen(AppScreen):
    """Pick a recipe and start a run, or follow one already going; stop it from here."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("s", "start", "Start"),
        Binding("x", "stop", "Stop run"),
        Binding("a", "make_active", "Make active"),
        Binding("p", "save_charts", "Save SVG"),
    ]

    # Under 30 rows (an 80x24 SSH pane) the form's rows close up, so every setting and the
    # Start button fit without scrolling.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    DEFAULT_CSS = """
    TrainScreen #train-body { height: 1fr; }
    TrainScreen.-short TrainForm { grid-gutter: 0 1; }
    TrainScreen #arch-help { color: $text-muted; padding: 0 1; }
    TrainScreen .error { color: $error; padding: 0 1; }
    TrainScreen .note { padding: 0 1; }
    TrainScreen #buttons { height: auto; padding: 0 1; }
    TrainScreen #buttons Button { margin-right: 2; }
    TrainScreen #run { height: auto; padding: 0 1; }
    TrainScreen #run-status { text-style: bold; }
    TrainScreen .bar-row { height: 1; }
    TrainScreen .bar-row Label { width: 7; }
    TrainScreen #epoch-table { height: auto; max-height: 10; }
    TrainScreen #result { text-style: bold; padding: 0 0; }
    TrainScreen #result.error { color: $error; }
    TrainScreen #result-buttons { height: auto; }
    TrainScreen #result-buttons Button { margin-right: 2; }
    TrainScreen .hidden { display: none; }
    """

    def __init__(
        self, resume: str | None = None, *, attach: str | None = None, threads: int = 0
    ) -> None:
        super().__init__()
        self.resume = resume
        self.threads = threads
        self.run_name: str | None = attach
        self.attached = attach is not None  # opened on a run started elsewhere: no form
        self.phase = "form"
        self.data = Series("run")
        self.rows: dict[int, dict[str, Any]] = {}
        self.outcome: RunFinished | None = None
        self.saved_name: str | None = None
        self.resume_config: TrainConfig | None = None
        self.dirty = False
        self._bars: tuple[int, int, int, int] | None = None
        self._speed = ""

    # ------------------------------------------------------------------ layout

    @property
    def form(self) -> TrainForm:
        """The settings form."""
        return self.query_one(TrainForm)

    @property
    def charts(self) -> RunCharts:
        """The loss and accuracy charts."""
        return self.query_one(RunCharts)

    @property
    def runs(self) -> Runs:
        """The runs of the app's store."""
        return Runs(self.app.services.store().root)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="train-body"):
            with Vertical(id="run", classes="hidden"):
                yield Static("", id="run-status")
                with Horizontal(classes="bar-row hidden", id="download-row"):
                    yield Label("Data")
                    yield ProgressBar(id="download-bar", show_eta=False)
                with Horizontal(classes="bar-row"):
                    yield Label("Epoch")
                    yield ProgressBar(id="epoch-bar", show_eta=False)
                with Horizontal(classes="bar-row"):
                    yield Label("Run")
                    yield ProgressBar(id="run-bar", show_eta=False)
                yield Static("", id="speed")
                yield Static("", id="result")
                with Horizontal(id="result-buttons"):
                    yield Button("Stop (x)", id="stop", variant="error", compact=True)
                    yield Button("Make active (a)", id="make-active", variant="success",
                                 compact=True, classes="hidden")  # fmt: skip
                yield RunCharts(id="charts")
                yield DataTable(id="epoch-table", cursor_type="row", zebra_stripes=True)
            # The session's data set picks the recipe (`mnist-tui --dataset fashion`: Fashion's).
            yield TrainForm(recipe(DEFAULT_ARCH, self.app.services.dataset), id="form")
            yield Static("", id="arch-help")
            yield Static("", id="form-error", classes="error")
            yield Static("", id="data-note", classes="note hidden")
            with Horizontal(id="buttons"):
                yield Button(
                    "Start (s, or Enter in a box)", id="start", variant="primary", compact=True
                )
                yield Button("Download", id="download", compact=True, classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#epoch-table", DataTable)
        table.add_columns("epoch", "train loss", "train acc", "val loss", "val acc", "time")
        self.set_interval(REDRAW_S, self._redraw)
        if self.run_name:
            self.query_one("#form").add_class("hidden")
            self.query_one("#buttons").add_class("hidden")
            self.attach_run(self.run_name)
            return
        if self.resume:
            self._load_resume()
        else:
            arch = self.form.value("arch")
            self._show_arch_help(arch if isinstance(arch, str) else DEFAULT_ARCH)
        self._check_data()
        self._draw_charts()
        self.query_one("#arch").focus()

    def on_resize(self) -> None:
        # Taller charts on a tall terminal; at 80x24 the body scrolls.
        self.charts.styles.height = max(12, min(30, self.size.height - 12))

    # ------------------------------------------------------------------ the form

    def _show_arch_help(self, arch: str) -> None:
        info = ARCH_INFO.get(arch)
        if info is not None:
            self.query_one("#arch-help", Static).update(
                f"{info.name}: {info.origin} · {info.params:,} parameters"
            )

    def _load_resume(self) -> None:
        from mnist_tui.engine.store import validate_name

        name = self.resume or ""
        try:
            validate_name(name)
            info = self.app.services.store().info(name)
            if not info.resumable:
                raise MnistTuiError(
                    f"{name!r} cannot be resumed: it finished or has no resume state."
                )
            cfg = TrainConfig.from_dict(info.config)
        except MnistTuiError as exc:
            self._form_error(str(exc))
            self.query_one("#start", Button).disabled = True
            return
        self.resume_config = cfg
        self.form.freeze(cfg, name)
        self.query_one("#start", Button).label = "Resume (s)"
        self.query_one("#arch-help", Static).update(
            f"Resume {name}: epoch {info.epochs_done} of {info.epochs} done; the recipe is kept."
        )
        self.data.epochs = info.epochs
        for row in info.history:
            self._add_epoch(row, info.epochs)
        self.dirty = True

    def _show_form_arch(self) -> None:
        """Describe the network the form will train: the recipe may name another than the one
        picked (Fashion's `fast` trains `fastfull`, its `best` trains `wide`), and the form has
        filled it in before the change reaches the screen."""
        arch = self.form.value("arch")
        if isinstance(arch, str) and self.resume is None:
            self._show_arch_help(arch)

    @on(Select.Changed, "#arch")
    def _arch_changed(self) -> None:
        self._show_form_arch()  # a resumed run's form is frozen: nothing changes there
        self._form_error("")

    @on(Select.Changed, "#dataset")
    def _dataset_changed(self) -> None:
        self._show_form_arch()
        self._check_data()

    def _dataset(self) -> str:
        value = self.form.value("dataset")
        return value if isinstance(value, str) else "mnist"

    def _check_data(self) -> bool:
        """Show where the files go (and a Download button) when the data set is missing."""
        from mnist_tui.engine.data import dataset_spec, missing_data_message

        services = self.app.services
        dataset = self._dataset()
        present = services.data_available(dataset)
        note = self.query_one("#data-note", Static)
        if present:
            note.update("")
        else:
            spec = dataset_spec(dataset)
            note.update(
                missing_data_message(services.resolved_data_dir, spec)
                + " Or press Download to fetch it now."
            )
        note.set_class(present, "hidden")
        self.query_one("#download", Button).set_class(present, "hidden")
        return present

    def _form_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(text)

    def read_config(self) -> tuple[TrainConfig, str | None] | None:
        """The form as a validated config and name, or None with the error shown."""
        from mnist_tui.engine.store import validate_name

        services = self.app.services
        if self.resume_config is not None:
            cfg: TrainConfig | str = self.resume_config.with_(
                device=services.device, threads=self.threads
            )
        else:
            cfg = self.form.read(
                device=services.device, threads=self.threads, val_size=services.val_size
            )
        if isinstance(cfg, str):
            self._form_error(cfg)
            return None
        name = self.form.name_text
        try:
            if name and self.resume is None:
                validate_name(name)
                if services.store().path_for(name).exists() or self.runs.is_active(name):
                    raise MnistTuiError(
                        f"A model named {name!r} already exists; choose another name."
                    )
        except MnistTuiError as exc:
            self._form_error(str(exc))
            return None
        self._form_error("")
        return cfg, name

    # ------------------------------------------------------------------ running

    @property
    def training(self) -> bool:
        """Whether the followed run is queued or training."""
        return self.phase in ("queued", "running")

    def action_start(self, download: bool = False) -> None:
        """Validate the form and submit the run (started at once, or queued)."""
        from mnist_tui.engine.jobs import submit_run

        if self.attached or self.training or self.run_name and self.phase != "ended":
            self.notify("This screen already follows a run.", severity="warning")
            return
        if self.query_one("#start", Button).disabled:
            return
        parsed = self.read_config()
        if parsed is None:
            return
        cfg, name = parsed
        if not download and not self._check_data():
            self._form_error("The data set is missing: press Download to fetch it first.")
            return
        services = self.app.services
        try:
            state = submit_run(
                services.store(), cfg, name=name, resume=self.resume,
                data_dir=services.data_dir, download=download,
            )  # fmt: skip
        except (MnistTuiError, OSError) as exc:
            self._form_error(str(exc) if isinstance(exc, MnistTuiError)
                             else f"Could not start training: {exc.strerror or exc}.")  # fmt: skip
            return
        self.query_one("#form").add_class("hidden")
        self.query_one("#buttons").add_class("hidden")
        self.query_one("#data-note").add_class("hidden")
        if self.resume is None:
            self.data = Series(state.name, epochs=cfg.epochs)
            self.rows.clear()
            self.query_one("#epoch-table", DataTable).clear()
        self.attach_run(state.name, keep=self.resume is not None)

    def attach_run(self, name: str, keep: bool = False) -> None:
        """Follow run ``name`` from the first line of its log, then live."""
        state = self.runs.get(name)
        self.run_name = name
        self.outcome = None
        self.saved_name = None
        if not keep:
            self.data = Series(name)
            self.rows.clear()
            self.query_one("#epoch-table", DataTable).clear()
        cfg = state.config if state is not None else {}
        self.data.epochs = int(cfg.get("epochs", 0) or self.data.epochs)
        # the charts say whether a validation figure is coming before the first one arrives
        self.data.validates = int(cfg.get("val_size", 1) or 0) > 0
        self.phase = "queued" if state is not None and state.status == "queued" else "running"
        self.query_one("#run").remove_class("hidden")
        self.query_one("#stop").remove_class("hidden")
        self.query_one("#make-active").add_class("hidden")
        result = self.query_one("#result", Static)
        result.update("")
        result.remove_class("error")
        for bar_id in ("#epoch-bar", "#run-bar"):
            self.query_one(bar_id, ProgressBar).update(total=None, progress=0)
        if cfg:
            self.query_one("#arch-help", Static).update(
                f"{name}: {cfg.get('arch')} on {cfg.get('dataset')} · {cfg.get('epochs')} epochs ·"
                f" batch {cfg.get('batch_size')} · {cfg.get('optimizer')} lr {cfg.get('lr', 0):g}"
                f" · {cfg.get('scheduler')}{' · augment' if cfg.get('augment') else ''}"
                + _focus_words(cfg.get("focus", 1.0))
            )
        status = "Starting the run process..."
        if state is not None and state.status == "queued":
            status = f"Queued #{state.position}: starts when the run before it ends."
        elif state is not None and not state.active:
            status = f"Run {name}: {state.status}."
        self.query_one("#run-status", Static).update(status)
        self.query_one("#speed", Static).update("")
        self.query_one("#stop").focus()
        self.app.refresh_bindings()
        self.dirty = True
        self._follow(name)

    @work(thread=True, exclusive=True, group="train-events", exit_on_error=False)
    def _follow(self, name: str) -> None:
        worker = get_current_worker()
        follow_run(Runs(self.app.services.store().root), name, self.post_message,
                   lambda: worker.is_cancelled)  # fmt: skip

    def _mine(self, message: Any) -> bool:
        return message.run == self.run_name

    def on_run_began(self, message: RunBegan) -> None:
        if not self._mine(message):
            return
        event = message.event
        self.phase = "running"
        self.data.epochs = int(event.config.get("epochs", self.data.epochs))
        self.data.validates = int(event.config.get("val_size", 1) or 0) > 0
        # A resumed run goes on after its kept epochs: drop what came after them.
        kept = event.epochs_done
        if any(e > kept for e in self.rows) or (self.data.train_x and
                                                 self.data.train_x[-1] > kept):  # fmt: skip
            self._truncate(kept)
        self.query_one("#run-status", Static).update(f"Run {event.name} started.")
        self.app.refresh_bindings()

    def _truncate(self, epochs: int) -> None:
        d = self.data
        pairs = [(x, y) for x, y in zip(d.train_x, d.train_loss, strict=False) if x <= epochs]
        d.train_x, d.train_loss = [p[0] for p in pairs], [p[1] for p in pairs]
        rows = [self.rows[e] for e in sorted(self.rows) if e <= epochs]
        self.rows.clear()
        d.epoch_x, d.val_loss, d.val_acc = [], [], []
        self.query_one("#epoch-table", DataTable).clear()
        for row in rows:
            self._add_epoch(row, d.epochs)

    def on_run_status(self, message: RunStatus) -> None:
        if self._mine(message):
            self.query_one("#run-status", Static).update(message.event.message)

    def on_run_download(self, message: RunDownload) -> None:
        if not self._mine(message):
            return
        event = message.event
        self.query_one("#download-row").remove_class("hidden")
        self.query_one("#download-bar", ProgressBar).update(
            total=event.total or None, progress=event.done
        )
        size = f" of {event.total / 1e6:.1f} MB" if event.total else ""
        self.query_one("#run-status", Static).update(
            f"Downloading {event.file}: {event.done / 1e6:.1f} MB{size}"
        )

    def on_run_batch(self, message: RunBatch) -> None:
        if not self._mine(message):
            return
        e = message.event
        for x, loss in message.points:
            self.data.train_x.append(x)
            self.data.train_loss.append(loss)
        self.data.epochs = e.epochs
        self._bars = (e.epoch, e.epochs, e.batch, e.batches)
        state = self.runs.get(self.run_name or "")
        stopping = state is not None and state.stopping
        self._speed = (
            f"Epoch {e.epoch}/{e.epochs} · batch {e.batch}/{e.batches} · loss {e.loss:.4f} · "
            f"{e.images_per_s:,.0f} img/s · ETA {duration(e.eta_s)}"
            + (" · stopping..." if stopping else "")
        )
        self.dirty = True

    def on_run_epoch(self, message: RunEpoch) -> None:
        if not self._mine(message):
            return
        e: EpochEnd = message.event
        self._add_epoch({k: getattr(e, k) for k in ("epoch", "train_loss", "train_acc",
                         "val_loss", "val_acc", "lr", "elapsed_s")}, e.epochs)  # fmt: skip
        self.dirty = True

    def _add_epoch(self, row: dict[str, Any], epochs: int) -> None:
        epoch = int(row["epoch"])
        if epoch in self.rows:
            return  # already shown (a resumed run's kept epochs are in its log too)
        self.data.epochs = epochs
        before = self.rows.get(epoch - 1)
        elapsed = float(row.get("elapsed_s", 0.0))
        last = float(before.get("elapsed_s", 0.0)) if before else 0.0
        took = elapsed - last if elapsed >= last else elapsed
        self.rows[epoch] = dict(row)
        val_loss, val_acc = _figure(row.get("val_loss")), _figure(row.get("val_acc"))
        if val_acc is not None and val_loss is not None:  # none when there is no validation split
            self.data.epoch_x.append(float(epoch))
            self.data.val_loss.append(val_loss)
            self.data.val_acc.append(val_acc * 100)
        self.query_one("#epoch-table", DataTable).add_row(
            f"{epoch}/{epochs}", f"{row['train_loss']:.4f}", f"{row['train_acc']:.2%}",
            "-" if val_loss is None else f"{val_loss:.4f}",
            "-" if val_acc is None else f"{val_acc:.2%}", duration(took),
        )  # fmt: skip

    def on_log_restarted(self, message: LogRestarted) -> None:
        if self._mine(message):  # the log was compacted; it is being read again from the start
            self.data = Series(
                self.data.name, epochs=self.data.epochs, validates=self.data.validates
            )
            self.rows.clear()
            self.query_one("#epoch-table", DataTable).clear()

    def on_run_done(self, message: RunDone) -> None:
        if not self._mine(message):
            return
        event = message.event
        self.outcome = event
        name = event.name
        if event.cancelled:
            if name:
                text = (
                    f"Stopped: kept {name} at epoch {event.epochs_done} of {event.epochs}"
                    " (resumable: Models, key t)."
                )
            else:
                text = event.message or "Stopped; nothing was saved."
        else:
            acc = event.test_acc
            text = f"Saved {name}: {acc:.2%} test accuracy." if acc is not None else event.message
        if name and not event.cancelled:
            self.saved_name = name
            self.query_one("#make-active").remove_class("hidden")
        self.query_one("#result", Static).update(text)
        self.query_one("#run-status", Static).update("Stopped." if event.cancelled else "Finished.")
        self._run_ended(None)

    def on_run_error(self, message: RunError) -> None:
        if self._mine(message):
            self._run_ended(message.event.message)

    def _run_ended(self, error: str | None) -> None:
        self.phase = "ended"
        if error:
            result = self.query_one("#result", Static)
            result.update(error)
            result.add_class("error")
            self.query_one("#run-status", Static).update("Training did not finish.")
        self.query_one("#stop").add_class("hidden")
        self.query_one("#download-row").add_class("hidden")
        self._speed = self._speed.replace(" · stopping...", "")
        for bar in self.query(ProgressBar).results(ProgressBar):
            if bar.total is None:  # never started: stop the indeterminate animation
                bar.update(total=1, progress=0)
        cancelled = self.outcome is None or self.outcome.cancelled
        if self.resume is None and cancelled and not self.attached and self.query("#form.hidden"):
            self.query_one("#form").remove_class("hidden")
            self.query_one("#buttons").remove_class("hidden")
        if self.resume is not None and self.outcome is not None:
            self.query_one("#start", Button).disabled = True
        self._check_data()
        self.dirty = True
        self._redraw()
        if self.saved_name:
            self.query_one("#make-active").focus()
        else:
            self.query_one("#start").focus()
        self.app.refresh_bindings()

    # ------------------------------------------------------------------ drawing

    def _redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        if self._bars is not None:
            epoch, epochs, batch, batches = self._bars
            self.query_one("#epoch-bar", ProgressBar).update(total=batches, progress=batch)
            self.query_one("#run-bar", ProgressBar).update(
                total=epochs * batches, progress=(epoch - 1) * batches + batch
            )
        if self._speed:
            self.query_one("#speed", Static).update(self._speed)
        self._draw_charts()

    def _draw_charts(self) -> None:
        self.charts.draw([self.data], ascii_art=bool(getattr(self.app, "ascii_art", False)))

    # ------------------------------------------------------------------ actions

    def action_stop(self) -> None:
        """Ask the run to stop after this batch (it keeps the last completed epoch), or take
        it out of the queue."""
        if not self.run_name or not self.training:
            return
        try:
            text = self.runs.stop(self.run_name)
        except MnistTuiError as exc:
            text = str(exc)
        self.query_one("#run-status", Static).update(text)

    def action_back(self) -> None:
        """Escape: back to the menu; a run goes on in the background."""
        if self.training and self.run_name:
            self.notify(f"{self.run_name} goes on in the background; the menu and Models show it.",
                        timeout=4)  # fmt: skip
        self.app.pop_screen()

    def action_make_active(self) -> None:
        """Make the model just saved the active one."""
        if not self.saved_name:
            return
        try:
            self.app.services.set_active_model(self.saved_name)
        except MnistTuiError as exc:
            self.query_one("#result", Static).update(str(exc))
            return
        self.query_one("#result", Static).update(f"{self.saved_name} is now the active model.")
        self.query_one("#make-active").add_class("hidden")
        self.saved_name = None
        self.app.refresh_bindings()

    def action_save_charts(self) -> None:
        """Save the screen, charts included, as an SVG in the current folder."""
        self.notify(save_view(self, f"train-{self.run_name or 'form'}"), timeout=6)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "make_active":
            return bool(self.saved_name)
        if action == "stop":
            return self.training
        if action == "start":
            return (
                not self.training
                and not self.attached
                and not self.query_one("#start", Button).disabled
            )
        return True

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#download")
    def _download_pressed(self) -> None:
        self.action_start(download=True)

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self.action_stop()

    @on(Button.Pressed, "#make-active")
    def _make_active_pressed(self) -> None:
        self.action_make_active()

    def on_input_submitted(self) -> None:
        self.action_start()
