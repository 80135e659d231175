"""The training loop's speed on a GPU: this checkout's loop against an earlier copy of it.

The baseline is another version of ``mnist_tui/engine/train.py`` (for example the one before the
loop stopped reading the loss and the EMA step count every batch, `git show REV:...`), loaded as
a module beside this one. Both train the same recipe on the same data, loaded once, in this one
process, alternated run by run; each reports the images per second of its training epochs
(``TrainResult.images_per_s``) and its validation accuracy.

    python benchmarks/gpu_loop.py --data-dir ../shared/data --baseline-file OLD_train.py \\
        [--arch best] [--epochs 3] [--reps 3] [--device cuda]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
from pathlib import Path
from types import ModuleType


def load_module(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--baseline-file", required=True, help="an earlier train.py")
    parser.add_argument("--arch", default="best")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()

    from mnist_tui.engine import train as current
    from mnist_tui.engine.config import recipe
    from mnist_tui.engine.data import load_dataset

    baseline = load_module(args.baseline_file, "mnist_tui.engine._train_baseline")
    cfg = recipe(args.arch, args.dataset).with_(epochs=args.epochs, device=args.device)
    cfg = cfg.with_(val_size=cfg.val_size or 5000)
    data = load_dataset(args.dataset, Path(args.data_dir), val_size=cfg.val_size, download=False)
    current.train(cfg.with_(epochs=1), data)  # untimed: CUDA start-up, cuDNN's choices
    rates: dict[str, list[float]] = {"baseline": [], "current": []}
    for rep in range(args.reps):
        for label, module in (("baseline", baseline), ("current", current)):
            r = module.train(cfg.with_(seed=rep), data)
            rates[label].append(r.images_per_s)
            print(f"{label:8s} rep {rep}: {r.images_per_s:,.0f} img/s over {r.epochs_done} epochs,"
                  f" {r.elapsed_s:.1f} s, val {r.val_acc:.2%}", flush=True)  # fmt: skip
    b, c = (statistics.median(rates[k]) for k in ("baseline", "current"))
    print(f"{cfg.arch} on {cfg.device}: baseline median {b:,.0f} img/s, this loop {c:,.0f} img/s"
          f" ({c / b:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
