"""Time to 99% test accuracy: the seeds' pipeline against `mnist-tui train` (fast recipe).

Baseline (the seeds' way): the `classic` net fed by torchvision.datasets.MNIST + DataLoader
(batch 64) with ToTensor + Normalize per item, Adam 1e-3, trained epoch by epoch until its test
accuracy reaches 99.0%; timed from process start to that point, imports included.
Ours: `mnist-tui train --json` as a whole process (imports, data load, training, evaluation,
save), wall-clock, over several seeds. Both run here, in this run, on this machine.

    python benchmarks/time_to_99.py --data-dir ../shared/data [--seeds 5] [--baseline-runs 3]
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

BASELINE = r"""
import sys, time, json
t0 = time.perf_counter()
import torch, torch.nn as nn, torch.nn.functional as F
from torchvision import datasets, transforms
torch.manual_seed(int(sys.argv[2]))
torch.set_num_threads(int(sys.argv[3]))
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train = datasets.MNIST(sys.argv[1], train=True, download=False, transform=tf)
test = datasets.MNIST(sys.argv[1], train=False, download=False, transform=tf)
tl = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
vl = torch.utils.data.DataLoader(test, batch_size=1000)
m = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
opt = torch.optim.Adam(m.parameters(), 1e-3)
for epoch in range(1, 11):
    m.train()
    for x, y in tl:
        opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
    m.eval(); correct = 0
    with torch.no_grad():
        for x, y in vl:
            correct += (m(x).argmax(1) == y).sum().item()
    acc = correct / len(test)
    print(json.dumps({"epoch": epoch, "acc": acc, "t": time.perf_counter() - t0}), flush=True)
    if acc >= 0.99:
        break
"""


def run_baseline(data_dir: str, seed: int, threads: int) -> dict[str, float]:
    """One baseline run: epochs and seconds until 99% test accuracy."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", BASELINE, data_dir, str(seed), str(threads)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    last = rows[-1]
    return {
        "wall_s": wall,
        "epochs": last["epoch"],
        "acc": last["acc"],
        "epoch_s": rows[0]["t"] if rows else float("nan"),
        "reached": last["acc"] >= 0.99,
    }


def run_ours(data_dir: str, seed: int, threads: int, store: str) -> dict[str, float]:
    """One `mnist-tui train` process, wall-clock from launch to a saved, tested model."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "train", "--data-dir", data_dir, "--models-dir",
         store, "--seed", str(seed), "--threads", str(threads), "--json", "--no-download"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "acc": result["test_acc"], "train_s": result["train_seconds"],
            "images_per_s": result["images_per_s"]}  # fmt: skip


def extracted_copy(data_dir: str, dest: Path) -> str:
    """torchvision's MNIST wants the IDX files uncompressed in ROOT/MNIST/raw (as its own
    download leaves them); prepare that once, untimed, as a user's earlier download would."""
    import gzip
    import shutil

    raw = dest / "MNIST" / "raw"
    raw.mkdir(parents=True)
    src = Path(data_dir) / "MNIST" / "raw"
    for gz in src.glob("*.gz"):
        with gzip.open(gz) as fin, open(raw / gz.stem, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    return str(dest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    data_dir = str(Path(args.data_dir).resolve())

    with tempfile.TemporaryDirectory() as store:
        ours = []
        for seed in range(args.seeds):
            r = run_ours(data_dir, seed, args.threads, store)
            ours.append(r)
            print(f"ours     seed {seed}: {r['wall_s']:.2f} s wall, train {r['train_s']:.2f} s,"
                  f" {r['images_per_s']:,.0f} img/s, test {r['acc']:.2%}", flush=True)  # fmt: skip
    base = []
    tv_root = tempfile.TemporaryDirectory()
    tv_data = extracted_copy(data_dir, Path(tv_root.name))
    for seed in range(args.baseline_runs):
        r = run_baseline(tv_data, seed, args.threads)
        base.append(r)
        print(
            f"baseline seed {seed}: {r['wall_s']:.1f} s wall, {r['epochs']} epochs"
            f" ({r['epoch_s']:.1f} s to the end of epoch 1), test {r['acc']:.2%}",
            flush=True,
        )

    accs = [r["acc"] for r in ours]
    ours_wall = statistics.median(r["wall_s"] for r in ours)
    base_wall = statistics.median(r["wall_s"] for r in base)
    print()
    print(f"ours:     median {ours_wall:.2f} s wall to a saved model; test accuracy min"
          f" {min(accs):.2%}, median {statistics.median(accs):.2%} over {len(accs)} seeds;"
          f" {statistics.median(r['images_per_s'] for r in ours):,.0f} img/s")  # fmt: skip
    print(f"baseline: median {base_wall:.1f} s wall to 99% (epochs: {[r['epochs'] for r in base]})")
    print(f"speed-up: {base_wall / ours_wall:.1f}x")


if __name__ == "__main__":
    main()
