"""Evaluate a model on its data set's test split: accuracy, loss, per-class accuracy, a confusion
heatmap and a gallery of the most confident mistakes. Runs in a worker; Escape cancels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, ProgressBar, Static
from textual.worker import get_current_worker

from mnist_tui.render import bar_cells, heatmap, tile_grid
from mnist_tui.tui.messages import WorkFailed
from mnist_tui.tui.screens.base import EngineScreen
from mnist_tui.tui.widgets.art import ArtView, digit_tile


@dataclass
class EvalStatus(Message):
    """A stage of the run, in words ("Loading data…")."""

    text: str


@dataclass
class EvalProgress(Message):
    """Images evaluated so far; a newer one replaces an undelivered older one."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EvalProgress)


@dataclass
class EvalDone(Message):
    """The evaluation finished."""

    result: Any  # mnist_tui.engine.evaluate.Evaluation (its module imports torch)
    name: str
    classes: tuple[str, ...]
    calibration: Any = None  # mnist_tui.engine.calibrate.Calibration


class EvaluateScreen(EngineScreen):
    """Test-set accuracy, confusion and mistakes of the active (or picked) model."""

    ERROR_ID = "eval-error"

    DEFAULT_CSS = """
    EvaluateScreen #eval-status { height: 1; padding: 0 1; }
    EvaluateScreen #eval-progress { padding: 0 1; height: 1; }
    EvaluateScreen #eval-error { color: $error; padding: 0 1; height: auto; }
    EvaluateScreen #eval-scroll { height: 1fr; padding: 0 1; }
    EvaluateScreen #eval-summary { text-style: bold; height: auto; }
    """

    BINDINGS = [
        Binding("escape", "cancel_or_back", "Cancel/Back"),
        Binding("r", "rerun", "Run again"),
        Binding("m", "pick_model", "Model"),
        Binding("t", "toggle_ascii", "ASCII/colour"),
    ]

    def __init__(self, model_name: str | None = None) -> None:
        super().__init__()
        self.model_name = model_name
        self.ascii = False
        self.result: Any = None
        self.calibration: Any = None
        self.class_names: tuple[str, ...] = tuple(str(d) for d in range(10))
        self.running = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Starting…", id="eval-status")
        yield ProgressBar(id="eval-progress", show_eta=False)
        yield Static("", id="eval-error", classes="error")
        with VerticalScroll(id="eval-scroll"):
            yield Static("", id="eval-summary")
            yield ArtView(id="eval-tables")
            yield ArtView(id="eval-calibration")
            yield ArtView(id="eval-gallery")
        yield Footer()

    def on_mount(self) -> None:
        self.ascii = bool(getattr(self.app, "ascii_art", False))
        self.query_one("#eval-scroll").focus()
        self.show_error("")
        self.start()

    def start(self) -> None:
        """Clear the old figures and run the evaluation."""
        self.result = None
        self.running = True
        self.show_error("")
        self.query_one("#eval-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#eval-progress").display = True
        self.redraw()
        self.run_evaluation()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_evaluation(self) -> None:
        """Load model and data, then evaluate on the test split (blocking: a thread worker)."""
        from mnist_tui.errors import Cancelled, MnistTuiError

        worker = get_current_worker()
        services = self.app.services
        try:
            name = self.model_name or services.active_model_name()
            self.post_message(EvalStatus(f"Loading {name}…"))
            loaded = services.load_model(name)
            dataset = loaded.info.dataset
            if not services.data_available(dataset):
                from mnist_tui.engine.data import dataset_spec, missing_data_message

                root = services.resolved_data_dir
                self.post_message(WorkFailed(missing_data_message(root, dataset_spec(dataset))))
                return
            self.post_message(EvalStatus("Loading data…"))
            data = services.load_data(dataset)
            if worker.is_cancelled:
                return
            from mnist_tui.engine.evaluate import evaluate

            total = len(data.test)
            self.post_message(EvalStatus(f"Evaluating {name} on {total:,} test images…"))
            result = evaluate(
                loaded.classifier, data.test, loaded.info.mean, loaded.info.std,
                should_stop=lambda: worker.is_cancelled,
                on_progress=lambda done, total: self.post_message(EvalProgress(done, total)),
                temperature=loaded.temperature,
            )  # fmt: skip
        except Cancelled:
            return
        except MnistTuiError as exc:
            self.post_message(WorkFailed(str(exc)))
            return
        if worker.is_cancelled:
            return
        self.post_message(
            EvalDone(result, loaded.info.name, tuple(data.spec.classes), loaded.info.calibration)
        )

    # ------------------------------------------------------------------ messages

    def on_eval_status(self, message: EvalStatus) -> None:
        if self.running:
            self.query_one("#eval-status", Static).update(message.text)

    def on_eval_progress(self, message: EvalProgress) -> None:
        if self.running:
            bar = self.query_one("#eval-progress", ProgressBar)
            bar.update(total=message.total, progress=message.done)

    def on_work_failure(self) -> None:
        self.running = False
        self.query_one("#eval-progress").display = False
        self.query_one("#eval-status", Static).update("No evaluation (r tries again).")

    def on_eval_done(self, message: EvalDone) -> None:
        self.running = False
        self.model_name = message.name
        self.result = message.result
        self.calibration = message.calibration
        self.class_names = message.classes
        self.query_one("#eval-progress").display = False
        r = message.result
        self.query_one("#eval-status", Static).update(
            f"{message.name}: {r.count:,} test images · r runs again · m picks a model"
        )
        self.call_after_refresh(self.redraw)

    # ------------------------------------------------------------------ drawing

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self.redraw)

    def redraw(self) -> None:
        """Draw the figures for the current width."""
        summary = self.query_one("#eval-summary", Static)
        tables = self.query_one("#eval-tables", ArtView)
        gallery = self.query_one("#eval-gallery", ArtView)
        r = self.result
        if r is None:
            summary.update("")
            tables.set_lines([])
            self.query_one("#eval-calibration", ArtView).set_lines([])
            gallery.set_lines([])
            return
        width = max(30, self.query_one("#eval-scroll").size.width - 4)
        errors = r.count - int(round(r.accuracy * r.count))
        ece = f"  ·  ECE {r.ece:.2%}" if r.ece is not None and r.ece == r.ece else ""
        summary.update(
            f"Accuracy {r.accuracy:.2%}  ·  loss {r.loss:.4f}  ·  {errors:,} of {r.count:,} wrong"
            + ece
        )
        digits = self.class_names[0] == "0"
        names = list(self.class_names) if digits else [str(i) for i in range(len(self.class_names))]
        matrix = heatmap(r.confusion, names, names, ascii=self.ascii, corner="t\\p")
        per_class = self.per_class_lines(r.per_class)
        blocks = [("confusion: rows true, columns predicted", matrix)]
        blocks.append(("per-class accuracy", per_class))
        style = "" if self.ascii else "bold"
        lines = tile_grid(blocks, max_width=width, gap=3, row_gap=1, label_style=style)
        if not digits:
            key = "  ".join(f"{i}={c}" for i, c in enumerate(self.class_names))
            lines += [Text(""), Text(key, style="dim")]
        tables.set_lines(lines)
        calibration = self.query_one("#eval-calibration", ArtView)
        if r.reliability is not None:
            head = Text(f"Calibration: {self.calibration_words(r)}", style=style)
            calibration.set_lines([Text(""), head, *self.reliability_lines(r)])
        else:
            calibration.set_lines([])

        if r.worst:
            # Full-size tiles when at least four fit a row, else half-size ones (14x7 cells).
            half = width < 4 * 28 + 3 * 2
            tiles = [
                (f"{self.class_names[m.true]}→{self.class_names[m.predicted]} {m.confidence:.0%}",
                 digit_tile(m.image, half=half, ascii=self.ascii))
                for m in r.worst
            ]  # fmt: skip
            title = Text(
                f"Most confident mistakes ({len(r.worst)}): true→predicted confidence",
                style=style,
            )
            grid = tile_grid(tiles, max_width=width, gap=2, row_gap=1, label_style=style)
            gallery.set_lines([Text(""), title, *grid])
        else:
            gallery.set_lines([Text(""), Text("No mistakes on the test set.")])

    def calibration_words(self, r: Any) -> str:
        """The model's temperature and the ECE it had before calibration."""
        cal = self.calibration
        if cal is None or not cal.calibrated:
            return "uncalibrated (T=1)"
        before = r.ece_uncalibrated
        was = f", {before:.2%} at T=1" if before is not None else ""
        return f"T={cal.temperature:.3g}{was}"

    def reliability_lines(self, r: Any) -> list[Text]:
        """The reliability diagram (accuracy against confidence per bin) as text art."""
        from mnist_tui.render.reliability import reliability_diagram

        rel = r.reliability
        return reliability_diagram(
            rel.edges, rel.counts, rel.confidence, rel.accuracy, rel.ece, width=20,
            ascii=self.ascii,
        )  # fmt: skip

    def per_class_lines(self, per_class: list[float]) -> list[Text]:
        """One bar per class, the weakest class marked."""
        scores = [p if p == p else 0.0 for p in per_class]  # NaN (no images) draws as empty
        worst = min(range(len(scores)), key=lambda i: scores[i]) if scores else -1
        label_w = max(len(c) for c in self.class_names)
        lines = []
        for i, (name, p) in enumerate(zip(self.class_names, per_class, strict=False)):
            value = "  n/a" if p != p else f"{p:6.2%}"
            mark = (" <" if self.ascii else " ◀ weakest") if i == worst else ""
            line = Text(f"{name:>{label_w}} ")
            line.append(bar_cells(scores[i], 20, self.ascii), style="" if self.ascii else "cyan")
            line.append(f" {value}{mark}", style="yellow" if i == worst and not self.ascii else "")
            lines.append(line)
        return lines

    # ------------------------------------------------------------------ keys

    def action_cancel_or_back(self) -> None:
        if self.running:
            self.app.workers.cancel_node(self)
            self.running = False
            self.query_one("#eval-progress").display = False
            self.query_one("#eval-status", Static).update(
                "Evaluation cancelled: r runs it again, Escape goes back."
            )
            return
        self.app.pop_screen()

    def action_rerun(self) -> None:
        if not self.running:
            self.start()

    def action_toggle_ascii(self) -> None:
        self.ascii = not self.ascii
        self.redraw()

    def action_pick_model(self) -> None:
        if self.running:
            self.notify("Wait for the evaluation, or cancel it with Escape, first.")
            return
        from mnist_tui.tui.widgets.model_picker import ModelPicker

        def chosen(name: str | None) -> None:
            if name:
                self.model_name = name
                self.start()

        self.app.push_screen(ModelPicker(self.model_name), chosen)
