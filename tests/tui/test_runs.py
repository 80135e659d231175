"""Runs outlive the UI: SIGHUP or SIGKILL of the TUI that started a run loses nothing; a new
TUI sees the run on the menu and the Models screen, attaches, rebuilds its history from the
log and goes on live. Compare works at 80x24 with 8 runs of different networks and data sets."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from mnist_tui.engine.jobs import Runs, pid_alive
from mnist_tui.engine.store import ModelStore
from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.train import TrainScreen

CHILD = Path(__file__).with_name("ui_child.py")
NO_SHIPPED = Path(os.devnull) / "none"


def _ui(data_dir: Path, root: Path, mode: str, name: str, epochs: int = 2) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir), str(root), mode, name, str(epochs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _read_until(proc: subprocess.Popen, prefix: str, min_epochs: int = 0) -> str:
    for line in proc.stdout:
        if line.startswith(prefix) and (prefix != "EPOCHS" or int(line.split()[1]) >= min_epochs):
            return line
    raise AssertionError(f"the UI child ended: {proc.stderr.read()[-2000:]}")


def _wait(condition, timeout: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _assert_saved_whole(root: Path, name: str, epochs: int) -> None:
    runs = Runs(root)
    _wait(lambda: not runs.get(name).active)
    state = runs.get(name)
    assert state.status == "finished", (state.status, state.message)
    info = ModelStore(root, shipped=NO_SHIPPED).info(name)
    assert info.complete and info.epochs_done == epochs == len(info.history)
    _wait(lambda: not pid_alive(state.pid), timeout=15)  # the run process ends with its run


def test_sighup_to_the_ui_leaves_the_run_to_finish(data_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "m"
    ui = _ui(data_dir, root, "start", "hup", epochs=4)
    _read_until(ui, "READY")
    run_pid = Runs(root).get("hup").pid
    ui.send_signal(signal.SIGHUP)  # the terminal closed
    ui.wait(timeout=30)
    assert ui.returncode != 0  # the UI died of it
    _assert_saved_whole(root, "hup", 4)
    assert Runs(root).get("hup").pid == run_pid


async def test_sigkill_then_a_new_app_attaches_and_sees_history_and_live_progress(
    data_dir: Path, tmp_path: Path, store_dir: Path, services
) -> None:
    root = store_dir
    ui = _ui(data_dir, root, "start", "killed", epochs=40)
    _read_until(ui, "EPOCHS", min_epochs=2)
    ui.kill()
    ui.wait(timeout=10)
    runs = Runs(root)
    assert runs.get("killed").status == "running"
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "killed training" in str(app.screen.query_one("#runs-line", Static).render())
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one("#models-table", DataTable)
        assert "training" in str(table.get_row("killed")[4])
        table.move_cursor(row=table.get_row_index("killed"))
        await pilot.press("enter")  # a running run: Enter attaches
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainScreen) and screen.run_name == "killed"
        deadline = time.monotonic() + 60
        while len(screen.rows) < 2:  # the history, rebuilt from the log
            assert time.monotonic() < deadline
            await pilot.pause(0.1)
        seen_epochs, seen_points = len(screen.rows), len(screen.data.train_x)
        while len(screen.rows) <= seen_epochs:  # then live
            assert time.monotonic() < deadline
            await pilot.pause(0.1)
        assert len(screen.data.train_x) > seen_points
        assert sorted(screen.rows) == list(range(1, len(screen.rows) + 1))  # none lost or twice
        await pilot.press("x")
        while screen.outcome is None:
            assert time.monotonic() < deadline
            await pilot.pause(0.1)
        assert "Stopped: kept killed at epoch" in str(screen.query_one("#result", Static).render())
    info = ModelStore(root, shipped=NO_SHIPPED).info("killed")
    assert info.resumable and info.epochs_done >= seen_epochs
    _wait(lambda: not pid_alive(runs.get("killed").pid), timeout=15)


@pytest.mark.slow
def test_twenty_ui_kills_lose_nothing(data_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "m"
    rng = random.Random(11)
    names = [f"k{i:02d}" for i in range(20)]
    for name in names:
        ui = _ui(data_dir, root, "start", name, epochs=2)
        _read_until(ui, "READY")
        time.sleep(rng.uniform(0.0, 2.0))
        ui.kill()
        ui.wait(timeout=10)
    for name in names:  # queued behind each other, each started by the one before as it ended
        _wait(lambda n=name: not Runs(root).get(n).active, timeout=300)
        _assert_saved_whole(root, name, 2)


async def test_compare_eight_runs_at_80x24_across_archs_and_data_sets(
    services, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mnist_tui.engine.archs import ARCH_INFO
    from mnist_tui.engine.config import recipe
    from mnist_tui.engine.networks import build_model
    from mnist_tui.engine.store import build_metadata
    from mnist_tui.tui.screens.compare import CompareScreen

    store = services.store()
    names = []
    for k, arch in enumerate(list(ARCH_INFO)[:7]):
        cfg = recipe(arch).with_(dataset="fashion" if k % 2 else "mnist", epochs=3)
        history = [{"epoch": e, "train_loss": 1 / (e + k), "train_acc": 0.9, "val_loss": 1 / e,
                    "val_acc": 0.9 + 0.01 * e - 0.02 * k * (e == 3), "lr": 0.01,
                    "elapsed_s": 10.0 * e} for e in (1, 2, 3)]  # fmt: skip
        meta = build_metadata(
            arch=arch, dataset=cfg.dataset, params=1, config=cfg.to_dict(), history=history,
            epochs_done=3, epochs=3, complete=True, mean=0.1, std=0.3,
            val_acc=history[-1]["val_acc"], test_acc=0.95, test_loss=0.1, used_ema=False,
            train_seconds=30.0, images_per_s=1000.0, per_class=None,
        )  # fmt: skip
        store.save(f"m{k}-{arch}", build_model(arch), meta)
        names.append(f"m{k}-{arch}")
    names.append("tiny")
    monkeypatch.chdir(tmp_path)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CompareScreen(names)
        await app.push_screen(screen)
        await pilot.pause()
        assert screen.comparison is not None and len(screen.comparison.runs) == 8
        table = screen.query_one("#compare-table", DataTable)
        assert len(table.columns) == 9
        labels = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "best epoch" in labels and "test acc" in labels and "train time" in labels
        assert {"arch", "dataset"} <= screen.comparison.differing
        best = [str(c) for c in table.get_row_at(labels.index("best epoch"))[1:]]
        assert best[0] == "3" and best[3] == "2"  # m3 peaked at epoch 2
        await pilot.press("l", "m")
        await pilot.pause()
        assert screen.log_loss and screen.smoothing > 0
        await pilot.press("p")
        await pilot.pause()
        assert list(tmp_path.glob("compare-*.svg"))
        assert screen.query_one("#compare-error", Static).render().plain == ""
