"""Concurrent processes on one store never lose a model: names are claimed atomically, default
names never collide, a rename never replaces another model. Real processes, not threads."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnist_tui.engine.store import SUFFIX, ModelStore
from mnist_tui.errors import StoreError

NO_SHIPPED = Path(os.devnull) / "none"
CTX = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()


def _claim_and_save(root: str, name: str, unique: bool) -> tuple[str, str, int]:
    """A stand-in for a training run: claim, 'train', save a file under the claimed name."""
    store = ModelStore(root, shipped=NO_SHIPPED)
    try:
        with store.claim(name, unique=unique) as claim:
            time.sleep(0.005)  # the run trains while holding its name
            (store.root / (claim.name + SUFFIX)).write_text(str(os.getpid()))
            return ("saved", claim.name, os.getpid())
    except StoreError as exc:
        return ("refused", str(exc), os.getpid())


def _rename(root: str, old: str, new: str) -> tuple[str, str, int]:
    try:
        ModelStore(root, shipped=NO_SHIPPED).rename(old, new)
        return ("renamed", old, os.getpid())
    except StoreError as exc:
        return ("refused", str(exc), os.getpid())


def _worker(task, rounds: list[tuple], barrier, out) -> None:  # noqa: ANN001
    for round_, args in enumerate(rounds):
        barrier.wait(timeout=60)  # every process starts each round at the same moment
        out.put((round_, task(*args)))


def _race(task, per_process: list[list[tuple]]) -> list[list[tuple[str, str, int]]]:  # noqa: ANN001
    """Run ``task`` in several real processes at once, round after round; results per round."""
    barrier, out = CTX.Barrier(len(per_process)), CTX.Queue()
    procs = [CTX.Process(target=_worker, args=(task, rounds, barrier, out))
             for rounds in per_process]  # fmt: skip
    for p in procs:
        p.start()
    results: list[list[tuple[str, str, int]]] = [[] for _ in per_process[0]]
    for _ in range(len(per_process) * len(per_process[0])):
        round_, result = out.get(timeout=60)
        results[round_].append(result)
    for p in procs:
        p.join(timeout=30)
    return results


def test_two_runs_with_the_same_name_never_both_save(tmp_path: Path) -> None:
    rounds = [(str(tmp_path / f"r{i}"), "same", False) for i in range(100)]
    for i, results in enumerate(_race(_claim_and_save, [rounds, rounds])):
        saved = [r for r in results if r[0] == "saved"]
        assert len(saved) == 1, results  # one wins, the other is told, nothing is overwritten
        (refused,) = [r for r in results if r[0] == "refused"]
        assert "same" in refused[1] and refused[1].endswith(".")
        assert (tmp_path / f"r{i}" / "same.safetensors").read_text() == str(saved[0][2])


def test_default_names_started_in_the_same_second_never_collide(tmp_path: Path) -> None:
    rounds = [(str(tmp_path / f"r{i}"), "fast-20260101-120000", True) for i in range(50)]
    for i, results in enumerate(_race(_claim_and_save, [rounds] * 4)):
        assert all(r[0] == "saved" for r in results), results
        names = sorted(r[1] for r in results)
        assert len(set(names)) == 4, names
        for _, name, pid in results:
            assert (tmp_path / f"r{i}" / (name + SUFFIX)).read_text() == str(pid)


@pytest.mark.parametrize("count", [100, pytest.param(2000, marks=pytest.mark.slow)])
def test_concurrent_renames_to_one_name_never_overwrite_a_model(tmp_path: Path, count: int) -> None:
    for i in range(count):
        root = tmp_path / f"r{i}"
        root.mkdir()
        (root / "a.safetensors").write_text("a")
        (root / "b.safetensors").write_text("b")
    per_process = [[(str(tmp_path / f"r{i}"), old, "z") for i in range(count)] for old in "ab"]
    for i, results in enumerate(_race(_rename, per_process)):
        root = tmp_path / f"r{i}"
        renamed = [r[1] for r in results if r[0] == "renamed"]
        assert len(renamed) == 1, results
        kept = "b" if renamed == ["a"] else "a"
        # both models still exist: one as z, the other under its own name
        assert (root / "z.safetensors").read_text() == renamed[0]
        assert (root / f"{kept}.safetensors").read_text() == kept


def test_a_claim_left_by_a_killed_process_does_not_block_the_name(tmp_path: Path) -> None:
    code = (
        "import os, sys, time; from pathlib import Path;"
        "from mnist_tui.engine.store import ModelStore;"
        f"c = ModelStore({str(tmp_path)!r}, shipped=Path('/nonexistent')).claim('held');"
        "print('claimed', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "claimed"
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    with pytest.raises(StoreError) as err:
        store.claim("held")
    assert "being trained by another run" in str(err.value)
    proc.kill()
    proc.wait()
    with store.claim("held") as claim:  # the dead process's claim is stale: taken over
        assert claim.name == "held"
    assert not list(tmp_path.glob(".held.claim"))


def test_a_name_being_trained_cannot_be_deleted_renamed_or_overwritten(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    (tmp_path / "other.safetensors").write_text("other")
    code = (
        "import time; from pathlib import Path; from mnist_tui.engine.store import ModelStore;"
        f"s = ModelStore({str(tmp_path)!r}, shipped=Path('/nonexistent'));"
        "c = s.claim('run'); (s.root / 'run.safetensors').write_text('epoch 1');"
        "print('claimed', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "claimed"
        for action in (lambda: store.delete("run"), lambda: store.rename("run", "x"),
                       lambda: store.rename("other", "run")):  # fmt: skip
            with pytest.raises(StoreError) as err:
                action()
            assert "being trained" in str(err.value)
        assert (tmp_path / "run.safetensors").read_text() == "epoch 1"
        assert (tmp_path / "other.safetensors").read_text() == "other"
    finally:
        proc.kill()
        proc.wait()
