"""Interrupted training: kill -9 at random moments never leaves a torn store; Ctrl+C keeps the
last epoch and says how to resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnist_tui.engine.store import ModelStore

NO_SHIPPED = Path(os.devnull) / "none"
TRAIN = ["--batch-size", "32", "--val-size", "200", "--threads", "1", "--no-download"]


def _train_process(data_dir: Path, store: Path, name: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mnist_tui", "train", "--data-dir", str(data_dir),
         "--models-dir", str(store), "--name", name, *TRAIN, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _events_until(proc: subprocess.Popen, want: str, count: int = 1) -> bool:
    """Read --events lines until the ``count``-th event of kind ``want``; False at the end."""
    seen = 0
    for line in proc.stdout:
        if json.loads(line).get("kind") == want or (
            want == "training" and "Training" in json.loads(line).get("message", "")
        ):
            seen += 1
            if seen == count:
                return True
    return False


def _assert_store_is_whole(root: Path) -> None:
    store = ModelStore(root, shipped=NO_SHIPPED)
    infos = store.list()
    for info in infos:
        assert info.error is None, info.error
        assert not info.name.startswith(".") and "tmp" not in info.name
        loaded = store.load(info.name)  # every visible checkpoint loads
        assert loaded.info.epochs_done >= 1
        if not info.complete:
            assert info.resumable, info.name
    names = {i.name for i in infos}
    for path in root.glob("*.resume.pt"):
        name = path.name[: -len(".resume.pt")]
        state = store.load_resume_state(name)  # every resume state loads, safely
        assert state["epochs_done"] >= 1
        if name in names:
            info = store.info(name)
            if info.complete:
                # Killed between writing its final model and removing the resume state: the
                # leftover is never offered (`--resume` refuses a finished model).
                assert not info.resumable
            else:
                assert state["epochs_done"] >= info.epochs_done
    for path in root.iterdir():  # nothing else but run files, the locks, claims, temporaries
        assert path.name.endswith(
            (".safetensors", ".resume.pt", ".log.jsonl", ".run.json", ".runs.lock", ".queue.json")
        ) or (path.name.startswith(".") and path.name.endswith((".tmp", ".claim", ".lock"))), (
            path.name
        )


def _kill_at_random_moments(data_dir: Path, root: Path, kills: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    # One run to completion first: how long the training part lasts on this machine.
    t0 = time.monotonic()
    proc = _train_process(data_dir, root, "reference", "--epochs", "3", "--events")
    assert _events_until(proc, "training")
    t_train = time.monotonic()
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    startup, training = t_train - t0, time.monotonic() - t_train
    moments = []
    for i in range(kills):
        proc = _train_process(data_dir, root, f"run{i}", "--epochs", "3", "--events")
        kind = i % 3
        if kind == 0:  # at any time in the run's life, start-up included
            time.sleep(rng.uniform(0, startup + training))
            moments.append("anytime")
        elif kind == 1:  # somewhere during the epochs
            assert _events_until(proc, "training")
            time.sleep(rng.uniform(0, training))
            moments.append("training")
        else:  # just as an epoch ended: the checkpoint is being written
            if _events_until(proc, "epoch", rng.choice([1, 2])):
                time.sleep(rng.uniform(0, 0.02))
            moments.append("saving")
        proc.kill()
        proc.communicate(timeout=60)
    return moments


def test_kill_9_four_times(data_dir: Path, tmp_path: Path) -> None:
    _kill_at_random_moments(data_dir, tmp_path, kills=4, seed=1)
    _assert_store_is_whole(tmp_path)
    # a killed run that kept an epoch can be finished
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    for info in store.list():
        if info.resumable:
            from mnist_tui.cli import main

            saved = signal.getsignal(signal.SIGINT)
            try:
                code = main(["train", "--resume", info.name, "--data-dir", str(data_dir),
                             "--models-dir", str(tmp_path), "--json", "--no-download"])  # fmt: skip
            finally:
                signal.signal(signal.SIGINT, saved)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
            assert code == 0
            assert store.info(info.name).complete
            break


@pytest.mark.slow
def test_kill_9_twenty_times(data_dir: Path, tmp_path: Path) -> None:
    moments = _kill_at_random_moments(data_dir, tmp_path, kills=20, seed=2)
    assert len(moments) == 20
    _assert_store_is_whole(tmp_path)


def test_ctrl_c_keeps_the_epoch_and_resume_finishes(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = _train_process(data_dir, tmp_path, "stopped", "--epochs", "8")
    for line in proc.stderr:
        if line.startswith("epoch 1/8"):
            break
    else:
        pytest.fail("the run ended before its first epoch line: " + proc.communicate()[1])
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in out + err
    assert "Stopping after this batch" in err
    message = out.strip()
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    info = store.info("stopped")
    k = info.epochs_done
    assert 1 <= k < 8
    assert f"kept stopped at epoch {k} of 8" in message
    assert "mnist-tui train --resume stopped" in message
    assert not info.complete and info.resumable

    from mnist_tui.cli import main

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert main(["models", "--models-dir", str(tmp_path)]) == 0
        listing = capsys.readouterr().out
        assert f"(stopped at epoch {k}/8)" in listing
        code = main(["train", "--resume", "stopped", "--data-dir", str(data_dir),
                     "--models-dir", str(tmp_path), "--json", "--no-download"])  # fmt: skip
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["epochs_done"] == result["epochs"] == 8 and not result["cancelled"]
    final = store.info("stopped")
    assert final.complete and not final.resumable
    assert [row["epoch"] for row in final.history] == list(range(1, 9))
    assert not (tmp_path / "stopped.resume.pt").exists()
