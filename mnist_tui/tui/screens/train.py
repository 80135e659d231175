"""Train: a form over the architecture's recipe, then live loss/accuracy charts of a child run.

Training runs in a child process (:mod:`mnist_tui.tui.training`) so this screen answers keys
while torch uses every core; a thread worker reads the child's JSON events and posts them here.
Charts are redrawn on a timer (at most four times a second), never per event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.validation import Integer, Number
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from mnist_tui.engine.archs import ARCH_INFO
from mnist_tui.engine.config import DATASET_KEYS, OPTIMIZERS, SCHEDULERS, TrainConfig, recipe
from mnist_tui.errors import MnistTuiError
from mnist_tui.tui.screens.base import AppScreen
from mnist_tui.tui.training import TrainingProcess

REDRAW_S = 0.25  # charts and bars are refreshed at most this often
DATASET_TITLES = {"mnist": "MNIST digits", "fashion": "Fashion-MNIST"}


def short_count(n: int) -> str:
    """24314 → '24k', 1199882 → '1.2M' (fits a compact Select)."""
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    return f"{round(n / 1000)}k" if n >= 1000 else str(n)


def _figure(value: Any) -> float | None:
    """A measured figure from an event row; None for a missing or NaN one."""
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


class TrainEvent(Message):
    """One event from the training child (a dict as the CLI printed it)."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__()
        self.event = event


@dataclass
class RunData:
    """What the charts and table show, kept as plain lists; the timer draws them."""

    train_x: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_x: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)


class TrainScreen(AppScreen):
    """Pick a recipe, train in a child process, watch the loss, keep or stop the result."""

    BINDINGS = [
        Binding("escape", "back", "Back / Stop"),
        Binding("s", "start", "Start"),
        Binding("x", "stop", "Stop"),
        Binding("a", "make_active", "Make active"),
    ]

    DEFAULT_CSS = """
    TrainScreen #train-body { height: 1fr; }
    TrainScreen #form {
        grid-size: 4;
        grid-columns: 12 1fr 12 1fr;
        grid-rows: 1;
        grid-gutter: 1 1;
        height: auto;
        padding: 1 1 0 1;
        max-width: 120;
    }
    TrainScreen #form Label { padding: 0 0; color: $text-muted; }
    TrainScreen #arch-help { color: $text-muted; padding: 0 1; }
    TrainScreen .error { color: $error; padding: 0 1; }
    TrainScreen .note { padding: 0 1; }
    TrainScreen #buttons { height: auto; padding: 0 1; }
    TrainScreen #buttons Button { margin-right: 2; }
    TrainScreen #run { height: auto; padding: 0 1; }
    TrainScreen #run-status { text-style: bold; }
    TrainScreen .bar-row { height: 1; }
    TrainScreen .bar-row Label { width: 7; }
    TrainScreen #charts { height: 14; }
    TrainScreen #loss-chart { width: 1fr; }
    TrainScreen #acc-chart { width: 1fr; }
    TrainScreen #epoch-table { height: auto; max-height: 10; }
    TrainScreen #result { text-style: bold; padding: 0 0; }
    TrainScreen #result.error { color: $error; }
    TrainScreen #result-buttons { height: auto; }
    TrainScreen #result-buttons Button { margin-right: 2; }
    TrainScreen .hidden { display: none; }
    """

    def __init__(self, resume: str | None = None, *, threads: int = 0) -> None:
        super().__init__()
        self.resume = resume
        self.threads = threads
        self.process: TrainingProcess | None = None
        self.data = RunData()
        self.dirty = False
        self.outcome: dict[str, Any] | None = None
        self.saved_name: str | None = None
        self.last_epoch_elapsed = 0.0
        self.batches = 1
        self.total_epochs = 0
        self.has_val = True  # False for a run with no validation split
        self.resume_config: TrainConfig | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        base = recipe("fast")
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
                with Horizontal(id="charts"):
                    yield PlotextPlot(id="loss-chart")
                    yield PlotextPlot(id="acc-chart")
                yield DataTable(id="epoch-table", cursor_type="row", zebra_stripes=True)
            with Grid(id="form"):
                yield Label("Data set")
                yield Select(
                    [(DATASET_TITLES.get(k, k), k) for k in DATASET_KEYS],
                    value=base.dataset, allow_blank=False, compact=True, id="dataset",
                )  # fmt: skip
                yield Label("Network")
                yield Select(
                    [(f"{a.name} · {short_count(a.params)} params", a.name)
                     for a in ARCH_INFO.values()],
                    value=base.arch, allow_blank=False, compact=True, id="arch",
                )  # fmt: skip
                yield Label("Epochs")
                yield Input(
                    str(base.epochs), type="integer", compact=True, id="epochs",
                    validators=[Integer(1, 1000, "Epochs must be a whole number from 1 to 1000.")],
                )  # fmt: skip
                yield Label("Batch size")
                yield Input(
                    str(base.batch_size), type="integer", compact=True, id="batch_size",
                    validators=[Integer(1, 512, "Batch size must be from 1 to 512.")],
                )  # fmt: skip
                yield Label("Optimiser")
                yield Select([(o, o) for o in OPTIMIZERS], value=base.optimizer,
                             allow_blank=False, compact=True, id="optimizer")  # fmt: skip
                yield Label("Learn rate")
                yield Input(
                    repr(base.lr), type="number", compact=True, id="lr",
                    validators=[Number(1e-9, 10, "Learning rate must be above 0 and at most 10.")],
                )  # fmt: skip
                yield Label("Scheduler")
                yield Select([(s, s) for s in SCHEDULERS], value=base.scheduler,
                             allow_blank=False, compact=True, id="scheduler")  # fmt: skip
                yield Label("Seed")
                yield Input(
                    str(base.seed), type="integer", compact=True, id="seed",
                    validators=[Integer(0, 2**63 - 1, "Seed must be a whole number, 0 or more.")],
                )  # fmt: skip
                yield Label("Augment")
                yield Checkbox("random shifts", base.augment, compact=True, id="augment")
                yield Label("Name")
                yield Input(placeholder="automatic", compact=True, id="name")
            yield Static("", id="arch-help")
            yield Static("", id="form-error", classes="error")
            yield Static("", id="data-note", classes="note hidden")
            with Horizontal(id="buttons"):
                yield Button("Start (s)", id="start", variant="primary", compact=True)
                yield Button("Download", id="download", compact=True, classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#epoch-table", DataTable)
        table.add_columns("epoch", "train loss", "train acc", "val loss", "val acc", "time")
        self.set_interval(REDRAW_S, self._redraw)
        self.app.shutdown_hooks.append(self._shutdown)
        if self.resume:
            self._load_resume()
        else:
            self._fill_from_recipe(recipe("fast"))
        self._check_data()
        self._draw_charts()
        self.query_one("#arch").focus()

    def on_resize(self) -> None:
        # Taller charts on a tall terminal; at 80x24 the body scrolls.
        self.query_one("#charts").styles.height = max(12, min(30, self.size.height - 12))

    def on_unmount(self) -> None:
        hooks = getattr(self.app, "shutdown_hooks", [])
        if self._shutdown in hooks:
            hooks.remove(self._shutdown)
        if self.process is not None and self.process.running and not self.app.crashed:
            # Leaving by another route (palette, main menu): never leave the child behind.
            # (After a UI crash the child trains on: it saves each epoch, nobody reads it.)
            import threading

            threading.Thread(target=self.process.shutdown, args=(1.0,), daemon=True).start()

    def _shutdown(self) -> None:
        if self.process is not None:
            self.process.shutdown(1.0)

    # ------------------------------------------------------------------ the form

    def _fill_from_recipe(self, cfg: TrainConfig) -> None:
        self.query_one("#epochs", Input).value = str(cfg.epochs)
        self.query_one("#batch_size", Input).value = str(cfg.batch_size)
        self.query_one("#lr", Input).value = f"{cfg.lr:g}"
        self.query_one("#seed", Input).value = str(cfg.seed)
        with self.prevent(Select.Changed):
            self.query_one("#optimizer", Select).value = cfg.optimizer
            self.query_one("#scheduler", Select).value = cfg.scheduler
        self.query_one("#augment", Checkbox).value = cfg.augment
        self._show_arch_help(cfg.arch)

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
        with self.prevent(Select.Changed):
            self.query_one("#arch", Select).value = cfg.arch
            self.query_one("#dataset", Select).value = cfg.dataset
        self._fill_from_recipe(cfg)
        name_input = self.query_one("#name", Input)
        name_input.value = name
        for widget in self.query("#form Input, #form Select, #form Checkbox"):
            widget.disabled = True
        self.query_one("#start", Button).label = "Resume (s)"
        self.query_one("#arch-help", Static).update(
            f"Resume {name}: epoch {info.epochs_done} of {info.epochs} done; the recipe is kept."
        )
        for row in info.history:
            self._add_epoch(row, info.epochs)
        self.dirty = True

    @on(Select.Changed, "#arch")
    def _arch_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and self.resume is None:
            self._fill_from_recipe(recipe(event.value))
            self._form_error("")

    @on(Select.Changed, "#dataset")
    def _dataset_changed(self) -> None:
        self._check_data()

    def _dataset(self) -> str:
        value = self.query_one("#dataset", Select).value
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
        labels = {"epochs": "Epochs", "batch_size": "Batch size", "lr": "Learning rate",
                  "seed": "Seed"}  # fmt: skip
        values: dict[str, Any] = {}
        for key, label in labels.items():
            widget = self.query_one(f"#{key}", Input)
            result = widget.validate(widget.value)
            if result is not None and not result.is_valid:
                widget.focus()
                self._form_error(result.failure_descriptions[0] if result.failure_descriptions
                                 else f"{label} is not valid.")  # fmt: skip
                return None
            text = widget.value.strip()
            try:
                values[key] = float(text) if key == "lr" else int(text)
            except ValueError:
                widget.focus()
                self._form_error(f"{label} must be a number, not {text!r}.")
                return None
        arch = self.query_one("#arch", Select).value
        cfg = (self.resume_config or recipe(str(arch))).with_(
            dataset=self._dataset(),
            optimizer=str(self.query_one("#optimizer", Select).value),
            scheduler=str(self.query_one("#scheduler", Select).value),
            augment=self.query_one("#augment", Checkbox).value,
            device=services.device, threads=self.threads, val_size=services.val_size,
            **values,
        )  # fmt: skip
        name = self.query_one("#name", Input).value.strip() or None
        try:
            cfg.validate()
            if name and self.resume is None:
                validate_name(name)
                if services.store().path_for(name).exists():
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
        """Whether a child run is in progress."""
        return self.process is not None and self.process.running

    def action_start(self, download: bool = False) -> None:
        """Validate the form and start the child run."""
        if self.training:
            self.notify("A run is already in progress.", severity="warning")
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
        self._begin_run(cfg)
        self.process = TrainingProcess()
        try:
            self.process.start(
                cfg, name, self.app.services, resume=self.resume,
                download=download,
            )  # fmt: skip
        except OSError as exc:
            self._run_ended(f"Could not start training: {exc.strerror or exc}.")
            return
        self._read_events(self.process)

    def _begin_run(self, cfg: TrainConfig) -> None:
        self.total_epochs = cfg.epochs
        self.has_val = cfg.val_size > 0
        if self.resume is None:
            self.data = RunData()
            self.query_one("#epoch-table", DataTable).clear()
            self.last_epoch_elapsed = 0.0
        self.outcome = None
        self.saved_name = None
        self.query_one("#form").add_class("hidden")
        self.query_one("#buttons").add_class("hidden")
        self.query_one("#data-note").add_class("hidden")
        self.query_one("#run").remove_class("hidden")
        self.query_one("#stop").remove_class("hidden")
        self.query_one("#make-active").add_class("hidden")
        result = self.query_one("#result", Static)
        result.update("")
        result.remove_class("error")
        for bar_id in ("#epoch-bar", "#run-bar"):
            self.query_one(bar_id, ProgressBar).update(total=None, progress=0)
        self.query_one("#arch-help", Static).update(
            f"{cfg.arch} on {cfg.dataset} · {cfg.epochs} epochs · batch {cfg.batch_size} ·"
            f" {cfg.optimizer} lr {cfg.lr:g} · {cfg.scheduler}{' · augment' if cfg.augment else ''}"
        )
        self.query_one("#run-status", Static).update("Starting the training process...")
        self.query_one("#speed", Static).update("")
        self.query_one("#stop").focus()
        self.app.refresh_bindings()
        self.dirty = True

    @work(thread=True, exclusive=True, group="train-events", exit_on_error=False)
    def _read_events(self, process: TrainingProcess) -> None:
        worker = get_current_worker()
        for event in process.events():
            if worker.is_cancelled:
                continue  # keep draining so the child never blocks on a full pipe
            self.post_message(TrainEvent(event))

    def on_train_event(self, message: TrainEvent) -> None:
        event = message.event
        kind = event.get("kind")
        try:
            handler = getattr(self, f"_on_{kind}", None)
            if handler is not None:
                handler(event)
        except (KeyError, TypeError, ValueError):
            pass  # a malformed line from the child must not break the screen

    def _on_status(self, event: dict[str, Any]) -> None:
        self.query_one("#run-status", Static).update(str(event["message"]))

    def _on_download(self, event: dict[str, Any]) -> None:
        self.query_one("#download-row").remove_class("hidden")
        done, total = int(event["done"]), int(event["total"] or 0)
        self.query_one("#download-bar", ProgressBar).update(total=total or None, progress=done)
        size = f" of {total / 1e6:.1f} MB" if total else ""
        self.query_one("#run-status", Static).update(
            f"Downloading {event['file']}: {done / 1e6:.1f} MB{size}"
        )

    def _on_batch(self, event: dict[str, Any]) -> None:
        epoch, epochs = int(event["epoch"]), int(event["epochs"])
        batch, batches = int(event["batch"]), int(event["batches"])
        self.batches = batches
        self.total_epochs = epochs
        self.data.train_x.append(epoch - 1 + batch / batches)
        self.data.train_loss.append(float(event["loss"]))
        self._bars = (epoch, epochs, batch, batches)
        stopping = self.process is not None and self.process.stopping
        self._speed = (
            f"Epoch {epoch}/{epochs} · batch {batch}/{batches} · loss {event['loss']:.4f} · "
            f"{event['images_per_s']:,.0f} img/s · ETA {duration(float(event['eta_s']))}"
            + (" · stopping..." if stopping else "")
        )
        self.dirty = True

    def _on_epoch(self, event: dict[str, Any]) -> None:
        self._add_epoch(event, int(event["epochs"]))
        self.dirty = True

    def _add_epoch(self, row: dict[str, Any], epochs: int) -> None:
        epoch = int(row["epoch"])
        self.total_epochs = epochs
        elapsed = float(row.get("elapsed_s", 0.0))
        took = elapsed - self.last_epoch_elapsed if elapsed >= self.last_epoch_elapsed else elapsed
        self.last_epoch_elapsed = elapsed
        val_loss, val_acc = _figure(row.get("val_loss")), _figure(row.get("val_acc"))
        if val_acc is not None and val_loss is not None:  # none when there is no validation split
            self.data.val_x.append(float(epoch))
            self.data.val_loss.append(val_loss)
            self.data.val_acc.append(val_acc * 100)
        self.data.epochs.append(dict(row))
        self.query_one("#epoch-table", DataTable).add_row(
            f"{epoch}/{epochs}", f"{row['train_loss']:.4f}", f"{row['train_acc']:.2%}",
            "-" if val_loss is None else f"{val_loss:.4f}",
            "-" if val_acc is None else f"{val_acc:.2%}", duration(took),
        )  # fmt: skip

    def _on_done(self, event: dict[str, Any]) -> None:
        self.outcome = event
        name = event.get("name")
        result = self.query_one("#result", Static)
        if event.get("cancelled"):
            if name:
                text = (
                    f"Stopped: kept {name} at epoch {event['epochs_done']} of {event['epochs']}"
                    " (resumable: Models, key t)."
                )
            else:
                text = str(event.get("message") or "Stopped; nothing was saved.")
        else:
            acc = event.get("test_acc")
            text = (
                f"Saved {name}: {acc:.2%} test accuracy." if acc is not None else event["message"]
            )
        if name and not event.get("cancelled"):
            self.saved_name = str(name)
            self.query_one("#make-active").remove_class("hidden")
        result.update(text)
        self.query_one("#run-status", Static).update("Finished." if not event.get("cancelled")
                                                     else "Stopped.")  # fmt: skip
        self.app.refresh_bindings()

    def _on_exit(self, event: dict[str, Any]) -> None:
        error = event.get("error")
        if self.outcome is None:
            self._run_ended(error or "Training ended without a result.")
        elif error and event.get("returncode") not in (0, 130):
            self._run_ended(error)
        else:
            self._run_ended(None)

    def _run_ended(self, error: str | None) -> None:
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
        if self.resume is None or self.outcome is None or self.outcome.get("cancelled"):
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

    _bars: tuple[int, int, int, int] | None = None
    _speed: str = ""

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
        ascii_art = bool(getattr(self.app, "ascii_art", False))
        d = self.data
        loss = self.query_one("#loss-chart", PlotextPlot)
        plt = loss.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Loss")
        if d.train_x:
            plt.plot(d.train_x, d.train_loss, label="train", marker="." if ascii_art else "braille")
        if d.val_x:
            plt.plot(d.val_x, d.val_loss, label="val", marker="o" if ascii_art else "dot")
        if self.total_epochs:
            plt.xlim(0, self.total_epochs)
        plt.xlabel("epoch")
        loss.refresh()
        acc = self.query_one("#acc-chart", PlotextPlot)
        plt = acc.plt
        plt.clear_data()
        plt.clear_figure()
        title = "Validation accuracy %" if self.has_val else "No validation split: all images train"
        plt.title(title)
        if d.val_x:
            plt.plot(d.val_x, d.val_acc, marker="o" if ascii_art else "dot")
            plt.ylim(max(0.0, min(d.val_acc) - 2.0), 100.0)
        if self.total_epochs:
            plt.xlim(1, max(2, self.total_epochs))
        plt.xlabel("epoch")
        acc.refresh()

    # ------------------------------------------------------------------ actions

    def action_stop(self) -> None:
        """Ask the child to stop after this batch, keeping the last completed epoch."""
        if self.process is not None and self.process.stop():
            self.query_one("#run-status", Static).update(
                "Stopping after this batch; the last completed epoch is kept..."
            )

    def action_back(self) -> None:
        """Escape: stop a run first; otherwise back to the menu."""
        if self.training:
            if self.process is not None and self.process.stopping:
                self.notify("Still stopping; one moment.", timeout=2)
            self.action_stop()
            return
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "make_active":
            return bool(self.saved_name)
        if action == "stop":
            return self.training
        if action == "start":
            return not self.training and not self.query_one("#start", Button).disabled
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

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()
