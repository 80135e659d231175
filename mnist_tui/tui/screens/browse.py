"""Browse the data set: a page of labelled samples that fills the terminal, filtered by class,
train or test split, with a cursor; ``a`` opens the selected sample's activations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.widgets import Footer, Header, Static

from mnist_tui.tui.messages import WorkFailed
from mnist_tui.tui.screens.base import EngineScreen
from mnist_tui.tui.widgets.art import ArtView, digit_tile, side_by_side

# Below this many full-size tiles on a page, tiles are drawn at half size (14x14 pixels).
MIN_FULL_TILES = 8


@dataclass
class DataLoaded(Message):
    """The worker loaded the data set."""

    data: Any  # mnist_tui.engine.data.MnistData


@dataclass(frozen=True)
class Layout:
    """How tiles fit the area: size of one tile in cells and how many per row and column."""

    half: bool
    tile_w: int
    tile_h: int
    cols: int
    rows: int

    @property
    def per_page(self) -> int:
        return self.cols * self.rows


def layout_for(width: int, height: int) -> Layout:
    """Full-size 28x14-cell tiles if enough fit, else half-size 14x7 (each plus a label line)."""
    for half in (False, True):
        tile_w, tile_h = (14, 8) if half else (28, 15)
        cols = max(1, (width + 1) // (tile_w + 1))
        rows = max(1, height // tile_h)
        if half or cols * rows >= MIN_FULL_TILES:
            return Layout(half, tile_w, tile_h, cols, rows)
    raise AssertionError("unreachable")


class BrowseScreen(EngineScreen):
    """Samples of the data set, paged, filtered by class, train or test."""

    ERROR_ID = "browse-error"

    DEFAULT_CSS = """
    BrowseScreen #browse-status { height: 1; padding: 0 1; text-style: bold; }
    BrowseScreen #browse-error { color: $error; padding: 0 1; height: auto; }
    BrowseScreen #browse-area { height: 1fr; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("pagedown,n", "page(1)", "Next page", key_display="PgDn/n"),
        Binding("pageup,p", "page(-1)", "Prev page", key_display="PgUp/p"),
        *(Binding(str(d), f"filter({d})", f"Only {d}", show=False) for d in range(10)),
        Binding("asterisk,backspace", "filter(-1)", "All classes", key_display="*"),
        Binding("s", "toggle_split", "Train/test"),
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("a", "activations", "Activations"),
        Binding("t", "toggle_ascii", "ASCII/colour"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: Any = None
        self.split = "train"
        self.only: int | None = None
        self.indices = np.zeros(0, dtype=np.int64)
        self.cursor = 0
        self.ascii = False
        self.tiles = Layout(False, 28, 15, 1, 1)
        self.visible_labels: list[str] = []  # the class names of the tiles on screen

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading data…", id="browse-status")
        yield Static("", id="browse-error", classes="error")
        with Container(id="browse-area"):
            yield ArtView(id="browse-grid")
        yield Footer()

    def on_mount(self) -> None:
        self.ascii = bool(getattr(self.app, "ascii_art", False))
        self.show_error("")
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        """Load the data set (blocking: a thread worker)."""
        from mnist_tui.engine.data import dataset_spec, missing_data_message
        from mnist_tui.errors import MnistTuiError

        services = self.app.services
        if not services.data_available():
            spec = dataset_spec(services.dataset)
            self.post_message(WorkFailed(missing_data_message(services.resolved_data_dir, spec)))
            return
        try:
            data = services.load_data()
        except MnistTuiError as exc:
            self.post_message(WorkFailed(str(exc)))
            return
        self.post_message(DataLoaded(data))

    def on_data_loaded(self, message: DataLoaded) -> None:
        self.data = message.data
        self.refilter()

    def on_work_failure(self) -> None:
        self.query_one("#browse-status", Static).update("No data to browse.")

    # ------------------------------------------------------------------ state

    @property
    def split_data(self) -> Any:
        """The split on show (``train`` or ``test``)."""
        return getattr(self.data, self.split)

    def refilter(self) -> None:
        """Recompute which samples are shown after a change of split or class."""
        if self.data is None:
            return
        labels = self.split_data.labels
        if self.only is None:
            self.indices = np.arange(len(labels))
        else:
            self.indices = np.flatnonzero(labels == self.only)
        self.cursor = 0
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self.redraw)

    def redraw(self) -> None:
        """Draw the page holding the cursor, as many tiles as fit the area."""
        if self.data is None:
            return
        area = self.query_one("#browse-area")
        self.tiles = lay = layout_for(area.size.width - 2, area.size.height)
        classes = self.data.spec.classes
        n = len(self.indices)
        status = self.query_one("#browse-status", Static)
        grid = self.query_one("#browse-grid", ArtView)
        what = "all classes" if self.only is None else f"only {classes[self.only]}"
        if n == 0:
            status.update(f"{self.data.spec.title} {self.split} · {what} · no samples")
            grid.set_lines([])
            self.visible_labels = []
            return
        self.cursor = min(max(0, self.cursor), n - 1)
        page = self.cursor // lay.per_page
        pages = -(-n // lay.per_page)
        start = page * lay.per_page
        shown = self.indices[start : start + lay.per_page]
        split = self.split_data
        selected = int(self.indices[self.cursor])
        status.update(
            f"{self.data.spec.title} {self.split} · {what} · {n:,} samples"
            f" · page {page + 1}/{pages} · #{selected} is {classes[int(split.labels[selected])]}"
        )
        tiles: list[list[Text]] = []
        self.visible_labels = []
        for position, index in enumerate(shown.tolist()):
            name = classes[int(split.labels[index])]
            self.visible_labels.append(name)
            is_cursor = start + position == self.cursor
            picture = digit_tile(split.images[index], half=lay.half, ascii=self.ascii)
            tiles.append([self.label(name, lay.tile_w, is_cursor), *picture])
        lines: list[Text] = []
        for row in range(0, len(tiles), lay.cols):
            chunk = tiles[row : row + lay.cols]
            lines.extend(side_by_side(chunk, [lay.tile_w] * len(chunk), gap=1))
        grid.set_lines(lines)

    def label(self, name: str, width: int, selected: bool) -> Text:
        """A tile's label, centred; the selected tile's is reversed (bracketed in ASCII)."""
        shown = f"[{name}]" if selected and self.ascii else name
        shown = shown[:width]
        style = "" if self.ascii else ("reverse bold" if selected else "bold")
        left = (width - len(shown)) // 2
        return Text(" " * left) + Text(shown, style=style)

    # ------------------------------------------------------------------ keys

    def action_page(self, step: int) -> None:
        n = len(self.indices)
        if not n:
            return
        per = self.tiles.per_page
        page = self.cursor // per + step
        pages = -(-n // per)
        page = min(max(0, page), pages - 1)
        self.cursor = min(n - 1, page * per + self.cursor % per)
        self.redraw()

    def action_move(self, dx: int, dy: int) -> None:
        n = len(self.indices)
        if not n:
            return
        self.cursor = min(max(0, self.cursor + dx + dy * self.tiles.cols), n - 1)
        self.redraw()

    def action_jump(self, where: int) -> None:
        self.cursor = where if where >= 0 else len(self.indices) - 1
        self.redraw()

    def action_filter(self, digit: int) -> None:
        self.only = None if digit < 0 else digit
        self.refilter()

    def action_toggle_split(self) -> None:
        self.split = "test" if self.split == "train" else "train"
        self.refilter()

    def action_toggle_ascii(self) -> None:
        self.ascii = not self.ascii
        self.redraw()

    def action_activations(self) -> None:
        if self.data is None or not len(self.indices):
            self.notify("No sample selected.")
            return
        index = int(self.indices[self.cursor])
        split = self.split_data
        pixels = split.images[index].astype(np.float32) / 255.0
        name = self.data.spec.classes[int(split.labels[index])]
        self.open_activations(pixels, f"{self.split} #{index} ({name})")
