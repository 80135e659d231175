"""The app survives what an SSH session throws at it: resize storms down to 1x1 while a run
trains, a bug in a handler (logged, one line, the app goes on), and a burst of bugs (status 1,
never 0, and the training child is left to finish)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual import events
from textual.geometry import Size
from textual.widgets import Input, OptionList

from mnist_tui.tui.app import MIN_HEIGHT, MIN_WIDTH, MenuScreen, TooSmall, create_app
from mnist_tui.tui.screens.train import TrainScreen

RUN_TIMEOUT_S = 120


async def _until(pilot, condition, timeout: float = RUN_TIMEOUT_S) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.1)


@pytest.mark.slow  # about 90 s on two shared cores
async def test_resize_storm_during_a_run_keeps_the_app_and_the_run(services) -> None:
    app = create_app(services, warm_up=False)  # any exception would fail this test
    async with app.run_test(size=(80, 24)) as pilot:
        screen = TrainScreen(threads=1)
        await app.push_screen(screen)
        await pilot.pause()
        screen.query_one("#epochs", Input).value = "200"
        screen.query_one("#batch_size", Input).value = "64"
        screen.query_one("#name", Input).value = "stormy"
        await pilot.press("s")
        await _until(pilot, lambda: bool(screen.data.train_x))
        pid = screen.process.pid
        for i, (width, height) in enumerate(_storm(200, 12)):
            # A dragged split sends resizes faster than a frame; every 4th one is laid out fully.
            size = Size(width, height)
            app.post_message(events.Resize(size, size))
            await (pilot.pause() if i % 4 == 0 else asyncio.sleep(0))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.is_running and app.screen is screen
        assert screen.process.pid == pid and screen.training, "the run goes on"
        seen = len(screen.data.train_x)
        await _until(pilot, lambda: len(screen.data.train_x) > seen, timeout=60)
        await _until(pilot, lambda: len(screen.data.epochs) >= 1)
        await pilot.press("escape")  # stop: keep the last completed epoch
        await _until(pilot, lambda: not screen.training, timeout=30)
        assert services.store().info("stormy").resumable, "the run is intact in the store"


def _storm(n: int, seed: int) -> list[tuple[int, int]]:
    """Random sizes from 1x1 to 300x100, the known killers first."""
    rng = random.Random(seed)
    sizes = [(1, 1), (5, 4), (6, 12), (7, 4), (300, 100), (40, 10), (39, 9)]
    return sizes + [(rng.randint(1, 300), rng.randint(1, 100)) for _ in range(n - len(sizes))]


@pytest.mark.parametrize("n", [30, pytest.param(200, marks=pytest.mark.slow)])
async def test_resize_storm_on_every_screen_never_ends_the_app(services, n: int) -> None:
    """Without a run: sizes spread over the screens (200 take about 40 s: slow)."""
    app = create_app(services, warm_up=False)
    per_screen = n // 5
    async with app.run_test(size=(80, 24)) as pilot:
        for i, (width, height) in enumerate(_storm(n, 7)):
            if i % per_screen == 0:
                await pilot.resize_terminal(80, 24)
                await pilot.pause()
                while len(app.screen_stack) > 2:
                    app.pop_screen()
                await pilot.press(["2", "4", "6", "7", "3"][i // per_screen])
            size = Size(width, height)
            app.post_message(events.Resize(size, size))
            await (pilot.pause() if i % 8 == 0 else asyncio.sleep(0))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert app.is_running and len(app.screen_stack) == 3


async def test_below_the_floor_the_screen_asks_for_room(services) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        menu = app.screen.query_one("#menu", OptionList)
        await pilot.resize_terminal(MIN_WIDTH - 1, MIN_HEIGHT)
        await pilot.pause()
        notice = app.screen.query_one(TooSmall)
        assert notice.display and notice.region.width == MIN_WIDTH - 1
        assert "Make the window larger" in str(notice.render())
        assert menu.region.width == 0, "the menu is not laid out at all"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert menu.region.width > 0 and notice.region.width == 0
        await pilot.press("3")  # a screen opened while tiny also gets the notice
        await pilot.resize_terminal(20, 5)
        await pilot.pause()
        assert app.screen.query_one(TooSmall).region.width == 20


async def test_an_error_is_logged_and_ends_the_app_with_status_1_and_one_line(
    services, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(MenuScreen, "action_open", lambda self, screen_id: 1 / 0)
    app = create_app(services, warm_up=False, log_crashes=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await pilot.pause()
    assert app.return_code == 1, "a crash never exits 0"
    assert app.crashed is not None and "\n" not in app.crashed
    assert app.crashed.startswith("Something went wrong (ZeroDivisionError: division by zero)")
    assert str(tmp_path) in app.crashed
    log = (tmp_path / "mnist-tui" / "crash.log").read_text()
    assert "Traceback" in log and "ZeroDivisionError" in log


@pytest.mark.slow  # a real run to its end, about 30 s
async def test_a_crash_during_a_run_leaves_the_run_to_finish(
    services, tmp_path: Path, monkeypatch
) -> None:
    from mnist_tui.tui.app import MnistTuiApp

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(MnistTuiApp, "action_help", lambda self: 1 / 0)
    app = create_app(services, warm_up=False, log_crashes=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = TrainScreen(threads=1)
        await app.push_screen(screen)
        await pilot.pause()
        screen.query_one("#epochs", Input).value = "2"
        screen.query_one("#batch_size", Input).value = "64"
        screen.query_one("#name", Input).value = "survivor"
        await pilot.press("s")
        await _until(pilot, lambda: bool(screen.data.train_x))
        process = screen.process
        await pilot.press("f1")
        await pilot.pause()
    assert app.return_code == 1
    assert process.proc.wait(timeout=RUN_TIMEOUT_S) == 0, "the child was not stopped or killed"
    assert services.store().info("survivor").complete


def test_a_training_child_whose_reader_is_gone_trains_on_and_saves(
    data_dir: Path, tmp_path: Path
) -> None:
    """What a UI crash leaves behind: the child's event pipe is closed, the run still finishes."""
    models = tmp_path / "models"
    cmd = [sys.executable, "-m", "mnist_tui", "train", "--events", "--data-dir", str(data_dir),
           "--models-dir", str(models), "--arch", "fast", "--epochs", "2", "--batch-size", "64",
           "--val-size", "200", "--threads", "1", "--name", "orphan", "--no-download"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    assert "kind" in first
    proc.stdout.close()  # the UI is gone
    proc.wait(timeout=RUN_TIMEOUT_S)
    meta = models / "orphan.safetensors"
    assert meta.exists(), proc.stderr.read() if proc.stderr else ""
    from mnist_tui.engine.store import ModelStore

    assert ModelStore(models, shipped=Path(os.devnull) / "none").info("orphan").complete
