"""Whole numbers: how often a 2-4 digit handwritten number is read exactly, against today's
behaviour (one digit per picture) on the same model, in the same run.

The numbers are real MNIST *test* digits (never trained on), enlarged, set in a row on paper with
gaps from overlapping and touching to wide, a little size and height jitter per digit, in two
styles: a scan (dark ink on white, light noise, blur) and a phone photo of lined paper (uneven
light, ruled lines, specks, JPEG). Also reports how often a single handwritten digit is still
read as one digit (a false split would turn "7" into "71"), and the latency of reading a number.

    python benchmarks/number_reading.py [--model NAME] [--per-style 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from custom_images import HANDWRITTEN, photograph  # noqa: E402

# Gaps between the digits' ink, as a fraction of the digit height: negative overlaps.
GAPS = {"overlap": (-0.08, -0.02), "touching": (-0.01, 0.02), "close": (0.03, 0.1),
        "wide": (0.15, 0.5)}  # fmt: skip


def number_ink(
    digits: list[np.ndarray], height: int, gap: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """MNIST digits (28x28 uint8) as one row of ink coverage in [0, 1], ``height`` px tall."""
    pieces = []
    for img in digits:
        size = int(height * rng.uniform(0.9, 1.1) * 28 / 20)
        ink = np.asarray(
            Image.fromarray(img).resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32
        )
        ink = np.clip((ink / 255.0 - 0.15) * 1.4, 0, 1)
        cols = np.nonzero(ink.max(axis=0) > 0.05)[0]
        pieces.append(ink[:, cols[0] : cols[-1] + 1])
    total_h = max(p.shape[0] for p in pieces) + height // 4
    width = sum(p.shape[1] for p in pieces) + len(pieces) * height
    row = np.zeros((total_h, width), dtype=np.float32)
    x = 0
    for k, piece in enumerate(pieces):
        if k:
            x += int(round(rng.uniform(*gap) * height))
        y = int(rng.uniform(0, total_h - piece.shape[0]))
        ph, pw = piece.shape
        region = row[y : y + ph, x : x + pw]
        np.maximum(region, piece, out=region)
        x += pw
    cols = np.nonzero(row.max(axis=0) > 0)[0]
    return row[:, : cols[-1] + 1]


def scan(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Dark ink on white paper with a margin, light noise and a slight blur."""
    h, w = ink.shape
    margin = int(rng.uniform(20, 60))
    full = np.zeros((h + 2 * margin, w + 2 * margin), dtype=np.float32)
    full[margin : margin + h, margin : margin + w] = ink
    grey = (240 + rng.normal(0, 4, full.shape)) * (1 - full) + 40 * full
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.8)
    )


def photo(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A phone photo of lined paper (800x600), uneven light, specks, saved as JPEG."""
    w, h = 800, 600
    scale = min(1.0, (w - 140) / ink.shape[1], (h - 40) / ink.shape[0])
    if scale < 1.0:
        size = (max(1, int(ink.shape[1] * scale)), max(1, int(ink.shape[0] * scale)))
        ink = np.asarray(Image.fromarray(ink, mode="F").resize(size, Image.Resampling.BOX))
    page = Image.new("RGB", (w, h), (250, 248, 240))
    draw = ImageDraw.Draw(page)
    tilt = rng.uniform(-0.02, 0.02)
    y = rng.uniform(10, 36)
    while y < h + 40:
        draw.line([(0, y), (w, y + tilt * w)], fill=(140, 170, 215), width=2)
        y += 36
    draw.line([(90, 0), (90, h)], fill=(220, 120, 120), width=2)
    for _ in range(40):
        px, py, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.7, 2.5)
        s = int(rng.uniform(40, 120))
        draw.ellipse((px - r, py - r, px + r, py + r), fill=(s, s, s))
    rgb = np.asarray(page, dtype=np.float32)
    ih, iw = ink.shape
    x0 = int(rng.uniform(110, max(111, w - iw - 10)))
    y0 = int(rng.uniform(10, max(11, h - ih - 10)))
    full = np.zeros((h, w), dtype=np.float32)
    full[y0 : y0 + ih, x0 : x0 + iw] = ink
    return photograph(rgb, full, rng)


STYLES = {"scan": scan, "photo": photo}
# Things that are not digits, written between two digits: the row must not read as a number.
NOT_DIGITS = ("hand letter", "printed letter", "scribble", "symbol")


def make_numbers(test, n: int, seed: int = 0):
    """``n`` (image, number, style, gap) per style and gap kind, from MNIST test digits."""
    rng = np.random.default_rng(seed)
    for style, render in STYLES.items():
        for gap_name, gap in GAPS.items():
            for _ in range(n):
                count = int(rng.integers(2, 5))
                picks = rng.choice(len(test), size=count, replace=False)
                number = "".join(str(int(test.labels[j])) for j in picks)
                height = int(rng.uniform(60, 140)) if style == "scan" else int(rng.uniform(90, 160))
                ink = number_ink([test.images[j] for j in picks], height, gap, rng)
                yield render(ink, rng), number, style, gap_name


def not_numbers(test, n: int, seed: int = 0):
    """``n`` (image, family) per not-a-digit family: a scan of two MNIST test digits with a
    generated letter, scribble or symbol between them, at a close gap."""
    from mnist_tui.engine import nondigits

    rng = np.random.default_rng(seed)
    for k, family in enumerate(NOT_DIGITS):
        for i in range(n):
            # Seeds far above the detector's training ones (nondigits.TRAIN_SEEDS).
            thing = nondigits.quick_mnist(
                nondigits.generate(family, nondigits.TRAIN_SEEDS + 500_000 + k * 10_000 + i)
            )
            if thing is None:
                continue
            picks = rng.choice(len(test), size=2, replace=False)
            middle = np.round(thing * 255).astype(np.uint8)
            digits = [test.images[picks[0]], middle, test.images[picks[1]]]
            ink = number_ink(digits, int(rng.uniform(60, 140)), GAPS["close"], rng)
            yield scan(ink, rng), family


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="store name or file (default: default)")
    parser.add_argument("--models-dir", default=None)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--per-style", type=int, default=200, help="numbers per style")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.predict import predict_image, read_number, read_number_path
    from mnist_tui.engine.store import ModelStore

    torch.set_num_threads(1)
    store = ModelStore(args.models_dir)
    loaded = store.load(args.model or store.default_model())
    print(
        f"model: {loaded.info.name} ({loaded.info.arch}, {loaded.info.test_acc:.2%} on MNIST test)"
    )
    test = load_dataset("mnist", args.data_dir, val_size=0).test
    n = args.per_style // len(GAPS)
    results: dict[tuple[str, str], list[tuple[bool, bool, bool]]] = {}
    misses = []
    for image, number, style, gap in make_numbers(test, n, args.seed):
        reading = read_number(loaded, image)
        today = predict_image(loaded, image)
        exact = reading.number == number
        count_ok = len(reading.digits) == len(number)
        results.setdefault((style, gap), []).append((exact, count_ok, today.label == number))
        if not exact and len(misses) < 12:
            misses.append(f"{style}/{gap}: {number} read as {reading.number}")

    print(f"\n{'style':<8} {'gap':<9} {'numbers':>7} {'read exactly':>12} {'digit count':>11}"
          f" {'today':>6}")  # fmt: skip
    overall = []
    for (style, gap), rows in results.items():
        overall += rows
        exact, counted, today = (sum(r[i] for r in rows) / len(rows) for i in range(3))
        print(f"{style:<8} {gap:<9} {len(rows):>7} {exact:>12.1%} {counted:>11.1%} {today:>6.1%}")
    # Each gap over both styles, and the range (touching to wide) without the overlaps.
    spans = {gap: [gap] for gap in GAPS} | {"touch-wide": [g for g in GAPS if g != "overlap"]}
    for name, gaps in spans.items():
        rows = [r for (_, gap), rs in results.items() if gap in gaps for r in rs]
        exact, counted, today = (sum(r[i] for r in rows) / len(rows) for i in range(3))
        print(f"{'both':<8} {name:<9} {len(rows):>7} {exact:>12.1%} {counted:>11.1%} {today:>6.1%}")
    exact, counted, today = (sum(r[i] for r in overall) / len(overall) for i in range(3))
    print(f"{'all':<8} {'':<9} {len(overall):>7} {exact:>12.1%} {counted:>11.1%} {today:>6.1%}")
    print("\nsome misses:", *misses, sep="\n  ")

    # A letter, scribble or symbol between two digits is not a number.
    print(f"\n{'not a digit between two':<24} {'images':>6} {'read as a number':>16}")
    counts: dict[str, list[bool]] = {}
    for image, family in not_numbers(test, max(1, args.per_style // 10), args.seed):
        counts.setdefault(family, []).append(read_number(loaded, image).number is not None)
    for family, read in counts.items():
        print(f"{family:<24} {len(read):>6} {sum(read) / len(read):>16.1%}")

    # A single handwritten digit must stay one digit, and be the same answer as today.
    rng = np.random.default_rng(1)
    picks = rng.choice(len(test), size=args.per_style, replace=False)
    print(f"\n{'single digit':<14} {'images':>6} {'one digit':>9} {'same as today':>13}")
    for style, make in HANDWRITTEN.items():
        one = same = 0
        for j in picks:
            image = make(test.images[j], int(j))
            reading = read_number(loaded, image)
            today = predict_image(loaded, image)
            one += len(reading.digits) == 1
            first = reading.digits[0]
            same += first.label == today.label and first.confidence == today.confidence
        print(f"{style:<14} {len(picks):>6} {one / len(picks):>9.1%} {same / len(picks):>13.1%}")

    with tempfile.TemporaryDirectory() as tmp:
        image, number, _, _ = next(iter(make_numbers(test, 1, seed=5)))
        path = Path(tmp) / "number.jpg"
        image.convert("RGB").save(path, "JPEG", quality=90)
        read_number_path(loaded, path)
        times = []
        for _ in range(15):
            t0 = time.perf_counter()
            read_number_path(loaded, path)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"\nlatency: reading a {len(number)}-digit 800x600 JPEG, median "
              f"{statistics.median(times):.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
