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


def _claim_and_save(root: str, name: str | None, unique: bool, go, out) -> None:  # noqa: ANN001
    """A stand-in for a training run: claim, 'train', save a file under the claimed name."""
    store = ModelStore(root, shipped=NO_SHIPPED)
    go.wait()
    try:
        with store.claim(name, unique=unique) as claim:
            time.sleep(0.02)  # the run trains while holding its name
            path = store.root / (claim.name + SUFFIX)
            path.write_text(str(os.getpid()))
            out.put(("saved", claim.name, os.getpid()))
    except StoreError as exc:
        out.put(("refused", str(exc), os.getpid()))


def _race(root: Path, names: list[str | None], unique: bool) -> list[tuple[str, str, int]]:
    go, out = CTX.Event(), CTX.Queue()
    procs = [CTX.Process(target=_claim_and_save, args=(str(root), n, unique, go, out))
             for n in names]  # fmt: skip
    for p in procs:
        p.start()
    go.set()
    results = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return results


def test_two_runs_with_the_same_name_never_both_save(tmp_path: Path) -> None:
    for round_ in range(50):
        root = tmp_path / f"r{round_}"
        results = _race(root, ["same", "same"], unique=False)
        saved = [r for r in results if r[0] == "saved"]
        assert len(saved) == 1, results  # one wins, the other is told, nothing is overwritten
        (refused,) = [r for r in results if r[0] == "refused"]
        assert "same" in refused[1] and refused[1].endswith(".")
        assert (root / "same.safetensors").read_text() == str(saved[0][2])


def test_default_names_started_in_the_same_second_never_collide(tmp_path: Path) -> None:
    for round_ in range(20):
        root = tmp_path / f"r{round_}"
        results = _race(root, ["fast-20260101-120000"] * 4, unique=True)
        assert all(r[0] == "saved" for r in results), results
        names = sorted(r[1] for r in results)
        assert len(set(names)) == 4, names
        for _, name, pid in results:
            assert (root / (name + SUFFIX)).read_text() == str(pid)


def _rename(root: str, old: str, new: str, go, out) -> None:  # noqa: ANN001
    store = ModelStore(root, shipped=NO_SHIPPED)
    go.wait()
    try:
        store.rename(old, new)
        out.put(("renamed", old))
    except StoreError as exc:
        out.put(("refused", str(exc)))


@pytest.mark.parametrize("rounds", [50, pytest.param(300, marks=pytest.mark.slow)])
def test_concurrent_renames_to_one_name_never_overwrite_a_model(
    tmp_path: Path, rounds: int
) -> None:
    for round_ in range(rounds):
        root = tmp_path / f"r{round_}"
        root.mkdir()
        (root / "a.safetensors").write_text("a")
        (root / "b.safetensors").write_text("b")
        go, out = CTX.Event(), CTX.Queue()
        procs = [CTX.Process(target=_rename, args=(str(root), old, "z", go, out))
                 for old in ("a", "b")]  # fmt: skip
        for p in procs:
            p.start()
        go.set()
        results = [out.get(timeout=30) for _ in procs]
        for p in procs:
            p.join(timeout=30)
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
