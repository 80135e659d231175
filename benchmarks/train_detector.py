"""Train the "not a digit" detector that ships as models/not-a-digit.detector.

Digits: MNIST *training* images (the validation split's 5,000 held out to set the threshold)
and printed digits in Pillow's font. Non-digits: the generated families of
mnist_tui/engine/nondigits.py except the held-out ones (drawings), seeds below TRAIN_SEEDS,
through a cheap crop-and-centre (the benchmark measures through the app's real preprocessing,
on other seeds). The threshold on P(not a digit) is the one that refuses 0.5% of the held-out
digits (the MNIST validation split plus held-out printed digits). The MNIST test set is not
read. The shipped detector: `--per-family 3500 --epochs 5` (the defaults), 656 s here.

    python benchmarks/train_detector.py --data-dir ../shared/data [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Share of the held-out digits refused when choosing the threshold. 0.5% was tried first: it
# refused 1.5-2.0% of two handwritten-photo styles in benchmarks/not_a_digit.py, so it was
# lowered to 0.25% (BENCHMARKS.md §7 gives both).
REFUSE_DIGITS = 0.0025


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--out", default=str(ROOT / "models" / "not-a-digit.detector"))
    parser.add_argument("--digits", type=int, default=20000, help="MNIST training digits used")
    parser.add_argument("--per-family", type=int, default=3500)
    parser.add_argument("--printed", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from mnist_tui.engine import nondigits as nd
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.reject import Detector, save_detector, train_detector

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    data = load_dataset("mnist", args.data_dir, val_size=5000)  # the app's validation split
    rng = np.random.default_rng(0)
    pick = rng.choice(len(data.train), size=min(args.digits, len(data.train)), replace=False)
    mnist = data.train.images[pick].astype(np.float32) / 255.0
    families = [f for f in nd.FAMILIES if f not in nd.HELD_OUT_FAMILIES]
    non = nd.quick_set(families, args.per_family, 0)
    printed = nd.quick_printed_digits(args.printed, 100_000)
    digits = np.concatenate([mnist, printed])
    print(
        f"{len(mnist):,} MNIST + {len(printed):,} printed digits, {len(non):,} non-digits"
        f" ({', '.join(families)}) made in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    model = train_detector(digits, non, epochs=args.epochs, log=lambda s: print(s, flush=True))

    detector = Detector(model, 0.5)
    held_digits = np.concatenate(
        [data.val.images.astype(np.float32) / 255.0, nd.quick_printed_digits(1000, 900_000)]
    )
    scores = detector.scores(held_digits)
    threshold = float(np.quantile(scores, 1 - REFUSE_DIGITS))
    held_non = nd.quick_set(families, 300, nd.TRAIN_SEEDS + 500_000)
    refused = float((detector.scores(held_non) > threshold).mean())
    print(
        f"threshold {threshold:.4f}: refuses {float((scores > threshold).mean()):.2%} of"
        f" {len(held_digits):,} held-out digits, {refused:.1%} of {len(held_non):,} held-out"
        " non-digits (quick crop)",
        flush=True,
    )
    save_detector(
        args.out, model, threshold,
        trained_on=f"{len(mnist)} MNIST training digits, {len(printed)} printed digits,"
        f" {len(non)} generated non-digits ({', '.join(families)})",
        threshold_from=f"{REFUSE_DIGITS:.1%} of the MNIST validation split + 1000 printed digits",
    )  # fmt: skip
    print(f"saved {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
