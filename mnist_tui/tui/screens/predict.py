"""Predict an image: type a path (Tab completes), Enter classifies it in a worker.

Shows the image as given, the 28x28 the model saw, all ten probabilities, and a short history.
A picture of a number shows the number and each digit's 28x28; [ and ] select a digit, whose
28x28 and ten probabilities are then shown below.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Static

from mnist_tui.paths import file_named_as_folder, is_web_address, meant_path
from mnist_tui.render import probability_bars
from mnist_tui.tui.messages import WorkFailed
from mnist_tui.tui.screens.base import EngineScreen
from mnist_tui.tui.widgets.art import ArtView, picture, side_by_side
from mnist_tui.tui.widgets.text_input import InOrderInput

HISTORY_SIZE = 8
MAX_CANDIDATES = 12


def path_hint(text: str) -> str:
    """What is at the typed path, in a few words."""
    if not text.strip():
        return "Type an image path: Tab completes, Enter predicts."
    if is_web_address(text):
        return "a web address: download it first (only files can be opened)"
    path = os.path.expanduser(meant_path(text))
    if os.path.isdir(path):
        return "is a directory"
    if os.path.isfile(path):
        return "file exists"
    if file_named_as_folder(path):
        return "a file, not a folder: drop the slash"
    return "no such file"


def complete_path(text: str) -> tuple[str, list[str]]:
    """Complete the last path component to the longest common prefix of matching entries.

    Returns the new text and, when still ambiguous, the candidate names (directories end in "/").
    The part the user typed (``~`` included) is kept as typed.
    """
    head, _, partial = text.rpartition("/")
    head = head + "/" if _ or text.startswith("/") else ""
    folder = os.path.expanduser(head) if head else "."
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return text, []
    matches = [n for n in names if n.startswith(partial)]
    if not partial.startswith("."):
        matches = [n for n in matches if not n.startswith(".")]
    if not matches:
        return text, []

    def shown(name: str) -> str:
        return name + "/" if os.path.isdir(os.path.join(folder, name)) else name

    if len(matches) == 1:
        return head + shown(matches[0]), []
    prefix = os.path.commonprefix(matches)
    return head + prefix, [shown(n) for n in matches]


def confidence_words(confidence: float) -> str:
    """How sure the model is, said plainly."""
    if confidence >= 0.95:
        return "very sure"
    if confidence >= 0.8:
        return "fairly sure"
    if confidence >= 0.6:
        return "unsure"
    return "guessing"


class PathInput(InOrderInput):
    """An Input for file paths: Tab completes instead of moving focus."""

    BINDINGS = [Binding("tab", "complete", "Complete path", show=False)]

    @dataclass
    class Candidates(Message):
        """Tab found several matches; ``names`` are shown to the user."""

        names: list[str]

    def action_complete(self) -> None:
        new, candidates = complete_path(self.value)
        if new != self.value:
            self.value = new
            self.cursor_position = len(new)
        self.post_message(self.Candidates(candidates))


@dataclass
class PredictionReady(Message):
    """The worker classified an image."""

    prediction: Any  # mnist_tui.engine.predict.Prediction (its module imports torch)
    reading: Any = None  # a NumberReading when the picture holds several digits


@dataclass
class SaliencyReady(Message):
    """The worker worked out which pixels made a prediction's answer."""

    prediction: Any
    saliency: Any  # (28, 28) float array in [-1, 1]


def verdict_lines(p: Any, width: int, console: Any) -> list[Text]:
    """The answer in words: the class and its calibrated confidence, or "not a digit" with the
    best guess marked as a guess, and any warning (wrapped to ``width``)."""
    lines: list[Text] = []
    if p.rejected:
        lines.append(Text("Not a digit", style="bold yellow"))
        # No percentage: the classifier's confidence means nothing for what is not a digit.
        lines.append(Text(f"looks most like {p.guess_label} (guess)", style="yellow"))
    elif p.digit is None:
        lines.append(Text(f"No {p.noun} found", style="bold yellow"))
    else:
        word = "Digit" if p.labels[0] == "0" else "Class"
        line = Text(f"{word} {p.label}", style="bold green")
        line.append(f"  {p.confidence:.1%}, {confidence_words(p.confidence)}", style="bold")
        lines.append(line)
    if p.message:
        # Wrap the note to the column width: the bars go below it.
        note = Text(p.message, style="yellow")
        lines.extend(note.wrap(console, max(10, width)))
    if p.found and not p.calibrated:
        lines.append(Text("uncalibrated model (T=1)", style="dim"))
    lines.append(Text(""))
    return lines


# A number's strip shows every digit's picture only on screens at least this tall.
NUMBER_PICTURES_MIN_HEIGHT = 34


class PredictScreen(EngineScreen):
    """Classify an image file by its path."""

    ERROR_ID = "predict-error"

    DEFAULT_CSS = """
    PredictScreen #predict-hint { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    PredictScreen #predict-error { color: $error; padding: 0 1; height: auto; }
    PredictScreen #predict-scroll { height: 1fr; padding: 0 1; }
    PredictScreen #predict-history { height: auto; max-height: 10; margin-top: 1; }
    PredictScreen #predict-number { height: auto; margin-bottom: 1; display: none; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("slash", "edit_path", "Edit path", key_display="/"),
        Binding("a", "activations", "Activations"),
        Binding("w", "why", "Why"),
        Binding("m", "pick_model", "Model"),
        Binding("t", "toggle_ascii", "ASCII/colour"),
        Binding("left_square_bracket", "digit(-1)", "Previous digit", show=False),
        Binding("right_square_bracket", "digit(1)", "Next digit", show=False),
    ]

    def __init__(self, model_name: str | None = None) -> None:
        super().__init__()
        self.model_name = model_name
        self.ascii = False
        self.shown: Any = None  # the Prediction on display
        self.history: list[Any] = []
        self.reading: Any = None  # the NumberReading on display, when it is a number
        self.digit_index = 0
        self.why = False  # show the saliency map in place of the plain 28×28
        self.saliency: dict[int, Any] = {}  # id(prediction) → its map

    def compose(self) -> ComposeResult:
        yield Header()
        yield PathInput(placeholder="path to an image, e.g. ~/digit.png", id="predict-path")
        yield Static(path_hint(""), id="predict-hint")
        yield Static("", id="predict-error", classes="error")
        with VerticalScroll(id="predict-scroll"):
            yield ArtView(id="predict-number")
            yield ArtView(id="predict-result")
            table: DataTable[str] = DataTable(id="predict-history", cursor_type="row")
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.ascii = bool(getattr(self.app, "ascii_art", False))
        table = self.query_one("#predict-history", DataTable)
        table.add_columns("recent image", "→", "confidence")
        table.display = False
        self.show_error("")
        self.query_one("#predict-path", Input).focus()

    # ------------------------------------------------------------------ input

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#predict-hint", Static).update(path_hint(event.value))

    def on_path_input_candidates(self, message: PathInput.Candidates) -> None:
        hint = self.query_one("#predict-hint", Static)
        if message.names:
            names = message.names[:MAX_CANDIDATES]
            more = len(message.names) - len(names)
            # The count first: on a narrow window the list wraps, and the count must not be cut.
            count = f"{len(message.names)} matches" + (f", first {len(names)}" if more else "")
            hint.update(f"{count}: " + "  ".join(names) + (f"  … {more} more" if more else ""))
        else:
            hint.update(path_hint(self.query_one("#predict-path", Input).value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.show_error("Type the path of an image file first.")
            return
        self.show_error("")
        self.query_one("#predict-hint", Static).update("Predicting…")
        self.predict(text)

    def action_edit_path(self) -> None:
        self.query_one("#predict-path", Input).focus()

    # ------------------------------------------------------------------ work

    @work(thread=True, exclusive=True, exit_on_error=False)
    def predict(self, text: str) -> None:
        """Load the model and classify the file (blocking: a thread worker)."""
        from mnist_tui.errors import MnistTuiError

        services = self.app.services
        try:
            loaded = services.load_model(self.model_name)
            from mnist_tui.engine.predict import read_number_path

            reading = read_number_path(loaded, os.path.expanduser(text))
        except MnistTuiError as exc:
            self.post_message(WorkFailed(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - any unreadable file is one sentence, not a crash
            self.post_message(WorkFailed(f"Could not read {text}: {exc}."))
            return
        if reading.is_number:
            self.post_message(PredictionReady(reading.digits[0], reading))
        else:
            self.post_message(PredictionReady(reading.digits[0]))

    def on_work_failure(self) -> None:
        self.shown = None  # an older result under the error would read as this file's answer
        self.redraw()
        self.query_one("#predict-hint", Static).update(
            path_hint(self.query_one("#predict-path", Input).value)
        )

    def on_prediction_ready(self, message: PredictionReady) -> None:
        prediction = message.prediction if message.reading is None else message.reading
        self.history = [prediction, *self.history][:HISTORY_SIZE]
        self.refresh_history()
        self.query_one("#predict-hint", Static).update(
            "Done: / edits the path, a shows activations, ↑↓ Enter re-shows a recent one."
        )
        self.show(prediction)
        # Focus scrolls a widget into view: at 80x24 the table sits under the answer, which
        # would scroll off the top. The answer is what was asked for; ↑↓ still reach the table.
        self.query_one("#predict-history", DataTable).focus(scroll_visible=False)

    def refresh_history(self) -> None:
        """Fill the recent-predictions table, newest first."""
        table = self.query_one("#predict-history", DataTable)
        table.clear()
        for i, p in enumerate(self.history):
            name = os.path.basename(meant_path(p.path or "").rstrip("/")) or "?"
            if getattr(p, "is_number", False):
                table.add_row(name, p.number or "-", f"{p.confidence:.0%}", key=str(i))
                continue
            if p.rejected:
                label, conf = f"{p.guess_label}?", "not a digit"
            else:
                label = p.label
                conf = f"{p.confidence:.0%}" if p.digit is not None else f"no {p.noun}"
            table.add_row(name, label, conf, key=str(i))
        table.display = bool(self.history)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        index = int(event.row_key.value or 0)
        if 0 <= index < len(self.history):
            self.show(self.history[index])

    # ------------------------------------------------------------------ drawing

    def show(self, prediction: Any) -> None:
        """Display one prediction, or a number (a NumberReading) with its first digit chosen."""
        self.reading = prediction if getattr(prediction, "is_number", False) else None
        self.digit_index = 0
        if self.reading is not None:
            prediction = self.reading.digits[0]
        self.shown = prediction
        self.show_error("")
        if self.why and prediction.guess is not None and id(prediction) not in self.saliency:
            self.explain(prediction)
        self.redraw()
        # A new answer is read from its first line (the number, or the verdict), wherever the
        # last one had been scrolled to.
        scroll = self.query_one("#predict-scroll", VerticalScroll)
        self.call_after_refresh(scroll.scroll_home, animate=False)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self.redraw)

    def redraw(self) -> None:
        """Lay out image, 28x28 and bars for the current size."""
        p = self.shown
        view = self.query_one("#predict-result", ArtView)
        self.draw_number()
        if p is None:
            view.set_lines([])
            return
        scroll = self.query_one("#predict-scroll", VerticalScroll)
        width = max(24, scroll.size.width - 4)
        rows = 14
        if scroll.size.height >= 32 and width >= 56 + 40 + 30:
            rows = 28
        seen_w = 2 * rows
        label_w = max(len(s) for s in p.labels)
        bars_w = min(48, max(24, width // 4))
        orig_w = width - seen_w - bars_w - 4

        original = p.original if p.original is not None else p.pixels
        bars = probability_bars(
            p.probabilities,
            labels=p.labels,
            width=max(5, bars_w - label_w - 10),
            highlight=p.guess if p.guess is not None else -1,
            ascii=self.ascii,
        )
        middle = self.seen_panel(p, seen_w, rows)
        # Narrow windows drop whole panels, never cut a figure: first your image, then the 28x28.
        if orig_w >= 10:
            left = [Text("your image", style="bold")] + picture(original, orig_w, rows, self.ascii)
            panels = [left, middle, [Text("")] + bars]
            widths = [max(line.cell_len for line in left), seen_w, bars_w]
        elif width >= seen_w + bars_w + 2:
            panels, widths = [middle, [Text("")] + bars], [seen_w, bars_w]
        else:
            panels, widths = [bars], [bars_w]
        # The verdict spans the whole width above the pictures, so it is never cut.
        view.set_lines(self.verdict(p, width) + side_by_side(panels, widths, gap=2))

    def verdict(self, p: Any, width: int) -> list[Text]:
        """The answer in words: the class, the confidence, and any warning."""
        return verdict_lines(p, width, self.app.console)

    def seen_panel(self, p: Any, width: int, rows: int) -> list[Text]:
        """What the model saw, or (after `w`) why it answered what it did."""
        from mnist_tui.render.saliency import saliency_caption, saliency_picture

        if not self.why or p.guess is None:
            return [Text("what the model saw", style="bold")] + picture(
                p.pixels, width, rows, self.ascii
            )
        sal = self.saliency.get(id(p))
        if sal is None:
            return [Text("why… (working it out)", style="bold")] + picture(
                p.pixels, width, rows, self.ascii
            )
        return (
            [Text(f"why {p.guess_label}", style="bold")]
            + saliency_picture(p.pixels, sal, width, rows, self.ascii)
            + saliency_caption(p.guess_label, ascii=self.ascii)
        )

    def draw_number(self) -> None:
        """The number read and each digit's 28x28 with its answer; the chosen one marked."""
        strip = self.query_one("#predict-number", ArtView)
        reading = self.reading if self.shown is not None else None
        strip.display = reading is not None
        if reading is None:
            strip.set_lines([])
            return
        n, chosen = len(reading.digits), self.digit_index + 1
        if reading.number is None:
            head = Text("Not read as a number", style="bold yellow")
            head.append(f"  {n} pieces; [ ] choose one (now {chosen})", style="bold")
        else:
            head = Text(f"Number {reading.number}", style="bold green")
            head.append(
                f"  {n} digits, {reading.confidence:.1%} for all of them;"
                f" [ ] choose a digit (now {chosen})",
                style="bold",
            )
        # The strip's lines do not wrap: the note is wrapped here, and the digits' tiles go on
        # as many rows as the window needs (a 7-piece label on 80 columns).
        room = max(24, self.query_one("#predict-scroll", VerticalScroll).size.width - 4)
        lines = [head]
        if reading.message:
            lines += [Text(line, style="yellow") for line in textwrap.wrap(reading.message, room)]
        rows = 4 if self.ascii else 5
        # Below this height the digits' pictures would push the ten bars off an 80x24 screen;
        # the chosen digit's 28x28 is still shown whole below, so only the captions stay.
        with_pictures = self.size.height >= NUMBER_PICTURES_MIN_HEIGHT
        tiles = []
        for i, d in enumerate(reading.digits):
            answer = f"{d.guess_label}?" if d.rejected else f"{d.label} {d.confidence:.0%}"
            caption = Text(answer, style="bold")
            if i == self.digit_index:
                caption = Text(f"▸{answer}", style="bold reverse")
            pictures = picture(d.pixels, 2 * rows, rows, self.ascii) if with_pictures else []
            tiles.append([caption, *pictures])
        width = max(7, 2 * rows)
        per_row = max(1, (room + 2) // (width + 2))
        for start in range(0, len(tiles), per_row):
            row = tiles[start : start + per_row]
            lines += side_by_side(row, [width] * len(row), gap=2)
        strip.set_lines(lines)

    def action_digit(self, step: int) -> None:
        """Choose the previous or next digit of the number on display."""
        if self.reading is None:
            self.notify("[ and ] choose a digit when the picture holds a number.")
            return
        self.digit_index = (self.digit_index + step) % len(self.reading.digits)
        prediction = self.reading.digits[self.digit_index]
        self.shown = prediction
        if self.why and prediction.guess is not None and id(prediction) not in self.saliency:
            self.explain(prediction)
        self.redraw()
        # A new answer is read from its first line (the number, or the verdict), wherever the
        # last one had been scrolled to.
        scroll = self.query_one("#predict-scroll", VerticalScroll)
        self.call_after_refresh(scroll.scroll_home, animate=False)

    # ------------------------------------------------------------------ keys

    def action_toggle_ascii(self) -> None:
        self.ascii = not self.ascii
        self.redraw()

    def action_why(self) -> None:
        """Toggle the saliency view ("why this digit") over what the model saw."""
        p = self.shown
        if p is None or p.guess is None:
            self.notify("Predict an image first; then w shows why the model answered it.")
            return
        self.why = not self.why
        if self.why and id(p) not in self.saliency:
            self.explain(p)
        self.redraw()

    @work(thread=True, exclusive=True, group="why", exit_on_error=False)
    def explain(self, prediction: Any) -> None:
        """Compute the saliency map of a prediction (a thread worker: ~0.5 s on a CPU)."""
        try:
            loaded = self.app.services.load_model(self.model_name)
            from mnist_tui.engine.saliency import saliency

            sal = saliency(loaded, prediction.pixels, prediction.guess)
        except Exception as exc:  # noqa: BLE001 - one sentence, never a crash
            self.post_message(WorkFailed(f"Could not work out why: {exc}."))
            return
        self.post_message(SaliencyReady(prediction, sal))

    def on_saliency_ready(self, message: SaliencyReady) -> None:
        self.saliency[id(message.prediction)] = message.saliency
        if self.shown is message.prediction:
            self.redraw()

    def action_activations(self) -> None:
        if self.shown is None or self.shown.guess is None:
            self.notify("Predict an image first; then a shows its activations.")
            return
        title = f"{os.path.basename(self.shown.path or 'image')} → {self.shown.guess_label}"
        self.open_activations(self.shown.pixels, title, model_name=self.model_name)

    def action_pick_model(self) -> None:
        from mnist_tui.tui.widgets.model_picker import ModelPicker

        def chosen(name: str | None) -> None:
            if name:
                self.model_name = name
                self.notify(f"Predicting with {name}.")

        services = self.app.services
        current = self.model_name
        if current is None:
            try:
                current = services.active_model_name()
            except Exception:  # noqa: BLE001 - no model yet: the picker says so
                current = None
        self.app.push_screen(ModelPicker(current), chosen)
