"""First-layer weights: every filter of the first conv layer as half-block (or ASCII) art."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Static

from mnist_tui.render import filter_grid, legend
from mnist_tui.tui.messages import WorkFailed
from mnist_tui.tui.screens.base import EngineScreen
from mnist_tui.tui.widgets.art import ArtView


@dataclass
class FiltersLoaded(Message):
    """The worker read the first conv layer's kernels of a model."""

    name: str
    arch: str
    filters: np.ndarray


class WeightsScreen(EngineScreen):
    """The first conv layer's filters in a grid on one shared diverging colour scale."""

    ERROR_ID = "weights-error"

    DEFAULT_CSS = """
    WeightsScreen #weights-head { height: 1; padding: 0 1; text-style: bold; }
    WeightsScreen #weights-legend { padding: 0 1; }
    WeightsScreen #weights-scroll { height: 1fr; padding: 0 1; }
    WeightsScreen .error { color: $error; padding: 0 1; height: auto; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("p", "toggle_scale", "Per-filter scale"),
        Binding("t", "toggle_ascii", "ASCII/colour"),
        Binding("m", "pick_model", "Model"),
    ]

    def __init__(self, model_name: str | None = None) -> None:
        super().__init__()
        self.model_name = model_name
        self.per_filter = False
        self.ascii = False
        self.filters: np.ndarray | None = None
        self.arch = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the model…", id="weights-head")
        yield ArtView(id="weights-legend")
        yield Static("", id="weights-error", classes="error")
        with VerticalScroll(id="weights-scroll"):
            yield ArtView(id="weights-grid")
        yield Footer()

    def on_mount(self) -> None:
        self.ascii = bool(getattr(self.app, "ascii_art", False))
        self.query_one("#weights-scroll").focus()
        self.show_error("")
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        """Load the model and read its first-layer filters (blocking: a thread worker)."""
        from mnist_tui.errors import MnistTuiError

        services = self.app.services
        try:
            name = self.model_name or services.active_model_name()
            loaded = services.load_model(name)
            from mnist_tui.engine.inspect import first_layer_filters

            filters = first_layer_filters(loaded.model)
        except (MnistTuiError, ValueError, OSError) as exc:
            self.post_message(WorkFailed(f"Cannot show weights: {exc}"))
            return
        self.post_message(FiltersLoaded(loaded.info.name, _arch(loaded.info), filters))

    def on_filters_loaded(self, message: FiltersLoaded) -> None:
        self.model_name = message.name
        self.arch = message.arch
        self.filters = message.filters
        self.show_error("")
        self.call_after_refresh(self.redraw)

    def on_work_failure(self) -> None:
        self.query_one("#weights-head", Static).update("No weights to show.")

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self.redraw)

    def redraw(self) -> None:
        """Draw the grid for the current size, scale mode and art style."""
        if self.filters is None:
            return
        n, kh, kw = self.filters.shape
        vmax = float(np.abs(self.filters).max()) if self.filters.size else 0.0
        mode = "per-filter scale" if self.per_filter else f"shared scale ±{vmax:.3g}"
        self.query_one("#weights-head", Static).update(
            f"{self.model_name} · {self.arch} · {n} filters of {kh}×{kw} · {mode}"
            f"{' · ASCII' if self.ascii else ''}"
        )
        scroll = self.query_one("#weights-scroll", VerticalScroll)
        width = max(8, scroll.size.width - 4)  # padding and a possible scrollbar
        height = max(4, scroll.size.height)
        lines = filter_grid(
            self.filters,
            per_filter_scale=self.per_filter,
            ascii=self.ascii,
            max_width=width,
            max_height=height,
        )
        self.query_one("#weights-grid", ArtView).set_lines(lines)
        key = legend(1.0 if self.per_filter else vmax, width=min(32, width), ascii=self.ascii)
        note = "  each filter stretched to its own max |w|" if self.per_filter else "  weight"
        key[0].append(note)
        self.query_one("#weights-legend", ArtView).set_lines(key)

    def action_toggle_scale(self) -> None:
        self.per_filter = not self.per_filter
        self.redraw()

    def action_toggle_ascii(self) -> None:
        self.ascii = not self.ascii
        self.redraw()

    def action_pick_model(self) -> None:
        from mnist_tui.tui.widgets.model_picker import ModelPicker

        def chosen(name: str | None) -> None:
            if name and name != self.model_name:
                self.model_name = name
                self.filters = None
                self.query_one("#weights-head", Static).update(f"Loading {name}…")
                self.load()

        self.app.push_screen(ModelPicker(self.model_name), chosen)


def _arch(info: Any) -> str:
    """The architecture, and which member's filters these are for an ensemble."""
    return f"{info.arch_label}, member 1" if info.members else info.arch
