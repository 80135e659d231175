"""Loss and accuracy charts of one or several runs, side by side (plotext), shared by the Train
and Compare screens: one colour per run with a legend, the best epoch marked, optional
log-scale loss and smoothing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual_plotext import PlotextPlot

# Distinct on dark and light themes, in 256 colours too; eight runs at most are compared.
COLOURS = ("cyan", "orange", "green", "magenta", "yellow", "blue", "red", "white")
RICH_COLOURS = ("cyan", "dark_orange", "green", "magenta", "yellow", "blue", "red", "white")
ASCII_MARKERS = ("*", "+", "o", "x", "#", "@", "%", "&")


@dataclass
class Series:
    """What one run contributes to the charts (plain lists; accuracies in percent)."""

    name: str
    train_x: list[float] = field(default_factory=list)  # fractional epochs
    train_loss: list[float] = field(default_factory=list)
    epoch_x: list[float] = field(default_factory=list)  # whole epochs with validation figures
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epochs: int = 0
    validates: bool | None = None  # holds a validation split out (None: not known)

    @property
    def best(self) -> tuple[float, float] | None:
        """(epoch, accuracy %) of the best validation accuracy."""
        if not self.val_acc:
            return None
        i = max(range(len(self.val_acc)), key=lambda k: (self.val_acc[k], -k))
        return self.epoch_x[i], self.val_acc[i]


def smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's exponential moving average, debiased (weight 0: unchanged)."""
    if weight <= 0:
        return list(values)
    out, last, n = [], 0.0, 0
    for v in values:
        n += 1
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight**n))
    return out


class RunCharts(Horizontal):
    """A loss chart and an accuracy chart over epochs."""

    DEFAULT_CSS = """
    RunCharts { height: 14; }
    RunCharts PlotextPlot { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="loss-chart")
        yield PlotextPlot(id="acc-chart")

    def draw(
        self,
        series: list[Series],
        *,
        log_loss: bool = False,
        smoothing: float = 0.0,
        ascii_art: bool = False,
        compare: bool = False,
    ) -> None:
        """Redraw both charts. One run: its batch loss and validation loss; several (compare):
        each run's loss per epoch (validation, else training) in its own colour."""
        epochs = max((s.epochs for s in series), default=0)
        loss = self.query_one("#loss-chart", PlotextPlot)
        plt = loss.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Loss (log)" if log_loss else "Loss")
        for i, s in enumerate(series):
            colour = COLOURS[i % len(COLOURS)]
            marker = ASCII_MARKERS[i % len(ASCII_MARKERS)] if ascii_art else "braille"
            label = s.name if compare else "train"
            if s.train_x:
                ys = smooth(s.train_loss, smoothing)
                xs = s.train_x
                if log_loss:
                    xs, ys = _positive(xs, ys)
                if xs:
                    plt.plot(xs, ys, label=label, marker=marker,
                             color=colour if compare else "cyan")  # fmt: skip
            if s.epoch_x and s.val_loss and not compare:
                xs, ys = s.epoch_x, s.val_loss
                if log_loss:
                    xs, ys = _positive(xs, ys)
                if xs:
                    plt.plot(xs, ys, label="val", marker="o" if ascii_art else "dot",
                             color="orange")  # fmt: skip
        if log_loss:
            plt.yscale("log")
        if epochs:
            plt.xlim(0, epochs)
        plt.xlabel("epoch")
        loss.refresh()

        acc = self.query_one("#acc-chart", PlotextPlot)
        plt = acc.plt
        plt.clear_data()
        plt.clear_figure()
        has_val = any(s.val_acc for s in series)
        if has_val or not series:
            plt.title("Validation accuracy %")
        elif any(s.validates for s in series):  # the first figure comes at the end of epoch 1
            plt.title("Validation accuracy %: after epoch 1")
        else:
            plt.title("No validation split: all images train")
        lows = []
        for i, s in enumerate(series):
            if not s.val_acc:
                continue
            colour = COLOURS[i % len(COLOURS)] if compare else "orange"
            marker = (ASCII_MARKERS[i % len(ASCII_MARKERS)] if compare else "o") if ascii_art \
                else ("braille" if compare and len(s.val_acc) > 1 else "dot")  # fmt: skip
            plt.plot(s.epoch_x, smooth(s.val_acc, smoothing), marker=marker, color=colour,
                     label=s.name if compare else None)  # fmt: skip
            lows.append(min(s.val_acc))
            best = s.best
            if best is not None:  # the best epoch: a vertical tick in the run's colour
                plt.scatter([best[0]], [best[1]], marker="x" if ascii_art else "◆", color=colour)
        if lows:
            plt.ylim(max(0.0, min(lows) - 2.0), 100.0)
        if epochs:
            plt.xlim(1, max(2, epochs))
        plt.xlabel("epoch")
        acc.refresh()


def _positive(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=False) if y > 0 and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]
