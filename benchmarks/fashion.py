"""Fashion-MNIST recipes: `mnist-tui train --dataset fashion` (and `--arch best`) against what
the same command trained before Fashion had recipes of its own (MNIST's `fast` recipe, which
crops the central 20x20), in the same run.

Each run is a whole `mnist-tui train` process, timed from launch to a saved, tested model.

    python benchmarks/fashion.py --data-dir ../shared/data --seeds 3            # fast recipe
    python benchmarks/fashion.py --data-dir ../shared/data --best --seeds 3     # best recipe
    python benchmarks/fashion.py ... --val-size 5000   # score on the validation split instead
    python benchmarks/fashion.py ... --previous        # also the 4-epoch recipe without focus

Each seed's runs alternate with a bare `python -c "import torch"`, the floor no recipe can cut.

The data set is looked for in DIR/FashionMNIST/raw and /usr/share/datasets/fashion-mnist/
(Debian's dataset-fashion-mnist).
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

# What `mnist-tui train --dataset fashion` trained before this round: MNIST's fast recipe.
BEFORE = {
    "arch": "fast", "dataset": "fashion", "epochs": 2, "batch_size": 256, "optimizer": "adam",
    "lr": 0.02, "scheduler": "onecycle", "augment": False, "flip": False, "elastic": 0.0,
    "label_smoothing": 0.0, "weight_decay": 0.0, "ema": 0.0, "device": "auto",
}  # fmt: skip

# The fast recipe of the ninth and tenth sessions (`--previous`): 4 plain epochs.
PREVIOUS = {
    **BEFORE, "arch": "fastfull", "epochs": 4, "lr": 0.01, "label_smoothing": 0.1, "focus": 1.0,
}  # fmt: skip


def train(data_dir: str, store: str, seed: int, extra: list[str]) -> dict[str, float]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "train", "--dataset", "fashion", "--data-dir",
         data_dir, "--models-dir", store, "--json", "--no-download", *extra],
        capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(out.stderr.strip().splitlines()[-1])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "wall_s": wall, "test": result["test_acc"], "val": result["val_acc"],
        "train_s": result["train_seconds"], "name": result["name"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--best", action="store_true", help="the best recipe (minutes per run)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--previous", action="store_true", help="also run the 4-epoch recipe")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--val-size", type=int, help="hold out a validation split (choosing)")
    parser.add_argument("--models-dir", help="keep the models here (default: a temporary store)")
    parser.add_argument("extra", nargs="*", help="more `train` flags after --, e.g. -- --epochs 5")
    args = parser.parse_args()
    data_dir = str(Path(args.data_dir).resolve())
    common = ["--threads", str(args.threads)]
    if args.val_size is not None:
        common += ["--val-size", str(args.val_size)]
    ours_flags = ["--arch", "best" if args.best else "fast", *common, *args.extra]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.models_dir or tmp
        rows: dict[str, list[dict[str, float]]] = {"ours": [], "before": [], "previous": []}
        imports: list[float] = []
        for seed in seeds:
            runs = [("ours", ours_flags)]
            val = args.val_size if args.val_size is not None else 5000
            for label, base, wanted in [
                ("before", BEFORE, not args.no_baseline), ("previous", PREVIOUS, args.previous),
            ]:  # fmt: skip
                if wanted and not args.best:
                    cfg = {**base, "seed": seed, "threads": args.threads, "val_size": val}
                    runs.append((label, ["--config-json", json.dumps(cfg)]))
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import torch"], check=True)
            imports.append(time.perf_counter() - t0)
            for label, flags in runs:
                r = train(data_dir, store, seed, ["--seed", str(seed), *flags])
                rows[label].append(r)
                val = f", validation {r['val']:.2%}" if r["val"] is not None else ""
                print(f"{label:<8} seed {seed}: {r['wall_s']:6.1f} s wall (training"
                      f" {r['train_s']:.1f} s), test {r['test']:.2%}{val}", flush=True)  # fmt: skip
    print()
    print(f"bare `import torch`: median {statistics.median(imports):.1f} s")
    for label, rs in rows.items():
        if not rs:
            continue
        tests = [r["test"] for r in rs]
        vals = [r["val"] for r in rs if r["val"] is not None]
        mean_val = f", validation mean {statistics.mean(vals):.2%}" if vals else ""
        wall = statistics.median(r["wall_s"] for r in rs)
        print(f"{label:<8}: test mean {statistics.mean(tests):.2%} (min {min(tests):.2%}),"
              f" median wall {wall:.1f} s{mean_val}")  # fmt: skip


if __name__ == "__main__":
    main()
