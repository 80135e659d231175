"""Predict latency of this tree against an earlier commit's, alternated in the same run.

`predict` on a phone-sized picture is what users wait for most. This times the three steps a
user's photo goes through (decode and preprocess; the answer, `predict`; reading it as a
number, `read_number`) for an 800x600 JPEG, a 4000x3000 JPEG and an iPhone-style 4032x3024
HEIC (with pillow-heif), in fresh processes that take turns: the earlier commit's tree (checked
out in a temporary git worktree), then this one, ``--rounds`` times. Each process loads the same
model (the shipped default), warms up, and takes the median of ``--repeats`` calls, on one
torch thread as the app's predict does.

    python benchmarks/predict_latency.py          # against c128a58 (before the faster filters)
    python benchmarks/predict_latency.py --before HEAD~3 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("preprocess", "predict", "read_number")


def child(pictures: list[tuple[str, str]], models_dir: str | None, repeats: int) -> None:
    """Time each step in this process (whose engine is whatever PYTHONPATH points at)."""
    import torch

    from mnist_tui.engine.images import preprocess_path
    from mnist_tui.engine.predict import predict_path, read_number_path
    from mnist_tui.engine.store import ModelStore

    torch.set_num_threads(1)
    store = ModelStore(models_dir)
    loaded = store.load(store.default_model())
    calls = {
        "preprocess": preprocess_path,
        "predict": lambda path: predict_path(loaded, path),
        "read_number": lambda path: read_number_path(loaded, path),
    }
    out: dict[str, dict[str, float]] = {}
    for label, path in pictures:
        out[label] = {}
        for step in STEPS:
            call = calls[step]
            call(path)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                call(path)
                times.append((time.perf_counter() - t0) * 1000)
            out[label][step] = statistics.median(times)
    print(json.dumps(out))


def run_tree(tree: Path, pictures, models_dir: str | None, repeats: int) -> dict:  # noqa: ANN001
    env = {**os.environ, "PYTHONPATH": str(tree)}
    listed = json.dumps([[label, str(path)] for label, path in pictures])
    args = [sys.executable, str(Path(__file__).resolve()), "--child", listed]
    args += ["--repeats", str(repeats)] + (["--models-dir", models_dir] if models_dir else [])
    # Run from a neutral folder so the tree on PYTHONPATH is the only mnist_tui found.
    done = subprocess.run(args, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the run in {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="c128a58", help="the earlier commit (git ref)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two trees")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per step")
    parser.add_argument("--models-dir", default=None, help="model store (default: the app's)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child([tuple(p) for p in json.loads(args.child)], args.models_dir, args.repeats)
        return

    from custom_images import latency_pictures  # beside this script, on sys.path

    work = Path(tempfile.mkdtemp(prefix="latency-"))
    pictures = latency_pictures(work)  # written once: both trees read the same bytes
    before = work / "before"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(before), args.before],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    results: dict[str, list[dict]] = {"before": [], "now": []}
    try:
        for k in range(args.rounds):
            for name, tree in (("before", before), ("now", ROOT)):
                results[name].append(run_tree(tree, pictures, args.models_dir, args.repeats))
                print(f"round {k + 1}: {name} done", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)
    print(f"\nmedian of {args.rounds} processes' medians ({args.repeats} calls each), ms:")
    print(f"{'picture':<16} {'step':<12} {'before':>8} {'now':>8}")
    for label, _ in pictures:
        for step in STEPS:
            was = statistics.median(r[label][step] for r in results["before"])
            now = statistics.median(r[label][step] for r in results["now"])
            print(f"{label:<16} {step:<12} {was:8.1f} {now:8.1f}")


if __name__ == "__main__":
    main()
