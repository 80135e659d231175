"""Time to 99% test accuracy: the seeds' pipeline against `mnist-tui train` (fast recipe).

Baseline (the seeds' way): the `classic` net fed by torchvision.datasets.MNIST + DataLoader
(batch 64) with ToTensor + Normalize per item, Adam 1e-3, trained epoch by epoch until its test
accuracy reaches 99.0%; timed from process start to that point, imports included.
Ours: `mnist-tui train --json` as a whole process (imports, data load, training, evaluation,
save), wall-clock, over several seeds. Both run here, in this run, on this machine.

"Our own time" is that wall time minus a bare `python -c "import torch"`, the floor we do not
control: the two are alternated run by run, so drift in the machine hits both. `--split` runs
each seed once more through a driver that times the engine's steps (interpreter + imports /
data / training / calibration / evaluation / save and exit).

    python benchmarks/time_to_99.py --data-dir ../shared/data [--seeds 5] [--baseline-runs 3]
        [--device auto]   # both pipelines on the GPU when there is one, the seeds' way (.to(dev))
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
dev = sys.argv[4] if sys.argv[4] != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train = datasets.MNIST(sys.argv[1], train=True, download=False, transform=tf)
test = datasets.MNIST(sys.argv[1], train=False, download=False, transform=tf)
tl = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
vl = torch.utils.data.DataLoader(test, batch_size=1000)
m = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev)
opt = torch.optim.Adam(m.parameters(), 1e-3)
for epoch in range(1, 11):
    m.train()
    for x, y in tl:
        x, y = x.to(dev), y.to(dev)
        opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
    m.eval(); correct = 0
    with torch.no_grad():
        for x, y in vl:
            x, y = x.to(dev), y.to(dev)
            correct += (m(x).argmax(1) == y).sum().item()
    acc = correct / len(test)
    print(json.dumps({"epoch": epoch, "acc": acc, "t": time.perf_counter() - t0}), flush=True)
    if acc >= 0.99:
        break
"""


def run_baseline(data_dir: str, seed: int, threads: int, device: str) -> dict[str, float]:
    """One baseline run: epochs and seconds until 99% test accuracy."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", BASELINE, data_dir, str(seed), str(threads), device],
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


def run_ours(data_dir: str, seed: int, threads: int, store: str, device: str) -> dict[str, float]:
    """One `mnist-tui train` process, wall-clock from launch to a saved, tested model."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "train", "--data-dir", data_dir, "--models-dir",
         store, "--seed", str(seed), "--threads", str(threads), "--device", device, "--json",
         "--no-download"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "acc": result["test_acc"], "train_s": result["train_seconds"],
            "images_per_s": result["images_per_s"]}  # fmt: skip


SPLIT_DRIVER = r"""
import time
t0 = time.perf_counter()
import json, os, sys
from mnist_tui import cli
from mnist_tui.engine import runs, store
marks = {}
def timed(owner, name, key):
    f = getattr(owner, name)
    def wrapper(*a, **k):
        s = time.perf_counter()
        marks.setdefault(key + "@", s - t0)
        try:
            return f(*a, **k)
        finally:
            marks[key] = marks.get(key, 0.0) + time.perf_counter() - s
    setattr(owner, name, wrapper)
for owner, name, key in ((runs, "load_dataset", "data"), (runs, "train", "training"),
                         (runs, "calibrate_run", "calibration"), (runs, "evaluate", "evaluation"),
                         (store.ModelStore, "save", "save")):
    timed(owner, name, key)
real_exit = os._exit
def report(code):
    marks["end"] = time.perf_counter() - t0
    sys.stderr.write("SPLIT " + json.dumps(marks) + "\n"); sys.stderr.flush()
    real_exit(code)
os._exit = report
cli.entry()
"""


def bare_import(threads: int) -> float:
    """Wall time of `python -c "import torch"`: the floor under every torch program."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - t0


def run_split(data_dir: str, seed: int, threads: int, store: str, device: str) -> dict[str, float]:
    """One run through the timing driver: where the seconds of a whole run go."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", SPLIT_DRIVER, "train", "--data-dir", data_dir, "--models-dir",
         store, "--seed", str(seed), "--threads", str(threads), "--device", device, "--json",
         "--no-download"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("SPLIT "))
    marks = json.loads(line[6:])
    return {"wall_s": wall, **marks}


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
    parser.add_argument("--split", action="store_true", help="also time each step of a run")
    parser.add_argument(
        "--device", default="auto", help="both pipelines run here (auto: a GPU if any)"
    )
    args = parser.parse_args()
    data_dir = str(Path(args.data_dir).resolve())

    imports: list[float] = []
    splits: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as store:
        ours = []
        # untimed: fills the data cache, warms disk
        run_ours(data_dir, 0, args.threads, store, args.device)
        for seed in range(args.seeds):
            imports.append(bare_import(args.threads))
            r = run_ours(data_dir, seed, args.threads, store, args.device)
            ours.append(r)
            past = r["wall_s"] - imports[-1]
            print(f"ours     seed {seed}: {r['wall_s']:.2f} s wall ({past:.2f} s past a bare"
                  f" import torch of {imports[-1]:.2f} s), train {r['train_s']:.2f} s,"
                  f" {r['images_per_s']:,.0f} img/s, test {r['acc']:.2%}", flush=True)  # fmt: skip
        if args.split:
            for seed in range(args.seeds):
                sp = run_split(data_dir, seed, args.threads, store, args.device)
                splits.append(sp)
                parts = ", ".join(f"{k} {v:.3f}" for k, v in sp.items())
                print(f"split    seed {seed}: {parts}", flush=True)
    own = [r["wall_s"] - t for r, t in zip(ours, imports, strict=True)]
    print(f"ours past the import: median {statistics.median(own):.2f} s"
          f" ({min(own):.2f}-{max(own):.2f}); bare import torch median"
          f" {statistics.median(imports):.2f} s")  # fmt: skip
    if splits:
        med = {k: statistics.median(sp[k] for sp in splits) for k in splits[0] if "@" not in k}
        first = statistics.median(sp.get("data@", 0.0) for sp in splits)
        steps = ("data", "training", "calibration", "evaluation", "save")
        after = med["end"] - first - sum(med.get(k, 0.0) for k in steps)
        parts = ", ".join(f"{k} {med.get(k, 0.0):.2f} s" for k in steps)
        print(f"split (median): interpreter + imports {first:.2f} s, {parts},"
              f" the rest {after:.2f} s")  # fmt: skip
    if args.baseline_runs == 0:
        return
    base = []
    tv_root = tempfile.TemporaryDirectory()
    tv_data = extracted_copy(data_dir, Path(tv_root.name))
    for seed in range(args.baseline_runs):
        r = run_baseline(tv_data, seed, args.threads, args.device)
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
