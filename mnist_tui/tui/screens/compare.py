"""Compare: pick 2-8 models (finished, stopped or still training) and see their loss and
accuracy curves overlaid, each run in its own colour with its best epoch marked, beside a table
of their settings with the ones that differ highlighted.

Histories come from checkpoint headers and, for a run still going, from its log (no torch), so
the screen opens at once and follows running runs with a one-second refresh.
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, SelectionList, Static

from mnist_tui.engine.compare import MAX_COMPARED, Comparison, RunSummary, compare
from mnist_tui.engine.jobs import Runs
from mnist_tui.errors import MnistTuiError
from mnist_tui.tui.screens.base import AppScreen
from mnist_tui.tui.screens.train import save_view
from mnist_tui.tui.widgets.fit import pack_parts
from mnist_tui.tui.widgets.run_charts import RICH_COLOURS, RunCharts, Series
from mnist_tui.tui.widgets.ticks import TickList

SMOOTHING = (0.0, 0.6, 0.9)


def series_of(summary: RunSummary) -> Series:
    """A run's curves for the charts: loss per epoch (validation, else training) and
    validation accuracy in percent."""
    s = Series(summary.name, epochs=summary.epochs or len(summary.history))
    for row in summary.history:
        epoch = float(row["epoch"])
        val_loss, val_acc = _num(row.get("val_loss")), _num(row.get("val_acc"))
        loss = val_loss if val_loss is not None else _num(row.get("train_loss"))
        if loss is not None:
            s.train_x.append(epoch)
            s.train_loss.append(loss)
        if val_acc is not None and val_loss is not None:
            s.epoch_x.append(epoch)
            s.val_loss.append(val_loss)
            s.val_acc.append(val_acc * 100)
    return s


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


class CompareScreen(AppScreen):
    """Runs side by side: overlaid curves and a table of settings."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("l", "toggle_log", "Log loss"),
        Binding("m", "smoothing", "Smoothing"),
        Binding("p", "save_charts", "Save SVG"),
    ]
    DEFAULT_CSS = """
    CompareScreen #compare-body { height: 1fr; padding: 0 1; }
    CompareScreen #picker { height: 6; }
    CompareScreen #compare-note { color: $text-muted; }
    CompareScreen #compare-error { color: $error; }
    CompareScreen RunCharts { height: 12; }
    CompareScreen #compare-table { height: auto; }
    """

    def __init__(self, names: list[str] | None = None) -> None:
        super().__init__()
        self.names = list(names or [])
        self.log_loss = False
        self.smoothing = 0.0
        self.comparison: Comparison | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="compare-body"):
            yield TickList(id="picker")
            yield Static("", id="compare-note")
            yield Static("", id="compare-error")
            yield RunCharts(id="compare-charts")
            yield Static("", id="compare-legend")
            yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        store = self.app.services.store()
        names = [i.name for i in store.list() if not i.error]
        names += [r.name for r in Runs(store.root).list() if r.active and r.name not in names]
        if not self.names:
            self.names = names[:2]  # the two newest
        picker = self.query_one("#picker", SelectionList)
        for name in names:
            picker.add_option((name, name, name in self.names))
        self.refresh_view()
        self.set_interval(1.0, self._live)
        picker.focus()

    @on(SelectionList.SelectedChanged)
    def _picked(self) -> None:
        picked = list(self.query_one("#picker", SelectionList).selected)
        # keep the order of picking, so colours stay with their runs
        self.names = [n for n in self.names if n in picked] + [
            n for n in picked if n not in self.names
        ]
        self.refresh_view()

    def _live(self) -> None:
        if self.comparison and any(r.status in ("running", "queued")
                                   for r in self.comparison.runs):  # fmt: skip
            self.refresh_view()

    _note: list[str] = []

    def _show_note(self) -> None:
        """The keys' note, broken between its parts on a narrow window (never "best / epoch")."""
        note = self.query_one("#compare-note", Static)
        note.update(pack_parts(self._note, note.size.width or self.app.size.width - 2, "·", 1, ""))

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_note)

    def refresh_view(self) -> None:
        """Re-read the chosen runs and redraw the charts and the table."""
        error = self.query_one("#compare-error", Static)
        smoothing = f"smoothing {self.smoothing:g}" if self.smoothing else "no smoothing"
        scale = "log" if self.log_loss else "linear"
        self._note = [f"{len(self.names)} picked (2-{MAX_COMPARED})", f"l: {scale} loss",
                      f"m: {smoothing}", "p: save SVG", "◆ best epoch"]  # fmt: skip
        self._show_note()
        if len(self.names) > MAX_COMPARED:
            error.update(f"Pick at most {MAX_COMPARED} runs; untick some.")
            return
        try:
            self.comparison = (
                compare(self.app.services.store(), self.names) if len(self.names) >= 2 else None
            )
        except MnistTuiError as exc:
            error.update(str(exc))
            return
        error.update("" if self.comparison else "Pick two or more runs (space ticks one).")
        runs = self.comparison.runs if self.comparison else []
        self.query_one(RunCharts).draw(
            [series_of(r) for r in runs], log_loss=self.log_loss, smoothing=self.smoothing,
            ascii_art=bool(getattr(self.app, "ascii_art", False)), compare=True,
        )  # fmt: skip
        legend = Text()
        for i, r in enumerate(runs):
            best = r.best_epoch
            legend.append(f"■ {r.name}", style=f"bold {RICH_COLOURS[i % len(RICH_COLOURS)]}")
            legend.append(f" (best {best})  " if best else "  ")
        self.query_one("#compare-legend", Static).update(legend)
        self._fill_table()

    def _fill_table(self) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.clear(columns=True)
        if self.comparison is None:
            return
        names, rows = self.comparison.table()
        width = max(6, min(14, (self.size.width - 20) // max(1, len(names))))
        table.add_column("", key="label")
        for i, name in enumerate(names):
            short = name if len(name) <= width else name[: width - 1] + "…"
            colour = RICH_COLOURS[i % len(RICH_COLOURS)]
            table.add_column(Text(short, style=f"bold {colour}"), key=name)
        for label, cells, differs in rows:
            style = "bold yellow" if differs else ""
            table.add_row(Text(label, style=style), *(Text(c, style=style) for c in cells))

    def action_toggle_log(self) -> None:
        """Loss on a log scale, or linear."""
        self.log_loss = not self.log_loss
        self.refresh_view()

    def action_smoothing(self) -> None:
        """Cycle the curves' smoothing: none, 0.6, 0.9."""
        i = SMOOTHING.index(self.smoothing) if self.smoothing in SMOOTHING else 0
        self.smoothing = SMOOTHING[(i + 1) % len(SMOOTHING)]
        self.refresh_view()

    def action_save_charts(self) -> None:
        """Save the screen, charts included, as an SVG in the current folder."""
        self.notify(save_view(self, "compare"), timeout=6)
