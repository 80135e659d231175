"""Calibration: today's confidence (softmax at T = 1) against the calibrated one (the model's
stored temperature), in the same run, on the MNIST test set — which chose nothing: every
temperature was fitted on validation data (see mnist_tui/engine/calibrate.py).

For each model: accuracy (must not move), ECE over 15 bins, mean confidence, the share of
correct answers shown at ≥ 98%, and what clean digits read: the stroke-font digits of every
style in tests/imagestyles.py through the app's preprocessing.

    python benchmarks/calibration.py --data-dir ../shared/data [--model default] [--fast NAME]

Without --fast it trains a `fast` run (the recipe as `mnist-tui train` runs it, 5,000
validation images) into a temporary store first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import imagestyles  # noqa: E402


def measure(loaded, data) -> None:  # noqa: ANN001
    from mnist_tui.engine.calibrate import reliability, softmax
    from mnist_tui.engine.images import preprocess_image
    from mnist_tui.engine.predict import logits as one_logits
    from mnist_tui.engine.train import predict_logits

    info = loaded.info
    print(f"\n{info.name} ({info.arch}): calibration {info.calibration.describe()}")
    logits = predict_logits(loaded.classifier, data.test.images, info.mean, info.std).numpy()
    labels = data.test.labels
    clean = []
    for style, make in imagestyles.STYLES.items():
        for d in range(10):
            pre = preprocess_image(make(d) if style in ("mnist_like", "printed") else make(d, d))
            if pre.found:
                clean.append((one_logits(loaded, pre.pixels), d))
    clean_logits = np.array([c[0] for c in clean])
    clean_labels = np.array([c[1] for c in clean])
    print(
        f"{'':<22} {'accuracy':>9} {'ECE':>7} {'mean conf':>9} {'right >=98%':>11}"
        f" {'clean digits: median':>20} {'min':>6}"
    )
    for name, t in (("today (T=1)", 1.0), (f"calibrated (T={loaded.temperature:.3g})",
                                           loaded.temperature)):  # fmt: skip
        probs = softmax(logits, t)
        rel = reliability(probs, labels)
        right = probs.argmax(1) == labels
        conf = probs.max(1)
        cp = softmax(clean_logits, t)
        clean_conf = cp[np.arange(len(cp)), clean_labels]
        print(
            f"{name:<22} {right.mean():>9.2%} {rel.ece:>7.2%} {conf.mean():>9.1%}"
            f" {(conf[right] >= 0.98).mean():>11.1%} {np.median(clean_conf):>20.1%}"
            f" {clean_conf.min():>6.1%}"
        )
    print(f"clean digits: {len(clean)} ({', '.join(imagestyles.STYLES)}), each digit once a style")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--models-dir", default=None)
    parser.add_argument("--fast", default=None, help="a trained `fast` model (else train one)")
    args = parser.parse_args()

    import torch

    from mnist_tui.engine.config import recipe
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.runs import run_training
    from mnist_tui.engine.store import ModelStore

    torch.set_num_threads(min(2, len(os.sched_getaffinity(0))))
    data = load_dataset("mnist", args.data_dir, val_size=0)
    store = ModelStore(args.models_dir)
    measure(store.load(args.model), data)
    if args.fast:
        measure(store.load(args.fast), data)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp_store = ModelStore(tmp)
        outcome = run_training(
            recipe("fast"), store=tmp_store, data_dir=args.data_dir, name="fast-bench",
            download=False,
        )  # fmt: skip
        measure(tmp_store.load(outcome.name or "fast-bench"), data)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
