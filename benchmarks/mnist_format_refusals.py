"""What `predict`'s "not a digit" check costs on pictures already in MNIST's format, and what
closing that gap would cost: the detector's scores on all 10,000 MNIST test digits (as
`evaluate` feeds them) against generated non-digits in the same format, at the shipped
threshold and at the lowest threshold that refuses no test digit.

A threshold chosen that way is chosen on the test set, which this project does not do; the
script shows the trade-off, it does not pick a threshold.

    python benchmarks/mnist_format_refusals.py --data-dir ../shared/data [--per-family 300]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

FAMILIES = ("hand letter", "printed letter", "word", "symbol", "scribble", "noise", "shape",
            "drawing")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--per-family", type=int, default=300)
    args = parser.parse_args()

    from mnist_tui.engine import nondigits
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.reject import shipped_detector

    detector = shipped_detector()
    if detector is None:
        raise SystemExit("No detector: models/not-a-digit.detector is missing.")
    test = load_dataset("mnist", args.data_dir, val_size=0).test
    digits = detector.scores(test.images.astype(np.float32) / 255)
    top = float(digits.max())
    refused = np.sort(digits[digits > detector.threshold])
    listed = ", ".join(f"{s:.2f}" for s in refused)
    print(f"MNIST test digits refused at the shipped threshold {detector.threshold:.3f}: "
          f"{refused.size} of {digits.size} (scores {listed})")  # fmt: skip
    print(f"lowest threshold refusing none: above {top:.4f}\n")
    print(f"{'non-digits (MNIST format)':<26} {'n':>5} {'refused now':>12}"
          f" {'refusing no digit':>18}")  # fmt: skip
    everything = []
    for k, family in enumerate(FAMILIES):
        # Seeds far from the detector's training ones and from the other benchmarks'.
        made = (
            nondigits.quick_mnist(
                nondigits.generate(family, nondigits.TRAIN_SEEDS + 900_000 + k * 10_000 + i)
            )
            for i in range(args.per_family)
        )
        scores = detector.scores(np.stack([m for m in made if m is not None]))
        everything.append(scores)
        print(f"{family:<26} {scores.size:>5} {np.mean(scores > detector.threshold):>12.1%}"
              f" {np.mean(scores > top):>18.1%}")  # fmt: skip
    scores = np.concatenate(everything)
    print(f"{'all':<26} {scores.size:>5} {np.mean(scores > detector.threshold):>12.1%}"
          f" {np.mean(scores > top):>18.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
