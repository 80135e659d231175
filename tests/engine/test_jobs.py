"""Runs that belong to the store: detached processes, the queue, stop from anywhere, the name
lock across real processes, stale state, and logs that stay bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnist_tui.engine.events import BatchProgress, EpochEnd, RunFailed
from mnist_tui.engine.jobs import RunLog, Runs, RunState
from mnist_tui.engine.store import ModelStore
from mnist_tui.errors import StoreError

NO_SHIPPED = Path(os.devnull) / "none"
TRAIN = ["--batch-size", "32", "--val-size", "200", "--threads", "1", "--no-download"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnist_tui", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def _gone(pid: int) -> bool:
    from mnist_tui.engine.jobs import pid_alive

    return not pid_alive(pid)


def _until(condition, timeout: float = 90.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_two_runs_given_one_name_never_lose_or_mix_a_model(data_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "m"
    cmd = [sys.executable, "-m", "mnist_tui", "train", "--data-dir", str(data_dir),
           "--models-dir", str(root), "--name", "same", *TRAIN]  # fmt: skip
    procs = [
        subprocess.Popen([*cmd, "--epochs", str(epochs), "--seed", str(epochs)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for epochs in (2, 3)
    ]  # fmt: skip
    results = [p.communicate(timeout=180) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 2], results
    loser = results[codes.index(2)][1].strip()
    assert loser.startswith("mnist-tui: ") and "'same'" in loser, loser
    assert "already exists" in loser or "being trained" in loser, loser
    assert len(loser.splitlines()) == 1
    info = ModelStore(root, shipped=NO_SHIPPED).info("same")
    winner_epochs = (2, 3)[codes.index(0)]
    assert info.complete and info.epochs == winner_epochs == len(info.history)
    assert info.config["seed"] == winner_epochs  # the saved model is the winner's, not a mix
    state = Runs(root).get("same")
    assert state is not None and state.status == "finished"


def test_a_stale_state_of_a_dead_pid_reads_as_crashed(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    runs._write_state(RunState("ghost", "running", {"arch": "fast"}, pid=dead.pid))
    state = runs.get("ghost")
    assert state is not None and state.status == "crashed" and not state.active
    assert runs.running() == []
    events = list(runs.follow("ghost", poll_s=0.05))
    assert isinstance(events[-1], RunFailed) and "without a result" in events[-1].message
    # a live pid that is not the process which wrote the state (a recycled pid) is not ours
    runs._write_state(RunState("recycled", "running", {}, pid=os.getpid(), proc_start="1"))
    assert runs.get("recycled").status == "crashed"


def test_the_queue_can_be_listed_reordered_and_cancelled(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    for name in ("a", "b", "c"):
        runs.submit({"arch": "fast", "epochs": 1}, name, checkpoint_exists=lambda _n: False,
                    data_dir=None, spawn=False)  # fmt: skip
    assert [(s.name, s.position) for s in runs.list()] == [("a", 1), ("b", 2), ("c", 3)]
    with pytest.raises(StoreError, match="already exists or is queued"):
        runs.submit({}, "b", checkpoint_exists=lambda _n: False, data_dir=None, spawn=False)
    assert runs.move("c", -5) == 1
    assert [s.name for s in runs.list()] == ["c", "a", "b"]
    assert runs.stop("a") == "Cancelled the queued run a."
    assert [(s.name, s.position) for s in runs.list()] == [("c", 1), ("b", 2)]
    with pytest.raises(StoreError, match="No run named 'a'"):
        runs.stop("a")


def test_the_log_stays_bounded_and_keeps_every_epoch(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "x.log.jsonl", every_s=0.0, max_bytes=20_000)
    for epoch in range(1, 41):
        for batch in range(1, 101):
            log(BatchProgress(epoch, 40, batch, 100, 0.5, 1e3, 1.0, 0.01, 1.0))
        log(EpochEnd(epoch, 40, 0.1, 0.9, 0.1, 0.9, 0.01, 1.0, 1e3))
    log.close()
    assert (tmp_path / "x.log.jsonl").stat().st_size < 2 * 20_000
    events, notes = Runs(tmp_path).read_log("x")
    assert notes == []
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == list(range(1, 41))
    assert 0 < sum(isinstance(e, BatchProgress) for e in events) < 4000


def test_detached_runs_queue_survive_sighup_and_stop_from_anywhere(
    data_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "m"
    common = ["--data-dir", str(data_dir), "--models-dir", str(root), *TRAIN]
    first = _cli("train", "--detach", "--name", "long", "--epochs", "60", *common)
    assert first.returncode == 0 and first.stdout.startswith("Started long in the background")
    second = _cli("train", "--detach", "--name", "next", "--epochs", "1", *common)
    assert "Queued next (#1)" in second.stdout
    runs = Runs(root)
    pid = runs.get("long").pid
    _until(lambda: any(isinstance(e, EpochEnd) for e in runs.read_log("long")[0]))
    for refused in (("rename", "long", "other"), ("delete", "long")):  # a run's model is its own
        out = _cli("models", "--models-dir", str(root), *refused)
        # One sentence that names the run and says to stop it (the store's claim answers first).
        assert out.returncode == 2 and "'long'" in out.stderr and "stop" in out.stderr
        assert out.stderr.count("\n") == 1
    os.kill(pid, signal.SIGHUP)  # a closed terminal: the run is in its own session and goes on
    time.sleep(0.5)
    assert not _gone(pid) and runs.get("long").status == "running"
    as_json = [json.loads(ln) for ln in _cli("runs", "--json", "--models-dir", str(root))
               .stdout.splitlines()]  # fmt: skip
    assert [(r["name"], r["status"], r["position"]) for r in as_json] == [
        ("long", "running", None), ("next", "queued", 1)]  # fmt: skip
    listed = _cli("runs", "--models-dir", str(root))
    assert "long" in listed.stdout and "running" in listed.stdout and "queued #1" in listed.stdout
    stopped = _cli("runs", "stop", "long", "--models-dir", str(root))
    assert stopped.returncode == 0 and "last completed epoch is kept" in stopped.stdout
    _until(lambda: _gone(pid), timeout=30)
    info = ModelStore(root, shipped=NO_SHIPPED).info("long")
    assert info.resumable and 1 <= info.epochs_done < 60
    assert runs.get("long").status == "stopped"
    # the stopped run started the next queued one as it ended; it finishes on its own
    _until(lambda: runs.get("next").status not in ("queued", "running"))
    assert runs.get("next").status == "finished"
    assert ModelStore(root, shipped=NO_SHIPPED).info("next").complete
    watched = _cli("runs", "watch", "next", "--models-dir", str(root))  # piped: plain lines
    assert watched.returncode == 0 and "\r" not in watched.stdout
    assert "epoch 1/1" in watched.stdout and watched.stdout.rstrip().endswith("test accuracy.")
    assert _gone(runs.get("next").pid)
    rows = json.loads(_cli("compare", "long", "next", "--json", "--models-dir", str(root)).stdout)
    assert [r["status"] for r in rows["runs"]] == ["stopped", "finished"]
    assert "epochs" in rows["differing"]


def test_a_resumed_run_goes_on_in_its_log_and_followers_see_its_new_end(
    data_dir: Path, tmp_path: Path
) -> None:
    from mnist_tui.engine.config import TrainConfig
    from mnist_tui.engine.events import RunFinished, RunStarted
    from mnist_tui.engine.jobs import submit_run

    root = tmp_path / "m"
    store = ModelStore(root, shipped=NO_SHIPPED)
    cfg = TrainConfig(arch="fast", epochs=8, batch_size=32, lr=3e-3, val_size=200, threads=1)
    runs = Runs(root)
    submit_run(store, cfg, name="again", data_dir=data_dir, download=False)
    _until(lambda: any(isinstance(e, EpochEnd) for e in runs.read_log("again")[0]))
    runs.stop("again")
    _until(lambda: not runs.get("again").active)
    kept = store.info("again").epochs_done
    assert 1 <= kept < 8
    state = submit_run(store, cfg.with_(threads=1), resume="again", data_dir=data_dir,
                       download=False)  # fmt: skip
    assert state.status == "running"
    events = [e for e in runs.follow("again") if e is not None]  # from the first line
    assert isinstance(events[-1], RunFinished) and not events[-1].cancelled
    assert [e.epochs_done for e in events if isinstance(e, RunStarted)] == [0, kept]
    epochs = sorted({e.epoch for e in events if isinstance(e, EpochEnd)})
    assert epochs == list(range(1, 9))
    info = store.info("again")
    assert info.complete and len(info.history) == 8
