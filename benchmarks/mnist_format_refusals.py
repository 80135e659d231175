"""Pictures already in MNIST's format: `predict` against `evaluate` on MNIST's own test digits,
and what the "not a digit" check gives up for it on generated non-digits in the same format.

Such a picture (28x28, white on black, centred) is fed to the network as it is, and since the
twelfth session it is judged by the detector's MNIST-format threshold (above every one of the
5,000 validation digits' scores, benchmarks/train_detector.py), not the threshold for pictures
that went through the preprocessing. The same run scores both: "before" is the general
threshold (what such pictures were judged by until then), "now" the MNIST-format one, and
"cautioned" the pictures now answered with a caution (between the two thresholds). The test
set chooses nothing here: it is only scored.

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
    from mnist_tui.engine.predict import uncalibrated_probabilities_batch
    from mnist_tui.engine.reject import shipped_detector
    from mnist_tui.engine.store import ModelStore

    detector = shipped_detector()
    if detector is None:
        raise SystemExit("No detector: models/not-a-digit.detector is missing.")
    before, now = detector.threshold, detector.mnist_threshold or detector.threshold
    test = load_dataset("mnist", args.data_dir, val_size=0).test
    pixels = test.images.astype(np.float32) / 255
    digits = detector.scores(pixels)
    store = ModelStore(None)
    loaded = store.load(store.default_model())
    says = uncalibrated_probabilities_batch(loaded, pixels).argmax(1)
    right = says == test.labels
    print(f"thresholds: before {before:.4f} (every picture), now {now:.4f} (MNIST format)")
    print(f"MNIST test digits ({digits.size:,}), shipped model `{loaded.info.name}`:")
    print(f"  evaluate: {right.mean():.2%}")
    for label, limit in (("before", before), ("now", now)):
        refused = digits > limit
        lost = int((right & refused).sum())
        print(f"  predict {label:<6}: {(right & ~refused).mean():.2%}"
              f" ({int(refused.sum())} refused, {lost} of them right)")  # fmt: skip
    print(f"  cautioned now: {int(((digits > before) & (digits <= now)).sum())}\n")
    print(f"{'non-digits (MNIST format)':<26} {'n':>5} {'refused before':>15} {'refused now':>12}"
          f" {'cautioned now':>14}")  # fmt: skip
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
        _row(family, scores, before, now)
    _row("all", np.concatenate(everything), before, now)


def _row(name: str, scores: np.ndarray, before: float, now: float) -> None:
    cautioned = np.mean((scores > before) & (scores <= now))
    print(f"{name:<26} {scores.size:>5} {np.mean(scores > before):>15.1%}"
          f" {np.mean(scores > now):>12.1%} {cautioned:>14.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
