"""The command line: `mnist-tui` opens the TUI; subcommands serve scripts and SSH one-liners.

Only argparse is imported at start-up, so `--help` is instant; each command imports the engine
(and torch) when it runs. Every user-caused failure ends as one sentence on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from mnist_tui import __version__
from mnist_tui.engine.archs import ARCH_INFO
from mnist_tui.engine.config import DEVICES, OPTIMIZERS, SCHEDULERS
from mnist_tui.errors import MnistTuiError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


# --------------------------------------------------------------------------- argument parsing


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr like every other user error."""

    def error(self, message: str) -> Any:
        text = " ".join(message.split())
        self.exit(EXIT_USER_ERROR, f"mnist-tui: {text}; see `{self.prog} --help`.\n")


def _bounded(lo: int, hi: int, what: str) -> Any:
    """An argparse type: an integer in [lo, hi], refused at once otherwise (memory stays small)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be between {lo} and {hi}, not {text}")
        return value

    return parse


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``), so it stays on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("where things are")
    g.add_argument(
        "--data-dir", metavar="DIR", help="data folder (default: $MNIST_TUI_DATA, else per-user)"
    )
    g.add_argument(
        "--dataset", choices=("mnist", "fashion"), default=None, help="data set (default: mnist)"
    )
    g.add_argument(
        "--models-dir",
        metavar="DIR",
        help="model store (default: $MNIST_TUI_MODELS, ./models, else per-user)",
    )
    g.add_argument(
        "--model",
        metavar="NAME|PATH",
        help="a store name or a .safetensors file (default: the active model)",
    )
    g.add_argument(
        "--device", choices=DEVICES, default="auto", help="where to compute (default: auto)"
    )
    # SUPPRESS: a subcommand's default must not undo `mnist-tui --color 256 tui`.
    common.add_argument(
        "--color",
        choices=("truecolor", "256", "16", "none"),
        default=argparse.SUPPRESS,
        help="colour depth of the art and the UI (default: what the terminal advertises)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the TUI is the default when no subcommand is given."""
    common = _common()
    parser = _Parser(
        prog="mnist-tui",
        description="Train, inspect and use a handwritten-digit classifier. "
        "With no command, opens the terminal UI.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"mnist-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser(
        "train",
        parents=[common],
        help="train a model and save it to the store",
        description="Train a network; defaults are the architecture's recipe.",
    )
    t.add_argument(
        "--arch", choices=list(ARCH_INFO), default="fast", help="architecture (default: fast)"
    )
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--lr", type=float, help="(peak) learning rate")
    t.add_argument("--scheduler", choices=SCHEDULERS)
    t.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random affine augmentation of each batch")  # fmt: skip
    t.add_argument(
        "--elastic", type=float, help="elastic distortion strength in pixels (with --augment)"
    )
    t.add_argument("--label-smoothing", type=float)
    t.add_argument("--weight-decay", type=float)
    t.add_argument("--ema", type=float, help="EMA decay of the weights (0 = off)")
    t.add_argument("--seed", type=int)
    t.add_argument("--threads", type=int, help="CPU threads (0 = all cores)")
    t.add_argument(
        "--val-size", type=int, help="validation images held out of training (default 5000)"
    )
    t.add_argument("--name", help="store name for the model (default: ARCH-DATE-TIME)")
    t.add_argument("--resume", metavar="NAME", help="continue a stopped run")
    t.add_argument("--activate", action="store_true", help="make the trained model the active one")
    t.add_argument("--no-download", action="store_true", help="never download the data set")
    t.add_argument("--json", action="store_true", help="print the final metrics as one JSON object")
    t.add_argument(
        "--events", action="store_true", help=argparse.SUPPRESS
    )  # JSON lines for the TUI

    e = sub.add_parser(
        "evaluate", parents=[common], help="test accuracy, per class, confusion matrix"
    )
    e.add_argument("--json", action="store_true", help="print the results as one JSON object")
    e.add_argument("--worst", type=_bounded(0, 1000, "--worst"), default=8,
                   help="how many confident mistakes to list (0-1000)")  # fmt: skip
    e.add_argument("--no-download", action="store_true", help="never download the data set")

    p = sub.add_parser("predict", parents=[common], help="classify image files")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument(
        "--show", action="store_true", help="draw the 28x28 the model saw and all ten bars"
    )
    p.add_argument(
        "--why", action="store_true", help="with --show: also draw which pixels made the answer"
    )

    w = sub.add_parser(
        "weights", parents=[common], help="print first-layer filters as half-block art"
    )
    w.add_argument("--ascii", action="store_true", help="plain characters instead of colour blocks")
    w.add_argument("--per-filter", action="store_true", help="scale each filter to its own range")
    w.add_argument("--scale", type=_bounded(1, 64, "--scale"),
                   help="pixels per weight, 1-64 (default: fit the terminal)")  # fmt: skip

    m = sub.add_parser("models", parents=[common], help="list the model store (or manage it)")
    m.add_argument("--json", action="store_true", help="one JSON object per model")
    msub = m.add_subparsers(dest="action", metavar="ACTION")
    msub.add_parser("list", help="list models (the default)")
    a = msub.add_parser("activate", help="make a model the default for predict/weights/evaluate")
    a.add_argument("name")
    r = msub.add_parser("rename", help="rename a model")
    r.add_argument("old")
    r.add_argument("new")
    d = msub.add_parser("delete", help="delete a model")
    d.add_argument("name")

    sub.add_parser("tui", parents=[common], help="open the terminal UI (the default)")
    return parser


# --------------------------------------------------------------------------- helpers


def _store(args: argparse.Namespace):  # noqa: ANN202 - engine type imported lazily
    from mnist_tui.engine.store import ModelStore

    return ModelStore(args.models_dir)


def _load_model(args: argparse.Namespace):  # noqa: ANN202
    store = _store(args)
    return store.load(args.model or store.default_model(), device=args.device)


class _Progress:
    """A one-line progress bar on a terminal; plain lines when piped."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = 0.0

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind == "status":
            self._line(event.message)
        elif kind == "download":
            if self.tty and time.monotonic() - self.last > 0.1:
                self.last = time.monotonic()
                total = f"/{event.total / 1e6:.1f}" if event.total else ""
                self._bar(f"{event.file} {event.done / 1e6:.1f}{total} MB")
        elif kind == "batch" and self.tty:
            frac = event.batch / event.batches
            width = 24
            filled = int(frac * width)
            bar = "█" * filled + "░" * (width - filled)
            eta = f"{event.eta_s:4.0f}s" if event.eta_s != float("inf") else "  ?"
            self._bar(
                f"epoch {event.epoch}/{event.epochs} {bar} loss {event.loss:.4f}"
                f" {event.images_per_s:,.0f} img/s ETA {eta}"
            )
        elif kind == "epoch":
            val = (
                "no validation split"
                if math.isnan(event.val_acc)
                else f"val loss {event.val_loss:.4f} acc {event.val_acc:.2%}"
            )
            self._line(
                f"epoch {event.epoch}/{event.epochs}: train loss {event.train_loss:.4f}"
                f" acc {event.train_acc:.2%} · {val} · {event.elapsed_s:.1f}s"
            )

    def _bar(self, text: str) -> None:
        self._write("\r\x1b[2K" + text)

    def _line(self, text: str) -> None:
        self._write(("\r\x1b[2K" if self.tty else "") + text + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:
            pass  # the terminal hung up: training goes on to keep its last epoch


class _StopFlag:
    """First Ctrl+C (or SIGTERM, or SIGHUP from a dropped SSH session) asks the run to stop after
    the current batch, keeping the last completed epoch; a second one aborts."""

    def __init__(self) -> None:
        self.stopped = False

    def __call__(self) -> bool:
        return self.stopped

    def install(self) -> None:
        def handler(sig: int, _frame: object) -> None:
            if self.stopped and sig != getattr(signal, "SIGHUP", None):
                raise KeyboardInterrupt
            self.stopped = True
            why = {
                signal.SIGINT: "Ctrl+C",
                getattr(signal, "SIGTERM", None): "SIGTERM",
                getattr(signal, "SIGHUP", None): "hang-up (the terminal went away)",
            }.get(sig, "a signal")
            try:
                sys.stderr.write(
                    f"\nStopping after this batch on {why}; the last completed epoch is kept"
                    " (Ctrl+C again to abort)...\n"
                )
                sys.stderr.flush()
            except (OSError, ValueError):
                pass  # no terminal left to tell: the outcome still goes to stdout and the store

        signal.signal(signal.SIGINT, handler)
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), handler)


# --------------------------------------------------------------------------- commands


def cmd_train(args: argparse.Namespace) -> int:
    stop = _StopFlag()
    stop.install()  # before torch's slow import, so an early Ctrl+C is a clean stop too
    from mnist_tui.engine.config import recipe

    cfg = recipe(args.arch).with_(
        dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, lr=args.lr, scheduler=args.scheduler, augment=args.augment,
        elastic=args.elastic,
        label_smoothing=args.label_smoothing, weight_decay=args.weight_decay, ema=args.ema,
        seed=args.seed, device=args.device, threads=args.threads, val_size=args.val_size,
    )  # fmt: skip
    from mnist_tui.engine.runs import run_training

    if args.events:

        def on_event(event: Any) -> None:
            try:
                print(json.dumps({**event.__dict__}), flush=True)
            except (BrokenPipeError, ValueError):
                # The UI reading us has gone (it crashed): train on unread, saving each epoch.
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the run
    elif args.json:
        on_event = _Progress() if sys.stderr.isatty() else None
    else:
        on_event = _Progress()
    store = _store(args)
    outcome = run_training(
        cfg, store=store, data_dir=args.data_dir, name=args.name, resume=args.resume,
        on_event=on_event, should_stop=stop, download=not args.no_download,
    )  # fmt: skip
    if args.activate and outcome.name and not outcome.result.cancelled:
        store.set_active(outcome.name)
    if args.json or args.events:
        print(
            json.dumps({"kind": "done", **outcome.to_dict()} if args.events else outcome.to_dict())
        )
    else:
        print(outcome.message)
    return EXIT_INTERRUPTED if outcome.result.cancelled else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.evaluate import evaluate

    loaded = _load_model(args)
    dataset = args.dataset or loaded.info.dataset
    data = load_dataset(dataset, args.data_dir, val_size=0, download=not args.no_download)
    result = evaluate(
        loaded.model, data.test, loaded.info.mean, loaded.info.std, worst=args.worst,
        temperature=loaded.temperature,
    )  # fmt: skip
    if args.json:
        print(json.dumps({"model": loaded.info.name, "dataset": dataset, **result.to_dict()}))
        return 0
    labels = data.spec.classes
    print(f"{loaded.info.name} on the {data.spec.title} test set ({result.count:,} images)")
    print(f"accuracy {result.accuracy:.2%}   loss {result.loss:.4f}")
    print(
        "per class: "
        + "  ".join(f"{labels[c][:6]} {a:.1%}" for c, a in enumerate(result.per_class))
    )
    print("confusion (rows: true, columns: predicted)")
    print("      " + "".join(f"{c:>6}" for c in range(10)))
    for t in range(10):
        print(f"{t:>6}" + "".join(f"{int(v):>6}" for v in result.confusion[t]))
    if result.worst:
        mistakes = (
            f"#{m.index} {labels[m.true]}→{labels[m.predicted]} ({m.confidence:.0%})"
            for m in result.worst
        )
        print("most confident mistakes: " + ", ".join(mistakes))
    _print_reliability(result, loaded.info.calibration)
    return 0


def _print_reliability(result: Any, calibration: Any) -> None:
    from rich.console import Console

    from mnist_tui.render.reliability import reliability_diagram

    rel = result.reliability
    if rel is None:
        return
    console = Console(highlight=False)
    before = (
        f" (uncalibrated: {result.ece_uncalibrated:.2%})"
        if calibration.calibrated and result.ece_uncalibrated is not None
        else ""
    )
    print(f"calibration: {calibration.describe()}; ECE {rel.ece:.2%}{before}")
    for line in reliability_diagram(
        rel.edges, rel.counts, rel.confidence, rel.accuracy, rel.ece, ascii=_no_color()
    ):
        console.print(line, no_wrap=True, crop=True)


def cmd_predict(args: argparse.Namespace) -> int:
    from mnist_tui.engine.predict import read_number_path

    loaded = _load_model(args)
    failed = 0
    for path in args.paths:
        try:
            reading = read_number_path(loaded, path)
        except MnistTuiError as exc:
            failed += 1
            if args.json:
                print(json.dumps({"path": path, "error": str(exc)}), flush=True)
            else:
                print(f"mnist-tui: {printable(str(exc))}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(reading.to_dict()), flush=True)
            continue
        shown = printable(path)  # one line per image whatever the file name
        if reading.is_number:
            _print_number(shown, reading, args.show or args.why, loaded if args.why else None)
            continue
        pred = reading.digits[0]
        if pred.rejected:
            line = f"{shown}: not a digit (looks most like {pred.guess_label}, guess)"
        elif pred.found:
            line = f"{shown}: {pred.label} ({pred.confidence:.1%})"
        else:
            line = f"{shown}: no digit found"
        note = pred.message and pred.found and not pred.rejected
        print(line + (f" - {pred.message}" if note else ""))
        if args.show or args.why:
            _show_prediction(pred, loaded if args.why else None)
    return 1 if failed else 0


def _print_number(path: str, reading: Any, show: bool, why: Any = None) -> None:
    """A number: the number, then each digit with its confidence (and its art with --show)."""
    each = ", ".join(
        f"{d.label} {d.confidence:.0%}" if d.digit is not None else f"{d.guess_label}? not a digit"
        for d in reading.digits
    )
    line = f"{path}: {reading.number or 'not read'} ({len(reading.digits)} digits: {each})"
    print(line + (f" - {reading.message}" if reading.message else ""))
    if show:
        for pred in reading.digits:
            _show_prediction(pred, why)


def _show_prediction(pred: Any, why: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from mnist_tui import render

    depth = render.current_depth()
    console = Console(highlight=False, color_system=render.rich_color_system(depth))  # type: ignore[arg-type]
    ascii_mode = _no_color()
    art = _join(render.ascii_image(pred.pixels) if ascii_mode else render.gray_image(pred.pixels))
    bars = _join(
        render.probability_bars(pred.probabilities, labels=list(pred.labels), ascii=ascii_mode)
    )
    if why is not None and pred.guess is not None:
        from mnist_tui.engine.saliency import saliency
        from mnist_tui.render.saliency import saliency_caption, saliency_image

        sal = saliency(why, pred.pixels, pred.guess)
        art = _join(
            [*saliency_image(pred.pixels, sal, ascii=ascii_mode),
             *saliency_caption(pred.guess_label, ascii=ascii_mode)]
        )  # fmt: skip
    widths = [max((line.cell_len for line in t.split()), default=0) for t in (art, bars)]
    if console.width >= sum(widths) + 3:
        grid = Table.grid(padding=(0, 3))
        grid.add_row(art, bars)
        console.print(grid)
    else:  # too narrow for both side by side: the picture, then the bars
        console.print(art, no_wrap=True, crop=True)
        console.print(bars, no_wrap=True, crop=True)


def _join(lines: Any) -> Any:
    from rich.text import Text

    if isinstance(lines, Text):
        return lines
    return Text("\n").join(Text(line) if isinstance(line, str) else line for line in lines)


def _no_color() -> bool:
    """Whether art on stdout is plain ASCII (the depth chosen by ``_use_art_depth``)."""
    from mnist_tui import render

    return render.current_depth() == "none"


def _use_art_depth(args: argparse.Namespace) -> Any:
    """The colour depth for art on stdout (``--color``, else the terminal's; none when piped or
    when the locale cannot show half-blocks), made the depth every render call draws for."""
    from mnist_tui import render

    choice = getattr(args, "color", None)
    depth = render.resolve_depth(choice, os.environ, sys.stdout.isatty())
    if choice is None and not render.utf8_locale():
        depth = "none"
    render.use_depth(depth)
    return depth


def cmd_weights(args: argparse.Namespace) -> int:
    import shutil

    from rich.console import Console

    from mnist_tui import render
    from mnist_tui.engine.inspect import first_layer_filters

    loaded = _load_model(args)
    filters = first_layer_filters(loaded.model)
    depth = render.current_depth()
    ascii_mode = args.ascii or depth == "none"
    width = shutil.get_terminal_size((80, 24)).columns
    console = Console(highlight=False, width=width, color_system=render.rich_color_system(depth))  # type: ignore[arg-type]
    n, kh, kw = filters.shape
    console.print(
        f"{loaded.info.name} · {loaded.info.arch} · first layer: {n} filters of {kh}×{kw}"
        f" · {'per-filter' if args.per_filter else 'shared'} scale"
    )
    for line in render.filter_grid(
        filters, per_filter_scale=args.per_filter, ascii=ascii_mode, max_width=width,
        scale=args.scale,
    ):  # fmt: skip
        console.print(line)
    vmax = float(abs(filters).max()) if filters.size else 0.0
    for line in render.legend(vmax, width=min(width, 60), ascii=ascii_mode):
        console.print(line)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.action == "activate":
        store.set_active(store.info(args.name).name)
        print(f"{args.name} is now the active model.")
        return 0
    if args.action == "rename":
        store.rename(args.old, args.new)
        print(f"Renamed {args.old} to {args.new}.")
        return 0
    if args.action == "delete":
        store.delete(args.name)
        print(f"Deleted {args.name}.")
        return 0
    infos = store.list()
    active = store.active_name() or "default"
    if args.json:
        for i in infos:
            print(json.dumps({
                "name": i.name, "arch": i.arch, "params": i.params, "dataset": i.dataset,
                "val_acc": i.val_acc, "test_acc": i.test_acc, "created": i.created,
                "epochs_done": i.epochs_done, "epochs": i.epochs, "complete": i.complete,
                "shipped": i.shipped, "active": i.name == active, "path": str(i.path),
                "error": i.error, "calibration": i.calibration.to_dict(),
            }))  # fmt: skip
        return 0
    print(f"store: {store.root}")
    if not infos:
        print("(empty) - train one with: mnist-tui train")
    print(f"  {'name':<28} {'arch':<8} {'params':>9} {'val':>7} {'test':>7}  {'data':<7} created")
    for i in infos:
        mark = "*" if i.name == active else " "
        if i.error:
            print(f"{mark} {i.name:<28} unusable: {i.error}")
            continue
        val = f"{i.val_acc:.2%}" if i.val_acc is not None else "-"
        test = f"{i.test_acc:.2%}" if i.test_acc is not None else "-"
        state = "" if i.complete else f"  (stopped at epoch {i.epochs_done}/{i.epochs})"
        ship = "  (shipped)" if i.shipped else ""
        cal = i.calibration
        cal_text = f"  T={cal.temperature:.3g}" if cal.calibrated else "  uncalibrated (T=1)"
        print(
            f"{mark} {i.name:<28} {i.arch:<8} {i.params:>9,} {val:>7} {test:>7}  {i.dataset:<7}"
            f" {i.created[:16].replace('T', ' ')}{state}{ship}{cal_text}"
        )
    return 0


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from mnist_tui.tui.app import run_app
    except ImportError:
        print("The terminal UI is not built yet; use the subcommands (see mnist-tui --help).",
              file=sys.stderr)  # fmt: skip
        return EXIT_USER_ERROR
    return run_app(
        data_dir=args.data_dir, models_dir=args.models_dir, dataset=args.dataset or "mnist",
        model=args.model, device=args.device, color=getattr(args, "color", None),
    )  # fmt: skip


COMMANDS = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "weights": cmd_weights,
    "models": cmd_models,
    "tui": cmd_tui,
    None: cmd_tui,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mnist-tui` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command not in (None, "tui"):
        _use_art_depth(args)
    try:
        return COMMANDS[args.command](args)
    except MnistTuiError as exc:
        print(f"mnist-tui: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("mnist-tui: interrupted; nothing already saved was changed.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except MemoryError:
        print("mnist-tui: out of memory; use a smaller --batch-size or close other programs.",
              file=sys.stderr)  # fmt: skip
        return 1
    except Exception as exc:  # a bug, not a user error: one line, the traceback on request
        if os.environ.get("MNIST_TUI_DEBUG"):
            raise
        print(f"mnist-tui: internal error ({type(exc).__name__}: {exc}); set MNIST_TUI_DEBUG=1"
              " for the traceback and please report it.", file=sys.stderr)  # fmt: skip
        return 1


def entry() -> None:
    """The `mnist-tui` console script: run, then leave at once.

    Once torch is loaded, an ordinary interpreter exit spends 0.5-1.5 s tearing its libraries
    down; everything worth keeping is already written (atomically, fsynced), so skip that.
    """
    code = main()
    if "torch" in sys.modules:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
