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
    data_dir: Path, tmp_path: Path, store_dir: Path, services, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = store_dir
    monkeypatch.chdir(tmp_path)
    # Stopped by x below, long before its last epoch even on a busy machine (40 could finish).
    ui = _ui(data_dir, root, "start", "killed", epochs=400)
    _read_until(ui, "EPOCHS", min_epochs=2)
    ui.kill()
    ui.wait(timeout=10)
    runs = Runs(root)
    assert runs.get("killed").status == "running"
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "killed training" in str(app.screen.query_one("#status-line", Static).render())
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
        watcher = _ui(data_dir, root, "attach", "killed")  # a second TUI watches the same run
        while len(screen.rows) <= seen_epochs or len(screen.data.train_x) <= seen_points:
            assert time.monotonic() < deadline  # then live: new epochs and new loss points
            await pilot.pause(0.1)
        _read_until(watcher, "EPOCHS", min_epochs=seen_epochs)
        watcher.kill()
        watcher.wait(timeout=10)
        await pilot.press("p")  # the view, charts included, saved as SVG
        await pilot.pause()
        assert len(list(tmp_path.glob("train-killed-*.svg"))) == 1
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
@pytest.mark.timeout(1200)
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
        # The keys' note is 80 cells long: it breaks between two of its parts, where it was
        # cut as "◆ best" / "epoch".
        note = str(screen.query_one("#compare-note", Static).render()).splitlines()
        assert len(note) == 2 and note[-1].endswith("◆ best epoch"), note
        assert all(len(line) <= screen.query_one("#compare-note").size.width for line in note)
        await pilot.press("l", "m")
        await pilot.pause()
        assert screen.log_loss and screen.smoothing > 0
        note = str(screen.query_one("#compare-note", Static).render()).splitlines()
        assert len(note) == 1, "shorter, it fits on one line"
        await pilot.press("p")
        await pilot.pause()
        assert list(tmp_path.glob("compare-*.svg"))
        assert screen.query_one("#compare-error", Static).render().plain == ""


async def test_the_queue_is_visible_and_editable_on_the_models_screen(services) -> None:
    runs = Runs(services.store().root)
    for name in ("q1", "q2", "q3"):  # queued (no process: nothing is started)
        runs.submit({"arch": "fast", "epochs": 3, "dataset": "mnist"}, name,
                    checkpoint_exists=lambda _n: False, data_dir=None, spawn=False)  # fmt: skip
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "3 queued" in str(app.screen.query_one("#status-line", Static).render())
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one("#models-table", DataTable)
        assert [str(table.get_row(n)[4]) for n in ("q1", "q2", "q3")] == [
            "queued #1", "queued #2", "queued #3"]  # fmt: skip
        table.move_cursor(row=table.get_row_index("q3"))
        await pilot.press("plus", "plus")
        assert [s.name for s in runs.list() if s.active] == ["q3", "q1", "q2"]
        assert str(table.get_row("q3")[4]) == "queued #1"
        table.move_cursor(row=table.get_row_index("q1"))
        await pilot.press("x")
        assert [s.name for s in runs.list() if s.active] == ["q3", "q2"]
        assert "Cancelled the queued run q1." in str(
            app.screen.query_one("#models-message", Static).render()
        )
        assert "q1" not in [str(k.value) for k in table.rows]


async def test_marked_models_open_in_compare(services, store_dir: Path) -> None:
    import shutil

    for name in ("tiny-b", "tiny-c"):
        shutil.copy(store_dir / "tiny.safetensors", store_dir / f"{name}.safetensors")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one("#models-table", DataTable)
        for name in ("tiny-c", "tiny"):
            table.move_cursor(row=table.get_row_index(name))
            await pilot.press("space")
        await pilot.press("c")
        await pilot.pause()
        from mnist_tui.tui.screens.compare import CompareScreen

        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert [r.name for r in screen.comparison.runs] == ["tiny-c", "tiny"]
        assert screen.comparison.differing == set()  # copies: nothing differs
        assert set(screen.query_one("#picker").selected) == {"tiny-c", "tiny"}


async def test_compare_ticks_only_the_runs_picked_in_its_text(services, store_dir: Path) -> None:
    """At 16 colours over SSH the picker must say which runs are picked in its text: Textual's
    list drew ▐X▌ in every box, an unpicked one only darker."""
    from mnist_tui.tui.screens.compare import CompareScreen

    (store_dir / "other.safetensors").write_bytes((store_dir / "tiny.safetensors").read_bytes())
    app = create_app(services, warm_up=False, color="16")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CompareScreen(["tiny"])
        await app.push_screen(screen)
        await pilot.pause()
        picker = screen.query_one("#picker")

        def boxes() -> dict[str, str]:
            lines = [picker.render_line(y).text for y in range(picker.option_count)]
            return {line.split()[-1]: line.strip()[:3] for line in lines}

        assert boxes() == {"tiny": "▐X▌", "other": "▐ ▌"}
        picker.select("other")
        await pilot.pause()
        assert boxes() == {"tiny": "▐X▌", "other": "▐X▌"}
