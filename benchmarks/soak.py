"""Soak test: train in the TUI while resizing the terminal and switching screens; memory stays flat.

Drives the real app through Textual's Pilot (headless). It opens the Train screen and starts a run
in its child process, as a user would; then, every ``--interval`` seconds until the run ends, it
resizes the terminal to a random size and walks through the other menu screens (weights, predict,
evaluate, models, browse, draw): it pushes one with ``app.open_screen``, presses a few of its keys,
and goes back to the Train screen with Escape, which stays on the stack the whole time (Escape is
never pressed on the Train screen itself while training: there it stops the run). A thread samples
the UI process's RSS and thread count, and the training child's RSS, every second.

Passes (exit status 0) when the app never crashed and still answers keys, the run completed and
its model is in the store and loads, and the UI's memory is flat: the median RSS of the last third
of the run (after a warm-up: one visit to every screen, torch and the data loaded) is at most
``--max-growth-pct`` per cent and ``--max-growth-mb`` MB above the median of the first third.
Before the app starts, a tiny seed model is trained on 2,000 images in a child process, so the
screens that need a model have one (``--no-seed-model`` to skip).

Not part of the default test run (``tests/tui/test_soak.py`` is marked slow). Example:

    python benchmarks/soak.py --data-dir ../shared/data --epochs 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SIZES: tuple[tuple[int, int], ...] = ((80, 24), (100, 30), (160, 50), (60, 20), (200, 60))
VISITED: tuple[str, ...] = ("weights", "predict", "evaluate", "models", "browse", "draw")
# Keys pressed on each visited screen (a few, at random); none opens a modal that waits for input.
KEYS: dict[str, tuple[str, ...]] = {
    "weights": ("p", "t", "down", "up"),
    "predict": ("tab",),  # plus a real prediction: a path typed into the field and Enter
    "evaluate": ("t", "r", "down", "pagedown"),
    "models": ("down", "up", "end", "home"),
    "browse": ("n", "p", "3", "asterisk", "s", "right", "down", "a"),
    "draw": ("space", "right", "down", "left", "up", "space", "u", "c", "a"),
}
SEED_SCRIPT = r"""
import dataclasses, sys
from mnist_tui.engine.config import TrainConfig
from mnist_tui.engine.data import Split, load_dataset
from mnist_tui.engine.runs import run_training
from mnist_tui.engine.store import ModelStore
data_dir, models_dir, val_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
cut = lambda s, n: Split(s.images[:n], s.labels[:n])
d = load_dataset("mnist", data_dir, val_size=val_size, download=False)
d = dataclasses.replace(d, train=cut(d.train, 2000), val=cut(d.val, 500), test=cut(d.test, 1000))
store = ModelStore(models_dir)
cfg = TrainConfig(arch="fast", epochs=1, batch_size=64, lr=3e-3, val_size=val_size, threads=1)
run_training(cfg, store=store, data_dir=data_dir, name="soak-seed", download=False, data=d)
store.set_active("soak-seed")
"""


@dataclass
class Sample:
    """One sample of the UI process (and the training child, while it runs)."""

    t: float
    rss_mb: float
    threads: int
    child_rss_mb: float | None


@dataclass
class Report:
    """What the soak saw; ``failures`` empty means it passed."""

    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    resizes: int = 0
    switches: int = 0
    keys: int = 0
    warm_end: float | None = None
    run_end: float | None = None
    duration_s: float = 0.0
    model: str | None = None
    result_text: str = ""


def _status_fields(pid: int | str = "self") -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        pass
    return fields


def _kb_to_mb(value: str | None) -> float | None:
    if not value:
        return None
    return int(value.split()[0]) / 1024


class Sampler(threading.Thread):
    """Samples the UI's RSS and thread count (and the child's RSS) every ``period`` seconds."""

    def __init__(self, report: Report, t0: float, period: float = 1.0) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self.report = report
        self.t0 = t0
        self.period = period
        self.child_pid: int | None = None
        self.halt = threading.Event()

    def sample(self) -> None:
        own = _status_fields()
        child = _status_fields(self.child_pid) if self.child_pid else {}
        self.report.samples.append(
            Sample(
                t=time.monotonic() - self.t0,
                rss_mb=_kb_to_mb(own.get("VmRSS")) or 0.0,
                threads=int(own.get("Threads", "0")),
                child_rss_mb=_kb_to_mb(child.get("VmRSS")),
            )
        )

    def run(self) -> None:
        while not self.halt.wait(self.period):
            self.sample()


def seed_model(data_dir: str, models_dir: str, val_size: int) -> None:
    """Train a tiny active model in a child process, so model screens have something to show."""
    subprocess.run(
        [sys.executable, "-c", SEED_SCRIPT, data_dir, models_dir, str(val_size)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip


def write_digit_png(path: Path) -> None:
    """A hand-drawn-looking "7" for the Predict screen."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (120, 120), 255)
    draw = ImageDraw.Draw(img)
    draw.line([(25, 25), (95, 25), (50, 105)], fill=0, width=12)
    img.save(path)


async def _back_to(app: Any, pilot: Any, train: Any, report: Report) -> None:
    """Escape until the Train screen is on top again (never pressing Escape on it)."""
    for _ in range(4):
        if app.screen is train:
            return
        await pilot.press("escape")
        report.keys += 1
        await pilot.pause()
    while app.screen is not train and len(app.screen_stack) > 2:
        app.pop_screen()  # e.g. a screen whose first Escape only cancels its work
        await pilot.pause()


async def _visit(app: Any, pilot: Any, screen_id: str, rng: random.Random, args: Any,
                 report: Report, image: Path) -> None:  # fmt: skip
    """Open ``screen_id`` on top of the Train screen and press a few of its keys."""
    app.open_screen(screen_id)
    report.switches += 1
    await pilot.pause(args.interval)
    if screen_id == "predict":
        from textual.widgets import Input

        field_ = app.screen.query("#predict-path").results(Input)
        for widget in field_:
            widget.value = str(image)
            widget.focus()
            await pilot.press("enter")
            report.keys += 1
    for key in rng.sample(KEYS[screen_id], k=min(3, len(KEYS[screen_id]))):
        await _resize(pilot, rng, report)
        await pilot.press(key)
        report.keys += 1
        await pilot.pause(args.interval)


async def _resize(pilot: Any, rng: random.Random, report: Report) -> None:
    width, height = rng.choice(SIZES)
    await pilot.resize_terminal(width, height)
    report.resizes += 1


async def _settle(app: Any, pilot: Any, limit: float = 60.0) -> None:
    """Wait (up to ``limit`` s) for the workers of visited screens, not the Train screen's reader,
    which runs until the training ends."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and any(
        not w.is_finished and w.group != "train-events" for w in app.workers
    ):
        await pilot.pause(0.2)


def _progress(train: Any, report: Report, t0: float) -> None:
    """One line every ``--progress`` seconds, so a long soak shows it is alive."""
    last = report.samples[-1] if report.samples else None
    epoch = "starting" if train._bars is None else "epoch {}/{} batch {}/{}".format(*train._bars)
    rss = f"UI {last.rss_mb:.0f} MB, {last.threads} threads" if last else ""
    child = f", child {last.child_rss_mb:.0f} MB" if last and last.child_rss_mb else ""
    print(f"[{time.monotonic() - t0:5.0f} s] {epoch}; {rss}{child}; {report.resizes} resizes,"
          f" {report.switches} switches", flush=True)  # fmt: skip


def _run_over(train: Any) -> bool:
    return (
        train.outcome is not None
        and not train.training
        and train.query_one("#stop").has_class("hidden")
    )


async def drive(args: argparse.Namespace, models_dir: str, report: Report, t0: float) -> None:
    """The soak itself, inside ``run_test``."""
    from textual.widgets import Button, Input, Select, Static

    from mnist_tui.tui.app import MenuScreen, create_app
    from mnist_tui.tui.screens.browse import BrowseScreen
    from mnist_tui.tui.screens.train import TrainScreen

    rng = random.Random(args.seed)
    image = Path(models_dir).parent / "seven.png"
    write_digit_png(image)
    app = create_app(data_dir=args.data_dir, models_dir=models_dir, val_size=args.val_size,
                     download=False)  # fmt: skip
    sampler = Sampler(report, t0)
    sampler.start()
    try:
        async with app.run_test(size=SIZES[0]) as pilot:
            await pilot.press("1")
            train = app.screen
            if not isinstance(train, TrainScreen):
                report.failures.append(f"key 1 opened {type(train).__name__}, not the Train screen")
                return
            train.query_one("#arch", Select).value = args.arch
            await pilot.pause()
            train.query_one("#epochs", Input).value = str(args.epochs)
            train.query_one("#start", Button).press()
            await pilot.pause()
            if train.run_name is None:
                error = str(train.query_one("#form-error", Static).render())
                report.failures.append(f"the run did not start: {error}")
                return
            from mnist_tui.engine.jobs import Runs

            sampler.child_pid = Runs(models_dir).get(train.run_name).pid
            deadline = time.monotonic() + args.timeout
            order = list(VISITED)
            visits = 0
            next_note = time.monotonic() + args.progress
            while not _run_over(train):
                if args.progress and time.monotonic() >= next_note:
                    next_note += args.progress
                    _progress(train, report, t0)
                if time.monotonic() > deadline:
                    report.failures.append(f"the run did not finish within {args.timeout:.0f} s")
                    break
                if not app.is_running:
                    report.failures.append("the app stopped running during the soak")
                    return
                if visits % len(order) == 0:
                    rng.shuffle(order)
                await _visit(app, pilot, order[visits % len(order)], rng, args, report, image)
                visits += 1
                await _back_to(app, pilot, train, report)
                if train not in app.screen_stack:
                    report.failures.append("the Train screen left the stack")
                    return
                await _resize(pilot, rng, report)
                await pilot.pause(args.interval)
                if report.warm_end is None and visits >= len(order):
                    await _settle(app, pilot)
                    report.warm_end = max(time.monotonic() - t0, args.warmup)
            report.run_end = time.monotonic() - t0
            await _back_to(app, pilot, train, report)
            await pilot.resize_terminal(*SIZES[0])
            await pilot.pause(0.5)
            report.result_text = str(train.query_one("#result", Static).render())
            report.model = train.saved_name
            if train.outcome is None or train.outcome.cancelled or not train.saved_name:
                report.failures.append(f"the run did not complete: {report.result_text!r}")
            # Still responsive: Escape leaves the finished Train screen, 6 opens Browse.
            await pilot.press("escape")
            await pilot.pause()
            if not isinstance(app.screen, MenuScreen):
                report.failures.append(f"Escape left {type(app.screen).__name__} on top, not Menu")
            await pilot.press("6")
            await pilot.pause()
            if not isinstance(app.screen, BrowseScreen):
                report.failures.append(f"key 6 opened {type(app.screen).__name__}, not Browse")
            await pilot.press("escape")
            await pilot.pause()
            if not app.is_running:
                report.failures.append("the app is not running at the end")
            errors = [n for n in app._notifications if n.severity == "error"]
            if errors:
                report.warnings.append(f"{len(errors)} error notification(s): {errors[0].message}")
            app.run_shutdown_hooks()
    finally:
        sampler.halt.set()
        sampler.join(2.0)
        sampler.sample()
    if getattr(app, "_exception", None) is not None:
        report.failures.append(f"the app raised {app._exception!r}")


def check_model(models_dir: str, report: Report) -> None:
    """The run's model is in the store, complete, and loads."""
    if not report.model:
        return
    from mnist_tui.engine.store import ModelStore

    try:
        loaded = ModelStore(models_dir).load(report.model)
    except Exception as exc:  # noqa: BLE001 - any failure is a soak failure
        report.failures.append(f"model {report.model} does not load: {exc}")
        return
    info = loaded.info
    if not info.complete or info.epochs_done != info.epochs:
        report.failures.append(
            f"model {report.model} is incomplete: {info.epochs_done}/{info.epochs} epochs"
        )


def check_memory(args: argparse.Namespace, report: Report) -> dict[str, float]:
    """The median UI RSS of the last third vs the first third after warm-up."""
    end = report.run_end if report.run_end is not None else float("inf")
    start = report.warm_end if report.warm_end is not None else float("inf")
    steady = [s.rss_mb for s in report.samples if start <= s.t <= end]
    if len(steady) < 6:
        report.warnings.append(
            f"only {len(steady)} samples after warm-up: the run was too short to judge memory"
        )
        return {}
    third = len(steady) // 3
    first, last = statistics.median(steady[:third]), statistics.median(steady[-third:])
    growth = last - first
    pct = 100 * growth / first
    if growth > args.max_growth_mb or pct > args.max_growth_pct:
        report.failures.append(
            f"UI memory grew {growth:+.1f} MB ({pct:+.1f}%): median {first:.1f} MB in the first"
            f" third, {last:.1f} MB in the last (limits {args.max_growth_pct:g}%,"
            f" {args.max_growth_mb:g} MB)"
        )
    return {"first": first, "last": last, "growth": growth, "pct": pct, "n": len(steady)}


def summary(report: Report, memory: dict[str, float]) -> str:
    """The printed summary."""
    s = report.samples
    lines = [
        f"duration {report.duration_s:.0f} s (run ended at {report.run_end or 0:.0f} s,"
        f" warm-up until {report.warm_end or 0:.0f} s); {report.resizes} resizes,"
        f" {report.switches} screen switches, {report.keys} keys",
        f"result: {report.result_text or '-'}",
    ]
    if s:
        rss = [x.rss_mb for x in s]
        child = [x.child_rss_mb for x in s if x.child_rss_mb is not None]
        lines.append(
            f"UI RSS MB: first {rss[0]:.1f}, last {rss[-1]:.1f}, max {max(rss):.1f}"
            f" ({len(s)} samples)"
        )
        if memory:
            lines.append(
                f"UI RSS after warm-up: median first third {memory['first']:.1f} MB, last third"
                f" {memory['last']:.1f} MB ({memory['growth']:+.1f} MB, {memory['pct']:+.1f}%)"
            )
        warm = [x for x in s if report.warm_end is not None and x.t >= report.warm_end] or s
        lines.append(
            f"threads: first {s[0].threads}, after warm-up {warm[0].threads}, last {s[-1].threads}"
            f", max {max(x.threads for x in s)}"
        )
        if child:
            lines.append(
                f"training child RSS MB: first {child[0]:.1f}, last {child[-1]:.1f},"
                f" max {max(child):.1f}"
            )
    lines += [f"WARN: {w}" for w in report.warnings]
    lines += [f"FAIL: {f}" for f in report.failures]
    lines.append("PASS" if not report.failures else "FAIL")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--arch", default="fast")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--val-size", type=int, default=5000, help="as the app's --val-size")
    parser.add_argument("--interval", type=float, default=0.3, help="seconds between UI steps")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after (s)")
    parser.add_argument("--warmup", type=float, default=10.0, help="min seconds of warm-up")
    parser.add_argument("--max-growth-pct", type=float, default=15.0)
    parser.add_argument("--max-growth-mb", type=float, default=50.0)
    parser.add_argument("--progress", type=float, default=30.0, help="print every (s); 0: off")
    parser.add_argument("--seed", type=int, default=0, help="random sizes, screens and keys")
    parser.add_argument("--no-seed-model", action="store_true", help="no tiny model first")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the soak; 0 on pass, 1 on fail."""
    args = parse_args(argv)
    args.data_dir = str(Path(args.data_dir).resolve())
    report = Report()
    with tempfile.TemporaryDirectory(prefix="mnist-soak-") as tmp:
        models_dir = str(Path(tmp) / "models")
        Path(models_dir).mkdir()
        if not args.no_seed_model:
            try:
                seed_model(args.data_dir, models_dir, args.val_size)
            except subprocess.CalledProcessError as exc:
                print(f"could not train the seed model:\n{exc.stderr}", file=sys.stderr)
                return 1
        t0 = time.monotonic()
        try:
            asyncio.run(drive(args, models_dir, report, t0))
        except Exception:  # noqa: BLE001 - a crash is the result being tested
            report.failures.append("the app crashed:\n" + traceback.format_exc())
        report.duration_s = time.monotonic() - t0
        check_model(models_dir, report)
        memory = check_memory(args, report)
    print(summary(report, memory))
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
