"""Draw a digit with the mouse or the keyboard and watch the model's guess follow every stroke.

The canvas is 56x40 pixels (20 text rows at 80x24, shown bigger on bigger terminals). The live
prediction hands the model the drawing exactly as a saved PNG would give it (a greyscale PIL
image, white ink on black), so "save, then predict the file" answers the same.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static
from textual.worker import get_current_worker

from mnist_tui.errors import MnistTuiError
from mnist_tui.render import gray_image, probability_bars
from mnist_tui.render.ascii import ascii_image
from mnist_tui.tui.screens.base import AppScreen
from mnist_tui.tui.widgets.canvas import HEIGHT, WIDTH, DrawCanvas
from mnist_tui.tui.widgets.text_input import InOrderInput

if TYPE_CHECKING:
    from PIL import Image

    from mnist_tui.engine.predict import Prediction

DEBOUNCE_S = 0.15  # predict this long after the last change...
MAX_WAIT_S = 0.5  # ...but at least this often while a stroke goes on
MIN_INTERVAL_S = 1 / 6  # and never more than ~6 times a second
SIDE_MIN = 24  # columns the prediction panel needs beside the canvas
CANVAS_ROWS = HEIGHT // 2


def canvas_image(pixels: np.ndarray) -> Image.Image:
    """The drawing as the PIL image that is predicted and saved ('L', white ink on black)."""
    from PIL import Image

    array = np.rint(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)
    return Image.fromarray(array, "L")


def save_drawing(pixels: np.ndarray, path: str) -> Path:
    """Write the drawing as a PNG (``~`` expanded, ``.png`` added when there is no suffix).

    Raises :class:`MnistTuiError` with one sentence when the file cannot be written.
    """
    target = Path(os.path.expanduser(path.strip()))
    if not path.strip():
        raise MnistTuiError("Type a file name to save the drawing to.")
    if not target.suffix:
        target = target.with_suffix(".png")
    if target.is_dir():
        raise MnistTuiError(f"Cannot save to {target}: it is a folder; add a file name.")
    try:
        canvas_image(pixels).save(target, format="PNG")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise MnistTuiError(
            f"Cannot save to {target}: {str(reason).lower()}; choose another path."
        ) from None
    return target


def default_save_path() -> str:
    """``~/digit-<time>.png``."""
    return f"~/digit-{time.strftime('%Y%m%d-%H%M%S')}.png"


def prediction_panel(
    prediction: Prediction | None,
    width: int,
    height: int,
    ascii: bool = False,
    status: str = "",
    saliency: np.ndarray | None = None,
) -> Text:
    """The side panel: the winner, probability bars and the 28x28 the model sees, fitted to
    ``width`` x ``height`` (ten bars when there is room, else the top three; the picture is
    cut to its centre columns when the panel is narrower than 28). With ``saliency`` the
    picture is "why": the model input tinted by what made the answer."""
    width = max(12, width)
    if prediction is None:
        return Text(status or "Draw a digit", style="" if ascii else "bold")
    lines: list[Text] = []
    if not prediction.found:
        lines.append(Text("Draw a digit", style="" if ascii else "bold"))
        if prediction.message:
            lines.append(Text(prediction.message, style="" if ascii else "dim"))
        return Text("\n").join(lines)
    head = Text()
    if prediction.rejected:
        head.append("not a digit", style="" if ascii else "bold yellow")
        head.append(f"  looks most like {prediction.guess_label} (guess)")
    else:
        head.append(prediction.label, style="" if ascii else "bold green")
        head.append(f"  {prediction.confidence:.1%}")
    if status:
        head.append(f"  {status}", style="" if ascii else "dim")
    lines.append(head)
    if prediction.message and not prediction.rejected:
        lines.append(Text(prediction.message, style="" if ascii else "yellow"))
    room = height - sum(max(1, -(-line.cell_len // width)) for line in lines)
    picture_rows = 15  # a label and 14 half-block rows
    n_bars = 10 if room >= 10 + picture_rows else 3 if room >= 3 + picture_rows else 0
    show_picture = n_bars > 0
    if not show_picture:
        n_bars = max(1, min(10, room))
    probs = np.asarray(prediction.probabilities, dtype=np.float64)
    order = sorted(np.argsort(-probs)[:n_bars].tolist()) if n_bars < 10 else list(range(10))
    label_w = max(len(str(prediction.labels[i])) for i in order)
    bar_w = max(3, width - label_w - 10)
    bars = probability_bars(
        probs[order], [prediction.labels[i] for i in order], width=bar_w, ascii=ascii
    )
    lines.extend(bars)
    if show_picture:
        pixels = np.asarray(prediction.pixels, dtype=np.float32)
        cut = max(0, (28 - width + 1) // 2)
        view = pixels[:, cut : 28 - cut] if cut else pixels
        if saliency is not None and prediction.guess is not None:
            from mnist_tui.render.saliency import saliency_image

            sal = np.asarray(saliency, dtype=np.float32)
            sal = sal[:, cut : 28 - cut] if cut else sal
            lines.append(
                Text(f"why {prediction.guess_label}: ", style="" if ascii else "dim")
                + Text(
                    "# for, = against" if ascii else "orange for, blue against",
                    style="" if ascii else "dim",
                )
            )
            if ascii:
                keep = np.abs(sal[0::2]) >= np.abs(sal[1::2])
                rows_sal = np.where(keep, sal[0::2], sal[1::2])
                rows_pix = np.maximum(view[0::2], view[1::2])
                small = saliency_image(rows_pix, rows_sal, ascii=True)
                lines.extend(Text(line.plain[0::2]) for line in small)
            else:
                lines.extend(saliency_image(view, sal))
        else:
            lines.append(
                Text("model input" + (" (centre)" if cut else ""), style="" if ascii else "dim")
            )
            if ascii:
                rows = np.maximum(view[0::2], view[1::2])
                lines.extend(Text(s) for s in ascii_image(rows, width_scale=1))
            else:
                lines.extend(gray_image(view).split("\n"))
    return Text("\n").join(lines)


class PredictionReady(Message):
    """A worker finished predicting drawing number ``version``."""

    def __init__(
        self,
        version: int,
        prediction: Prediction | None,
        error: str = "",
        saliency: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.version = version
        self.prediction = prediction
        self.error = error
        self.saliency = saliency  # set when "why" is on


class OpenActivations(Message):
    """The drawing was preprocessed; open the activations screen on it (or say why not)."""

    def __init__(self, pixels: np.ndarray | None, error: str = "") -> None:
        super().__init__()
        self.pixels = pixels
        self.error = error


class SaveDrawingScreen(ModalScreen[str | None]):
    """Ask where to save the drawing; the screen stays open with the error when it fails."""

    DEFAULT_CSS = """
    SaveDrawingScreen {
        align: center middle;
    }
    #save-box {
        width: 70;
        max-width: 100%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    #save-box .error {
        color: $error;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, save: Callable[[str], str], default: str) -> None:
        super().__init__()
        self._save = save
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static("Save the drawing as PNG (Enter to save, Escape to cancel):")
            yield InOrderInput(self._default, id="save-path")
            yield Static("", id="save-error", classes="error")

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            saved = self._save(event.value)
        except MnistTuiError as exc:
            self.query_one("#save-error", Static).update(str(exc))
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DrawScreen(AppScreen):
    """Draw a digit (mouse, or arrows + space) and see the live prediction beside it."""

    DEFAULT_CSS = """
    DrawScreen #draw-body {
        height: 1fr;
    }
    DrawScreen #draw-left {
        width: auto;
        height: 1fr;
    }
    DrawScreen #draw-hint {
        height: auto;
        color: $text-muted;
    }
    DrawScreen #draw-side {
        width: 1fr;
        height: 1fr;
        padding: 0 0 0 1;
    }
    DrawScreen #draw-side.narrow {
        padding: 0;
    }
    DrawScreen #draw-prediction {
        height: auto;
    }
    DrawScreen #draw-error {
        height: auto;
        color: $error;
    }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("space", "pen", "Pen"),
        Binding("c", "clear", "Clear"),
        Binding("u", "undo", "Undo"),
        Binding("s", "save", "Save"),
        Binding("a", "activations", "Layers"),
        Binding("w", "why", "Why"),
        *(
            Binding(key, f"move({dx}, {dy})", show=False)
            for key, dx, dy in (
                ("up", 0, -2),
                ("down", 0, 2),
                ("left", -2, 0),
                ("right", 2, 0),
                ("shift+up", 0, -1),
                ("shift+down", 0, 1),
                ("shift+left", -1, 0),
                ("shift+right", 1, 0),
            )
        ),  # fmt: skip
    ]

    def __init__(self) -> None:
        super().__init__()
        self.prediction: Prediction | None = None
        self._version = 0  # bumped on every change of the drawing
        self._shown_version = -1
        self._last_change = 0.0
        self._last_start = 0.0
        self._pending_since: float | None = None
        self._timer: Timer | None = None
        self._status = ""
        self._model = ""
        self.why = False  # draw the saliency map in place of the model input
        self.saliency: np.ndarray | None = None

    @property
    def ascii(self) -> bool:
        return bool(getattr(self.app, "ascii_art", False))

    @property
    def canvas(self) -> DrawCanvas:
        return self.query_one("#draw-canvas", DrawCanvas)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="draw-body"):
            with Vertical(id="draw-left"):
                yield DrawCanvas(id="draw-canvas", ascii=self.ascii)
                yield Static("", id="draw-hint")
            with Vertical(id="draw-side"):
                yield Static("Draw a digit", id="draw-prediction")
                yield Static("", id="draw-error", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        self.canvas.focus()
        try:
            self._model = self.app.services.active_model_name()
        except MnistTuiError as exc:
            self._show_error(str(exc))
        self._fit()
        self._warm_model()

    def on_resize(self, event: Any) -> None:
        self._fit()

    def on_unmount(self) -> None:
        self.workers.cancel_node(self)

    def _fit(self) -> None:
        """Pick the biggest canvas scale that leaves room for the prediction panel."""
        width, height = self.size.width, self.size.height - 3  # header, footer, hint line
        scale = max(1, min((width - SIDE_MIN) // WIDTH, height // CANVAS_ROWS))
        self.canvas.set_scale(scale)
        self.query_one("#draw-side").set_class(width - WIDTH * scale < 30, "narrow")
        self._update_hint()
        self._update_panel()

    # ------------------------------------------------------------------ showing

    def _update_hint(self) -> None:
        canvas = self.canvas
        pen = "pen down" if canvas.pen_down else "pen up"
        model = f" · model {self._model}" if self._model else ""
        x, y = canvas.cursor
        self.query_one("#draw-hint", Static).update(f"{pen} at {x},{y} · arrows move{model}")

    def _update_panel(self) -> None:
        side = self.query_one("#draw-side")
        width = side.content_region.width or max(SIDE_MIN, self.size.width - WIDTH - 1)
        height = side.content_region.height or max(1, self.size.height - 2)
        if self.canvas.empty:
            text = prediction_panel(None, width, height, self.ascii)
        else:
            text = prediction_panel(
                self.prediction, width, height, self.ascii, self._status,
                saliency=self.saliency if self.why else None,
            )  # fmt: skip
        self.query_one("#draw-prediction", Static).update(text)

    def _show_error(self, message: str) -> None:
        self.query_one("#draw-error", Static).update(message)

    # ------------------------------------------------------------------ drawing actions

    def action_move(self, dx: int, dy: int) -> None:
        self.canvas.move_cursor(dx, dy)
        self._update_hint()

    def action_pen(self) -> None:
        self.canvas.toggle_pen()
        self._update_hint()

    def action_clear(self) -> None:
        self.canvas.pen_down = False
        self.canvas.clear()
        self._update_hint()

    def action_undo(self) -> None:
        if not self.canvas.undo():
            self.notify("Nothing to undo.", timeout=2)
        self._update_hint()

    def action_save(self) -> None:
        if self.canvas.empty:
            self.notify("Nothing to save yet: draw a digit first.", severity="warning")
            return
        pixels = self.canvas.pixels.copy()

        def save(path: str) -> str:
            return str(save_drawing(pixels, path))

        def done(saved: str | None) -> None:
            if saved:
                self.notify(f"Saved {saved}")
            self.canvas.focus()

        self.app.push_screen(SaveDrawingScreen(save, default_save_path()), done)

    def action_why(self) -> None:
        """Toggle "why": which strokes made the model's answer, over the model input."""
        self.why = not self.why
        if self.why and self.canvas.empty:
            self.notify("Draw a digit: w then shows which strokes made the answer.", timeout=3)
        if self.why and not self.canvas.empty and self.saliency is None:
            self._predict(self.canvas.pixels.copy(), self._version)
        self._update_panel()

    def action_activations(self) -> None:
        if self.canvas.empty:
            self.notify("Draw a digit first, then press a to see every layer.", timeout=3)
            return
        self._preprocess_for_activations(self.canvas.pixels.copy())

    @work(thread=True, exclusive=True, group="draw-open", exit_on_error=False)
    def _preprocess_for_activations(self, pixels: np.ndarray) -> None:
        from mnist_tui.engine.predict import preprocess_for

        try:
            # What the prediction saw: a digit, or a whole item for a Fashion model.
            pre = preprocess_for(self.app.services.load_model(), canvas_image(pixels))
        except MnistTuiError as exc:
            self.post_message(OpenActivations(None, str(exc)))
            return
        if not pre.found:
            self.post_message(OpenActivations(None, pre.message or "No digit found."))
            return
        self.post_message(OpenActivations(pre.pixels))

    def on_open_activations(self, message: OpenActivations) -> None:
        if message.pixels is None:
            self.notify(message.error, severity="warning")
            return
        from mnist_tui.tui.screens.activations import ActivationsScreen

        self.app.push_screen(ActivationsScreen(message.pixels, "Your drawing"))

    # ------------------------------------------------------------------ live prediction

    @on(DrawCanvas.Changed)
    def _drawing_changed(self, event: DrawCanvas.Changed) -> None:
        self._version += 1
        self._last_change = time.monotonic()
        if event.empty:
            self.prediction = None
            self.saliency = None
            self._status = ""
            self._shown_version = self._version
            self._pending_since = None
            self._update_panel()
            return
        if self._pending_since is None:
            self._pending_since = self._last_change
        if self._timer is None:
            self._timer = self.set_timer(DEBOUNCE_S, self._tick)

    def _tick(self) -> None:
        """Start a prediction once the drawing is quiet (or has waited long enough)."""
        self._timer = None
        if self._pending_since is None:
            return
        now = time.monotonic()
        wait = 0.0
        if now - self._last_change < DEBOUNCE_S and now - self._pending_since < MAX_WAIT_S:
            wait = DEBOUNCE_S - (now - self._last_change)
        wait = max(wait, MIN_INTERVAL_S - (now - self._last_start))
        if wait > 0.005:
            self._timer = self.set_timer(wait, self._tick)
            return
        self._pending_since = None
        self._last_start = now
        if self.prediction is not None:
            self._status = "…"
            self._update_panel()
        self._predict(self.canvas.pixels.copy(), self._version)

    @work(thread=True, group="draw-warm", exit_on_error=False)
    def _warm_model(self) -> None:
        try:
            self.app.services.load_model()
        except MnistTuiError:
            pass  # the prediction reports it when the user draws
        except Exception:  # noqa: BLE001 - reported by the prediction as well
            pass

    @work(thread=True, exclusive=True, group="draw-predict", exit_on_error=False)
    def _predict(self, pixels: np.ndarray, version: int) -> None:
        from mnist_tui.engine.predict import predict_image

        worker = get_current_worker()
        try:
            loaded = self.app.services.load_model()
            if worker.is_cancelled:
                return
            prediction = predict_image(loaded, canvas_image(pixels))
            saliency = None
            if self.why and prediction.guess is not None and not worker.is_cancelled:
                from mnist_tui.engine.saliency import saliency as explain

                saliency = explain(loaded, prediction.pixels, prediction.guess)
        except MnistTuiError as exc:
            self.post_message(PredictionReady(version, None, str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - shown as one sentence, never a traceback
            message = f"Prediction failed ({type(exc).__name__}); try another model."
            self.post_message(PredictionReady(version, None, message))
            return
        if not worker.is_cancelled:
            self.post_message(PredictionReady(version, prediction, saliency=saliency))

    def on_prediction_ready(self, message: PredictionReady) -> None:
        if message.version < self._shown_version:
            return
        self._shown_version = message.version
        if message.version == self._version:
            self._status = ""
        if message.error:
            self._show_error(message.error)
            self._status = ""
        else:
            self._show_error("")
            self.prediction = message.prediction
            self.saliency = message.saliency
        self._update_panel()
