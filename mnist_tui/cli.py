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
from mnist_tui.engine.config import DEVICES
from mnist_tui.errors import ImageError, MnistTuiError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
RECENT_RUNS = 10  # ended runs `mnist-tui runs` lists without --all


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


def _common(suppress: bool = False) -> argparse.ArgumentParser:
    """The options every command takes; ``suppress`` for actions under a command, so their
    unset options never overwrite the ones given before the action."""
    common = argparse.ArgumentParser(add_help=False, argument_default=(
        argparse.SUPPRESS if suppress else None))  # fmt: skip
    g = common.add_argument_group("where things are")
    g.add_argument(
        "--data-dir", metavar="DIR", help="data folder (default: $MNIST_TUI_DATA, else per-user)"
    )
    g.add_argument("--dataset", choices=("mnist", "fashion"), help="data set (default: mnist)")
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
        "--device", choices=DEVICES, default=argparse.SUPPRESS if suppress else "auto",
        help="where to compute (default: auto)",
    )  # fmt: skip
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
    # A command's own copy of the options is suppressed: unset there, it never overwrites what
    # was given before the command (`mnist-tui --dataset fashion predict x.png`).
    common = _common(suppress=True)
    parser = _Parser(
        prog="mnist-tui",
        description="Train, inspect and use a handwritten-digit classifier. "
        "With no command, opens the terminal UI.",
        parents=[_common()],
    )
    parser.add_argument("--version", action="version", version=f"mnist-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser(
        "train",
        parents=[common],
        help="train a model and save it to the store",
        description="Train a network; defaults are the architecture's recipe.",
    )
    add_config_flags(t)
    t.add_argument("--name", help="store name for the model (default: ARCH-DATE-TIME)")
    t.add_argument("--resume", metavar="NAME", help="continue a stopped run")
    t.add_argument("--activate", action="store_true", help="make the trained model the active one")
    t.add_argument("--no-download", action="store_true", help="never download the data set")
    t.add_argument("--json", action="store_true", help="print the final metrics as one JSON object")
    t.add_argument(
        "--events", action="store_true", help=argparse.SUPPRESS
    )  # JSON lines for the TUI
    t.add_argument("--config-json", help=argparse.SUPPRESS)  # a whole config as JSON
    t.add_argument("--run", metavar="NAME", help=argparse.SUPPRESS)  # be the store's run NAME
    t.add_argument(
        "--ensemble",
        type=_bounded(2, 16, "--ensemble"),
        metavar="N",
        help="train N members (seeds S..S+N-1, saved as NAME-m1...) and save them as one"
        " ensemble NAME that averages their answers (2-16)",
    )
    t.add_argument(
        "--detach",
        action="store_true",
        help="train in the background (survives closing the terminal); queued behind a running"
        " run; follow it with `mnist-tui runs watch NAME`",
    )

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
    # Every action takes the common options after it too (`models rename a b --models-dir D`).
    inner = _common(suppress=True)
    msub.add_parser("list", parents=[inner], help="list models (the default)")
    a = msub.add_parser(
        "activate", parents=[inner], help="make a model the default for predict/weights/evaluate"
    )
    a.add_argument("name")
    r = msub.add_parser("rename", parents=[inner], help="rename a model")
    r.add_argument("old")
    r.add_argument("new")
    d = msub.add_parser("delete", parents=[inner], help="delete a model")
    d.add_argument("name")
    en = msub.add_parser(
        "ensemble",
        parents=[inner],
        help="save 2-16 finished models of one data set as one ensemble that averages them",
    )
    en.add_argument("name", help="store name for the ensemble")
    en.add_argument("members", nargs="+", metavar="MEMBER")
    en.add_argument("--no-download", action="store_true", help="never download the data set")

    x = msub.add_parser(
        "export", parents=[inner], help="write a model's per-epoch history as CSV or JSON"
    )
    x.add_argument("name")
    fmt = x.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", action="store_true", help="comma-separated, one row per epoch")
    fmt.add_argument("--json", dest="export_json", action="store_true", help="one JSON document")
    x.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")

    rn = sub.add_parser(
        "runs", parents=[common], help="runs: running, queued and recent (or watch/stop/reorder)"
    )
    rn.add_argument("--json", action="store_true", help="one JSON object per run")
    rn.add_argument("--all", action="store_true", help="every ended run, not only the 10 newest")
    rsub = rn.add_subparsers(dest="action", metavar="ACTION")
    rsub.add_parser("list", parents=[inner], help="running, queued and recent runs (the default)")
    rw = rsub.add_parser("watch", parents=[inner], help="print a run's progress live until it ends")
    rw.add_argument("name")
    rs = rsub.add_parser(
        "stop", parents=[inner], help="stop a run (keeps its last epoch) or cancel a queued one"
    )
    rs.add_argument("name")
    for verb, what in (("up", "sooner"), ("down", "later")):
        rm = rsub.add_parser(verb, parents=[inner], help=f"move a queued run one place {what}")
        rm.add_argument("name")

    c = sub.add_parser(
        "compare", parents=[common], help="compare 2-8 models: settings, best epoch, accuracy"
    )
    c.add_argument("names", nargs="+", metavar="NAME")
    c.add_argument("--json", action="store_true", help="print the comparison as one JSON object")

    sub.add_parser("tui", parents=[common], help="open the terminal UI (the default)")
    return parser


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, derived from its declared Setting (no default: unset
    flags keep the architecture's recipe). Fields the common options already give are skipped."""
    from dataclasses import fields

    from mnist_tui.engine.config import TrainConfig, setting

    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if flag in parser._option_string_actions:  # --dataset, --device: common options
            continue
        s = setting(f)
        if f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=s.help)  # fmt: skip
            continue
        kind = {"int": int, "float": float}.get(str(f.type), str)
        parser.add_argument(
            flag, type=kind, choices=list(s.choices) if s.choices else None, default=None,
            help=s.help + (f" ({s.rule})" if s.rule else "")
            + (" (default: fast; its recipe for the data set)" if f.name == "arch" else ""),
        )  # fmt: skip


def config_from_args(args: argparse.Namespace) -> Any:
    """The TrainConfig a `train` command line asks for: the recipe, then every flag given."""
    from dataclasses import fields

    from mnist_tui.engine.config import TrainConfig, recipe

    if getattr(args, "config_json", None):
        return TrainConfig.from_json(args.config_json)
    given = {f.name: getattr(args, f.name, None) for f in fields(TrainConfig)}
    # The recipe names the network: `fast` on Fashion-MNIST is the full-frame `fastfull`.
    given["arch"] = None
    return recipe(args.arch or "fast", args.dataset or "mnist").with_(**given)


# --------------------------------------------------------------------------- helpers


def _store(args: argparse.Namespace):  # noqa: ANN202 - engine type imported lazily
    from mnist_tui.engine.store import ModelStore

    return ModelStore(args.models_dir)


def _load_model(args: argparse.Namespace):  # noqa: ANN202
    store = _store(args)
    return store.load(args.model or store.default_model(args.dataset), device=args.device)


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
    if args.run:
        return _run_process(args, stop)
    cfg = config_from_args(args)
    if args.ensemble:
        return _train_ensemble(args, cfg, stop)
    if args.detach:
        return _train_detached(args, cfg)
    from mnist_tui.engine.events import to_json
    from mnist_tui.engine.runs import run_training

    if args.events:

        def on_event(event: Any) -> None:
            try:
                print(to_json(event), flush=True)
            except (BrokenPipeError, ValueError):
                # The reader has gone (it crashed): train on unread, saving each epoch.
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
    if args.events:
        print(to_json(outcome.to_event()), flush=True)
    elif args.json:
        print(json.dumps(outcome.to_dict()))
    else:
        print(outcome.message)
    return EXIT_INTERRUPTED if outcome.result.cancelled else 0


def _train_ensemble(args: argparse.Namespace, cfg: Any, stop: Any) -> int:
    from mnist_tui.engine.ensemble import train_ensemble

    for flag, given in (("--detach", args.detach), ("--resume", args.resume),
                        ("--events", args.events)):  # fmt: skip
        if given:
            raise MnistTuiError(
                f"--ensemble trains in the foreground and does not go with {flag}; resume a"
                " stopped member with --resume NAME-mK, then combine with: mnist-tui models"
                " ensemble NAME MEMBER..."
            )
    store = _store(args)
    info, message = train_ensemble(
        cfg, args.ensemble, store=store, name=args.name, data_dir=args.data_dir,
        on_event=None if args.json and not sys.stderr.isatty() else _Progress(),
        should_stop=stop, download=not args.no_download,
    )  # fmt: skip
    if info is not None and args.activate:
        store.set_active(info.name)
    if args.json:
        print(json.dumps({
            "name": info.name if info else None, "members": [m.name for m in info.members]
            if info else [], "test_acc": info.test_acc if info else None, "message": message,
        }))  # fmt: skip
    else:
        print(message)
    return 0 if info is not None else EXIT_INTERRUPTED


def _train_detached(args: argparse.Namespace, cfg: Any) -> int:
    from mnist_tui.engine.jobs import submit_run

    if args.activate:
        raise MnistTuiError(
            "--activate does not go with --detach; when the run has finished, use:"
            " mnist-tui models activate NAME."
        )

    state = submit_run(
        _store(args), cfg, name=args.name, resume=args.resume, data_dir=args.data_dir,
        download=not args.no_download,
    )  # fmt: skip
    if args.json:
        print(json.dumps(state.to_dict()))
    elif state.status == "running":
        print(f"Started {state.name} in the background (pid {state.pid}); follow it with:"
              f" mnist-tui runs watch {state.name}")  # fmt: skip
    else:
        print(f"Queued {state.name} (#{state.position}); it starts when the run before it ends."
              f" See: mnist-tui runs")  # fmt: skip
    return 0


def _run_process(args: argparse.Namespace, stop: _StopFlag) -> int:
    """Be the detached run process of a queued run: its config comes from the store's state."""
    # A closed terminal must not end a run that belongs to the store.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    from mnist_tui.engine.config import TrainConfig
    from mnist_tui.engine.jobs import Runs
    from mnist_tui.engine.runs import run_training

    store = _store(args)
    runs = Runs(store.root)
    state = runs.get(args.run)
    if state is None:
        print(f"mnist-tui: no run named {args.run!r} in {store.root}.", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        cfg = TrainConfig.from_json(json.dumps(state.config))
        run_training(
            cfg, store=store, data_dir=state.data_dir, name=None if state.resume else state.name,
            resume=state.name if state.resume else None, should_stop=stop,
            download=state.download, detached=True,
        )  # fmt: skip
    except MnistTuiError:
        # run_training logged the sentence; a failure before its claim still frees the queue
        current = runs.get(args.run)
        if current is not None and current.status == "running" and current.pid == os.getpid():
            runs.finish(args.run, "failed", "could not start")
        raise
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.evaluate import evaluate

    loaded = _load_model(args)
    dataset = args.dataset or loaded.info.dataset
    data = load_dataset(dataset, args.data_dir, val_size=0, download=not args.no_download)
    result = evaluate(
        loaded.classifier, data.test, loaded.info.mean, loaded.info.std, worst=args.worst,
        temperature=loaded.temperature,
    )  # fmt: skip
    if args.json:
        print(json.dumps({"model": loaded.info.name, "dataset": dataset, **result.to_dict()}))
        return 0
    labels = data.spec.classes
    print(f"{loaded.info.name} on the {data.spec.title} test set ({result.count:,} images)")
    print(f"accuracy {result.accuracy:.2%}   loss {result.loss:.4f}")
    print("per class: " + "  ".join(f"{labels[c]} {a:.1%}" for c, a in enumerate(result.per_class)))
    if labels[0] != "0":  # the confusion matrix's columns are numbered: name them once
        print("classes: " + "  ".join(f"{c}={name}" for c, name in enumerate(labels)))
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
    stdin_read = False
    for path in args.paths:
        try:
            if path == STDIN:
                first, stdin_read = not stdin_read, True
                reading = _read_stdin(loaded, first)
            else:
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
            line = f"{shown}: no {pred.noun} found"
        note = pred.message and pred.found and not pred.rejected
        print(line + (f" - {pred.message}" if note else ""))
        if args.show or args.why:
            _show_prediction(pred, loaded if args.why else None)
    return 1 if failed else 0


# `predict -` reads the picture from standard input: `ssh server mnist-tui predict - < a.jpg`
# classifies a photo on the user's own machine with the server's model, with no copy first.
STDIN = "-"


def _read_stdin(loaded: Any, first: bool) -> Any:
    """Read the picture piped into standard input and read it as :func:`read_number`."""
    from mnist_tui.engine.imageio import load_image_stream
    from mnist_tui.engine.predict import read_number

    shown = "from standard input"
    if not first:
        raise ImageError(f"Cannot open image {shown} twice: give - once per command.")
    if sys.stdin is None or sys.stdin.isatty():
        raise ImageError(
            f"Cannot open image {shown}: nothing is piped in (- reads a picture from standard"
            " input); pipe one in, as in mnist-tui predict - < photo.jpg."
        )
    return read_number(loaded, load_image_stream(sys.stdin.buffer, shown), STDIN)


def _print_number(path: str, reading: Any, show: bool, why: Any = None) -> None:
    """A number: the number, then each digit with its confidence (and its art with --show)."""
    each = ", ".join(
        f"{d.label} {d.confidence:.0%}" if d.digit is not None else f"{d.guess_label}? not a digit"
        for d in reading.digits
    )
    line = f"{path}: {reading.number or 'not read'} ({len(reading.digits)} {reading.unit}: {each})"
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
        f"{loaded.info.name} · {loaded.info.arch_label}"
        f"{', member 1' if loaded.info.members else ''} · first layer: {n} filters of {kh}×{kw}"
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
    if args.action == "export":
        return _export(args)
    if args.action == "ensemble":
        from mnist_tui.engine.data import load_dataset
        from mnist_tui.engine.ensemble import combine

        def test_set(key: str) -> Any:  # only the test set is used
            return load_dataset(key, args.data_dir, val_size=0, download=not args.no_download)

        info = combine(store, args.name, args.members, test_set)
        print(f"Saved {info.name}: {len(info.members)}-member ensemble, {info.test_acc:.2%} test"
              " accuracy.")  # fmt: skip
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
                "members": [m.name for m in i.members],
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
            f"{mark} {i.name:<28} {i.arch_label:<8} {i.params:>9,} {val:>7} {test:>7}"
            f"  {i.dataset:<7}"
            f" {i.created[:16].replace('T', ' ')}{state}{ship}{cal_text}"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    from mnist_tui.engine.compare import history_csv, history_json, summarize

    summary = summarize(_store(args), args.name)
    text = history_csv(summary) if args.csv else history_json(summary) + "\n"
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise MnistTuiError(f"Could not write {args.output}: {exc.strerror or exc}.") from None
    print(f"Wrote {len(summary.history)} epochs of {args.name} to {args.output}.")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from mnist_tui.engine.jobs import Runs

    runs = Runs(_store(args).root)
    if args.action == "stop":
        print(runs.stop(args.name))
        return 0
    if args.action in ("up", "down"):
        place = runs.move(args.name, -1 if args.action == "up" else 1)
        print(f"{args.name} is now #{place} in the queue.")
        return 0
    if args.action == "watch":
        return _watch(runs, args.name)
    runs.start_next()  # a queue left behind by a killed run starts again here
    states = runs.list()
    ended = [st for st in states if not st.active]
    if not args.all and len(ended) > RECENT_RUNS:
        states = [st for st in states if st.active] + ended[:RECENT_RUNS]
    if args.json:
        for st in states:
            print(json.dumps(st.to_dict()))
        return 0
    if not states:
        print(f"No runs in {runs.root}; start one with: mnist-tui train --detach")
        return 0
    print(f"  {'name':<28} {'state':<10} {'arch':<8} {'epochs':>6}  note")
    for st in states:
        state = "stopping" if st.stopping else st.status
        if st.status == "queued":
            state = f"queued #{st.position}"
        note = st.message if not st.active else (f"pid {st.pid}" if st.pid else "")
        if st.status == "running":
            note = f"epoch {runs.epochs_done(st.name)} done · {note}"
        print(f"  {st.name:<28} {state:<10} {st.config.get('arch', '?'):<8}"
              f" {st.config.get('epochs', '?'):>6}  {note[:60]}")  # fmt: skip
    return 0


def _watch(runs: Any, name: str) -> int:
    """Follow a run's log: a bar on a terminal, plain lines when piped; Ctrl+C only detaches."""
    from mnist_tui.engine.events import RunFailed, RunFinished, RunStarted

    if runs.get(name) is None and not runs.log_path(name).exists():
        raise MnistTuiError(f"No run named {name!r} in {runs.root}; see `mnist-tui runs`.")
    progress = _Progress(sys.stdout)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    state = runs.get(name)
    if state is not None and state.status == "queued":
        progress._line(f"{name} is queued (#{state.position}); waiting for it to start...")
    try:
        for event in runs.follow(name):
            if event is None:
                continue
            if isinstance(event, RunStarted):
                progress._line(f"run {event.name} started (pid {event.pid})")
            elif isinstance(event, RunFinished):
                progress._line(event.message)
                return EXIT_INTERRUPTED if event.cancelled else 0
            elif isinstance(event, RunFailed):
                progress._line(f"mnist-tui: {event.message}")
                return 1
            else:
                progress(event)
    except KeyboardInterrupt:
        progress._line(
            f"Stopped watching; {name} goes on (stop it with: mnist-tui runs stop {name})."
        )
        return 0
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from mnist_tui.engine.compare import compare

    result = compare(_store(args), args.names)
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    names, rows = result.table()
    width = max(10, *(len(n) for n in names))
    print(f"  {'':<16}" + "".join(f" {n:>{width}}" for n in names))
    for label, cells, differs in rows:
        mark = "*" if differs else " "
        print(f"{mark} {label:<16}" + "".join(f" {c:>{width}}" for c in cells))
    if result.differing:
        print("* differs between the runs")
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
    "runs": cmd_runs,
    "compare": cmd_compare,
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
