"""Not a digit: how often things that are not digits are refused, and real digits are not,
for today's behaviour and for each candidate method, in the same run.

Non-digits: every family of mnist_tui/engine/nondigits.py (printed and hand-drawn letters,
words, symbols, scribbles, noise, shapes, and drawings, a family the detector never saw), on
seeds the detector was not trained on, through the app's real preprocessing. Digits: the
whole MNIST test set (as the 28×28s they are), every stroke-font style of tests/imagestyles.py
and the handwritten photo/scan/transparent styles of benchmarks/custom_images.py, through
the app's preprocessing.

Methods (a refusal includes "no digit found" by the preprocessing, today's only refusal):
  today       refuse only when the preprocessing finds no ink
  max prob    calibrated maximum probability below a threshold
  energy      T·logsumexp(logits/T) below a threshold
  detector    the shipped detector's P(not a digit) above its threshold (what the app does)
  both        detector or max prob
  predict     what `predict` answers (reads numbers too): refused unless it answers a digit or a
              number; this is the figure a user sees, where the columns before it judge one
              preprocessed 28x28 of the whole picture
Thresholds of max prob and energy refuse 0.5% of the held-out digits the detector's threshold
was set on (the MNIST validation split and printed digits), never the test set.

    python benchmarks/not_a_digit.py --data-dir ../shared/data [--per-family 200] [--model default]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import imagestyles  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--models-dir", default=None)
    parser.add_argument("--per-family", type=int, default=200)
    parser.add_argument("--per-style", type=int, default=200)
    args = parser.parse_args()

    import torch
    from custom_images import HANDWRITTEN
    from scipy.special import logsumexp

    from mnist_tui.engine import nondigits as nd
    from mnist_tui.engine.calibrate import softmax
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.images import preprocess_image
    from mnist_tui.engine.reject import shipped_detector
    from mnist_tui.engine.store import ModelStore

    torch.set_num_threads(1)
    store = ModelStore(args.models_dir)
    loaded = store.load(args.model)
    detector = shipped_detector()
    assert detector is not None, "no detector: is models/not-a-digit.detector there?"
    t = loaded.temperature
    print(f"model {loaded.info.name} ({loaded.info.calibration.describe()});"
          f" detector threshold {detector.threshold:.4f}")  # fmt: skip

    def logits_of(pixels: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.asarray(pixels, dtype=np.float32)).reshape(-1, 1, 28, 28)
        with torch.inference_mode():
            return loaded.model((x - loaded.info.mean) / loaded.info.std).float().numpy()

    def scores(pixels: np.ndarray) -> dict[str, np.ndarray]:
        if len(pixels) == 0:
            return {k: np.zeros(0) for k in ("msp", "energy", "detector")}
        z = logits_of(pixels)
        return {
            "msp": softmax(z, t).max(1),
            "energy": t * logsumexp(z / t, axis=1),
            "detector": detector.scores(pixels),
        }

    # thresholds for the classifier's own scores, on the detector's held-out digits
    val = load_dataset("mnist", args.data_dir, val_size=5000).val
    held = np.concatenate(
        [val.images.astype(np.float32) / 255.0, nd.quick_printed_digits(1000, 900_000)]
    )
    hs = scores(held)
    thr = {k: float(np.quantile(hs[k], 0.005)) for k in ("msp", "energy")}
    print(f"thresholds: max prob {thr['msp']:.4f}, energy {thr['energy']:.3f}")

    from mnist_tui.engine.predict import read_number

    def predict_refuses(images: list) -> int:  # noqa: ANN001
        """How many pictures `predict` answers with neither a digit nor a number."""
        return sum(read_number(loaded, image).number is None for image in images)

    def refused(
        s: dict[str, np.ndarray], missing: int, by_predict: int
    ) -> dict[str, tuple[int, int]]:
        n = len(s["msp"]) + missing
        det = s["detector"] > detector.threshold
        msp = s["msp"] < thr["msp"]
        counts = {
            "today": 0,
            "max prob": int(msp.sum()),
            "energy": int((s["energy"] < thr["energy"]).sum()),
            "detector": int(det.sum()),
            "both": int((det | msp).sum()),
        }
        out = {k: (v + missing, n) for k, v in counts.items()}
        out["predict"] = (by_predict, n)
        return out

    def through_app(images: list) -> tuple[np.ndarray, int]:  # noqa: ANN001
        kept, missing = [], 0
        for image in images:
            pre = preprocess_image(image)
            if pre.found:
                kept.append(pre.pixels)
            else:
                missing += 1
        return np.asarray(kept, dtype=np.float32).reshape(-1, 28, 28), missing

    methods = ["today", "max prob", "energy", "detector", "both", "predict"]
    rows: list[tuple[str, str, dict[str, tuple[int, int]]]] = []
    for f_index, family in enumerate(nd.FAMILIES):
        first = nd.TRAIN_SEEDS + 100_000 * (f_index + 1)
        images = [nd.generate(family, first + i) for i in range(args.per_family)]
        pixels, missing = through_app(images)
        held_out = " (never trained on)" if family in nd.HELD_OUT_FAMILIES else ""
        rows.append(("non-digit", family + held_out,
                     refused(scores(pixels), missing, predict_refuses(images))))  # fmt: skip
        print(f"  {family}: done", flush=True)

    test = load_dataset("mnist", args.data_dir, val_size=0).test
    mnist_refused = predict_refuses(list(test.images))  # 28x28 uint8: MNIST's own format
    rows.append(
        ("digit", "MNIST test (10,000)", refused(scores(test.images / 255.0), 0, mnist_refused))
    )
    n = args.per_style
    for style, make in imagestyles.STYLES.items():
        if style == "printed":
            images = [make(d) for d in range(10)]
        elif style == "mnist_like":
            images = [imagestyles.mnist_like(i % 10, seed=i) for i in range(n)]
        else:
            images = [make(i % 10, i) for i in range(n)]
        pixels, missing = through_app(images)
        rows.append(("digit", f"stroke {style}",
                     refused(scores(pixels), missing, predict_refuses(images))))  # fmt: skip
    rng = np.random.default_rng(0)
    picks = rng.choice(len(test), size=n, replace=False)
    for style, make in HANDWRITTEN.items():
        images = [make(test.images[j], int(j)) for j in picks]
        pixels, missing = through_app(images)
        rows.append(("digit", f"handwritten {style}",
                     refused(scores(pixels), missing, predict_refuses(images))))  # fmt: skip

    print(f"\n{'set':<10} {'images':<34}" + "".join(f"{m:>10}" for m in methods))
    for kind in ("non-digit", "digit"):
        total = {m: [0, 0] for m in methods}
        for k, name, r in rows:
            if k != kind:
                continue
            cells = "".join(f"{r[m][0] / r[m][1]:>10.1%}" for m in methods)
            print(f"{k:<10} {name:<34}{cells}")
            for m in methods:
                total[m][0] += r[m][0]
                total[m][1] += r[m][1]
        cells = "".join(f"{total[m][0] / total[m][1]:>10.1%}" for m in methods)
        print(f"{kind:<10} {'all (' + format(total['today'][1], ',') + ')':<34}{cells}")
        if kind == "digit":
            worst = {m: max(r[m][0] / r[m][1] for k, _, r in rows if k == "digit") for m in methods}
            print(f"{'digit':<10} {'worst single set':<34}"
                  + "".join(f"{worst[m]:>10.1%}" for m in methods))  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
