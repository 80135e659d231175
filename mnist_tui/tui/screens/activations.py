"""Every layer's response to one 28x28 image: one layer per page, the page scrolls if it is tall.

Conv outputs are a tile per channel (viridis half-blocks, or ASCII), all tiles of a layer on the
layer's own min..max so channels compare (``s`` switches to each channel's own range); dense
outputs are strips of coloured cells that wrap; the last page (Softmax) is probability bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from mnist_tui.errors import MnistTuiError
from mnist_tui.render import GRAY_RAMP, gray_image, probability_bars, sequential, tile_grid
from mnist_tui.render.ascii import ascii_image
from mnist_tui.tui.screens.base import AppScreen

if TYPE_CHECKING:
    from mnist_tui.engine.inspect import LayerActivation

MAX_TILE_SCALE = 4
# Colour levels per tile: few enough that every cell's style is cached after the first page.
LEVELS = 32


@dataclass(frozen=True)
class LayerView:
    """One layer drawn for a page: its heading, its lines and how many tiles it has."""

    heading: str
    detail: str
    lines: list[Text]
    tiles: int


def _unit(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    if hi - lo <= 1e-12:
        return np.zeros_like(values)
    return np.clip((values - lo) / (hi - lo), 0.0, 1.0)


def _tile_scale(
    channels: int, h: int, w: int, label_w: int, width: int, max_rows: int | None
) -> int:
    """The largest tile scale (<= 4) at which the whole grid fits; 1 if none does."""
    best = 1
    for scale in range(1, MAX_TILE_SCALE + 1):
        tile_w = max(w * scale, label_w)
        if tile_w > width:
            break
        per_row = max(1, (width + 1) // (tile_w + 1))
        rows = -(-channels // per_row) * (1 + -(-h * scale // 2))
        if max_rows is not None and rows > max_rows:
            break
        best = scale
    return best


def _ascii_tile(unit: np.ndarray, scale: int) -> list[str]:
    # One character per pixel column and pixel-row pair: the footprint of a half-block tile.
    up = np.repeat(np.repeat(unit, scale, axis=0), scale, axis=1)
    if up.shape[0] % 2:
        up = np.concatenate([up, np.zeros((1, up.shape[1]))], axis=0)
    return ascii_image(np.maximum(up[0::2], up[1::2]), width_scale=1)


def _strip(unit: np.ndarray, width: int, ascii: bool) -> list[Text]:
    """A vector as a row of cells (wrapping), a cell per value, wider cells for short vectors."""
    n = unit.size
    cell = max(1, min(4, width // max(1, n)))
    per_line = max(1, width // cell)
    lines: list[Text] = []
    if ascii:
        glyphs = [GRAY_RAMP[int(round(v * (len(GRAY_RAMP) - 1)))] * cell for v in unit.tolist()]
        for start in range(0, n, per_line):
            lines.append(Text("".join(glyphs[start : start + per_line])))
        return lines
    colours = sequential(unit, "viridis").tolist()
    for start in range(0, n, per_line):
        line = Text()
        for r, g, b in colours[start : start + per_line]:
            line.append(" " * cell, style=f"on rgb({r},{g},{b})")
        lines.append(line)
    return lines


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def layer_view(
    layer: LayerActivation,
    width: int,
    *,
    ascii: bool = False,
    per_channel: bool = False,
    labels: Sequence[str] | None = None,
    max_rows: int | None = None,
) -> LayerView:
    """Draw one layer's output to fit ``width`` columns (and ``max_rows`` lines when it can)."""
    width = max(8, width)
    values = np.nan_to_num(np.asarray(layer.values, dtype=np.float64))
    shape = "×".join(str(s) for s in layer.shape)
    heading = f"{layer.name} · {shape}"
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if layer.name == "Softmax":
        names = list(labels) if labels is not None else [str(i) for i in range(values.size)]
        if len(names) != values.size:
            names = [str(i) for i in range(values.size)]
        label_w = max((len(s) for s in names), default=1)
        bar_w = max(5, min(50, width - label_w - 10))
        bars = probability_bars(values, names, width=bar_w, ascii=ascii)
        return LayerView(heading, "probabilities", bars, 0)
    if layer.kind == "conv" and values.ndim == 3:
        channels, h, w = values.shape
        if per_channel:
            unit = np.stack([_unit(c, float(c.min()), float(c.max())) for c in values])
            detail = f"range {_fmt(lo)} … {_fmt(hi)} · each channel on its own range"
        else:
            unit = _unit(values, lo, hi)
            detail = f"range {_fmt(lo)} … {_fmt(hi)} · one scale for the layer"
        unit = np.round(unit * (LEVELS - 1)) / (LEVELS - 1)
        label_w = len(str(channels - 1))
        scale = _tile_scale(channels, h, w, label_w, width, max_rows)
        if ascii:
            tiles = [(str(i), _ascii_tile(unit[i], scale)) for i in range(channels)]
        else:
            tiles = [
                (str(i), gray_image(unit[i], scale=scale, cmap="viridis")) for i in range(channels)
            ]
        lines = tile_grid(tiles, max_width=width, gap=1, label_style="" if ascii else "bold")
        return LayerView(heading, detail, lines, channels)
    flat = values.ravel()
    detail = f"range {_fmt(lo)} … {_fmt(hi)} · {flat.size} values"
    return LayerView(heading, detail, _strip(_unit(flat, lo, hi), width, ascii), 0)


class ActivationsReady(Message):
    """A worker computed every layer's output (or failed, with one sentence)."""

    def __init__(
        self,
        layers: list[LayerActivation],
        labels: tuple[str, ...],
        model: str,
        error: str = "",
        members: int = 1,
    ) -> None:
        super().__init__()
        self.layers = layers
        self.labels = labels
        self.model = model
        self.error = error
        self.members = members  # networks in the model: an ensemble's are walked one at a time


class ActivationsScreen(AppScreen):
    """Every layer's output for one 28x28 image, one layer per page."""

    DEFAULT_CSS = """
    ActivationsScreen #act-heading {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    ActivationsScreen #act-scroll {
        height: 1fr;
        padding: 0 1;
    }
    ActivationsScreen #act-body {
        width: auto;
    }
    ActivationsScreen #act-error {
        height: auto;
        color: $error;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "page(1)", "Next layer"),
        Binding("p", "page(-1)", "Previous"),
        # Priority: the scroll area would otherwise take them; arrows still scroll a tall page.
        Binding("pagedown", "page(1)", "Next", show=False, priority=True),
        Binding("pageup", "page(-1)", "Previous", show=False, priority=True),
        Binding("f", "first", "First", show=False),
        Binding("l", "last", "Last", show=False),
        Binding("s", "scaling", "Scaling"),
        Binding("m", "member", "Next member", show=False),
    ]

    def __init__(self, pixels: np.ndarray, title: str, model_name: str | None = None) -> None:
        super().__init__()
        self.pixels = np.clip(np.asarray(pixels, dtype=np.float32).reshape(28, 28), 0.0, 1.0)
        self.input_title = title
        self.model_name = model_name
        self.outputs: list[LayerActivation] = []
        self.class_labels: tuple[str, ...] = tuple(str(i) for i in range(10))
        self.page_index = 0
        self.per_channel = False
        self.current_view: LayerView | None = None
        self._views: dict[tuple[Any, ...], LayerView] = {}  # paging back is instant
        self._model = model_name or ""
        self.member = 0  # which member of an ensemble is shown
        self.members = 1

    @property
    def ascii(self) -> bool:
        return bool(getattr(self.app, "ascii_art", False))

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{self.input_title} · computing every layer's output…", id="act-heading")
        with VerticalScroll(id="act-scroll"):
            yield Static("", id="act-body")
        yield Static("", id="act-error", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#act-scroll").focus()
        self._compute(self.pixels, self.model_name, self.member)

    def on_unmount(self) -> None:
        self.workers.cancel_node(self)

    def on_resize(self, event: Any) -> None:
        self._show()

    @work(thread=True, exclusive=True, group="activations", exit_on_error=False)
    def _compute(self, pixels: np.ndarray, model_name: str | None, member: int = 0) -> None:
        worker = get_current_worker()
        try:
            from mnist_tui.engine.data import DATASETS
            from mnist_tui.engine.inspect import activations

            loaded = self.app.services.load_model(model_name)
            if worker.is_cancelled:
                return
            info = loaded.info
            if info.members:  # an ensemble: one member's layers, at its own temperature
                temperature = info.members[member % len(info.members)].temperature
            else:
                temperature = loaded.temperature
            layers = activations(
                loaded.model, pixels, info.mean, info.std, temperature, member=member
            )
            spec = DATASETS.get(info.dataset, DATASETS["mnist"])
            labels = tuple(str(c) for c in spec.classes)
        except MnistTuiError as exc:
            self.post_message(ActivationsReady([], (), model_name or "", str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - one sentence, never a traceback
            message = f"Could not run the model on this image ({type(exc).__name__})."
            self.post_message(ActivationsReady([], (), model_name or "", message))
            return
        if not worker.is_cancelled:
            self.post_message(
                ActivationsReady(layers, labels, info.name, members=max(1, len(info.members)))
            )

    def on_activations_ready(self, message: ActivationsReady) -> None:
        if message.error:
            self.query_one("#act-heading", Static).update(f"{self.input_title}")
            self.query_one("#act-error", Static).update(message.error)
            return
        self.outputs = message.layers
        self.class_labels = message.labels or self.class_labels
        self._model = message.model
        if message.members != self.members:  # first result: the footer offers "Next member"
            self.members = message.members
            self.refresh_bindings()
        self.page_index = min(self.page_index, len(self.outputs) - 1)
        self._views.clear()
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "member":
            return self.members > 1
        return True

    def action_member(self) -> None:
        """Walk the next member of an ensemble through the same image (same layer page)."""
        if self.members > 1:
            self.member = (self.member + 1) % self.members
            self._compute(self.pixels, self.model_name, self.member)

    # ------------------------------------------------------------------ paging

    def action_page(self, step: int) -> None:
        if self.outputs:
            self.page_index = min(max(self.page_index + step, 0), len(self.outputs) - 1)
            self._show(scroll_home=True)

    def action_first(self) -> None:
        self.page_index = 0
        self._show(scroll_home=True)

    def action_last(self) -> None:
        self.page_index = max(0, len(self.outputs) - 1)
        self._show(scroll_home=True)

    def action_scaling(self) -> None:
        self.per_channel = not self.per_channel
        self._show()

    def _show(self, scroll_home: bool = False) -> None:
        if not self.outputs or not self.is_mounted:
            return
        layer = self.outputs[self.page_index]
        scroll = self.query_one("#act-scroll", VerticalScroll)
        width = max(8, (scroll.content_region.width or self.size.width - 2) - 1)
        rows = max(4, (scroll.content_region.height or self.size.height - 5) - 1)
        key = (self.page_index, width, rows, self.per_channel, self.ascii)
        if key not in self._views:
            self._views[key] = layer_view(
                layer, width, ascii=self.ascii, per_channel=self.per_channel,
                labels=self.class_labels, max_rows=rows,
            )  # fmt: skip
        self.current_view = self._views[key]
        model = f" · model {self._model}" if self._model else ""
        if self.members > 1:
            model += f", member {self.member + 1} of {self.members} (m: next)"
        heading = Text()
        heading.append(f"Layer {self.page_index + 1} of {len(self.outputs)}: ", style="bold")
        heading.append(self.current_view.heading, style="" if self.ascii else "bold cyan")
        heading.append(f"\n{self.input_title}{model} · {self.current_view.detail}")
        self.query_one("#act-heading", Static).update(heading)
        self.query_one("#act-body", Static).update(Text("\n").join(self.current_view.lines))
        if scroll_home:
            scroll.scroll_home(animate=False)
