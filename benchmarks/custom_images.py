"""Custom images: our preprocessing against the seeds' (grayscale + resize to 28x28, nothing
else), on the same model, over images in every style a user sends; plus predict latency.

Two sets, both made here:
- "stroke": digits drawn from the tests' stroke font (tests/imagestyles.py) in five styles:
  MNIST-like, scan, phone photo of lined paper, transparent drawing, printed (Pillow's font).
- "handwritten": real handwriting — MNIST *test* digits (never trained on) enlarged and put on
  paper as a user would photograph or scan them: lined-paper photo (uneven light, ruled lines,
  specks, JPEG), scan, transparent drawing.

    python benchmarks/custom_images.py [--model NAME] [--per-style 200]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import imagestyles  # noqa: E402


def _ink_from_mnist(digit_img: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """A real MNIST digit as ink coverage in [0, 1], enlarged to ``height`` pixels."""
    img = Image.fromarray(digit_img).resize((height, height), Image.Resampling.BICUBIC)
    ink = np.asarray(img, dtype=np.float32) / 255.0
    return np.clip((ink - 0.15) * 1.4, 0, 1)


def handwritten_photo(digit_img: np.ndarray, seed: int) -> Image.Image:
    """A phone photo of a real handwritten digit on lined paper, saved and reloaded as JPEG."""
    rng = np.random.default_rng(seed)
    w, h = 800, 600
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
    size = int(rng.uniform(220, 300))
    ink = _ink_from_mnist(digit_img, size, rng)
    x0, y0 = int(rng.uniform(150, w - size - 20)), int(rng.uniform(10, h - size - 10))
    full = np.zeros((h, w), dtype=np.float32)
    full[y0 : y0 + size, x0 : x0 + size] = ink
    colour = np.float32([30, 35, 80]) if rng.random() < 0.5 else np.float32([25, 25, 25])
    rgb = rgb * (1 - full[..., None]) + colour * full[..., None]
    yy, xx = np.mgrid[0:h, 0:w]
    light = 1.0 - rng.uniform(0.3, 0.5) * (xx / w * 0.6 + yy / h * 0.4) ** 1.3
    if rng.random() < 0.5:
        light = light[:, ::-1]
    rgb = rgb * light[..., None] + rng.normal(0, 3, rgb.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=70)
    image = Image.open(io.BytesIO(out.getvalue()))
    image.load()
    return image


def handwritten_scan(digit_img: np.ndarray, seed: int) -> Image.Image:
    """A scan of a real handwritten digit: dark ink on white, off-centre, light noise."""
    rng = np.random.default_rng(seed)
    size = 300
    ink = _ink_from_mnist(digit_img, int(rng.uniform(150, 220)), rng)
    full = np.zeros((size, size), dtype=np.float32)
    y0, x0 = (int(rng.uniform(5, size - ink.shape[0] - 5)) for _ in range(2))
    full[y0 : y0 + ink.shape[0], x0 : x0 + ink.shape[1]] = ink
    grey = (240 + rng.normal(0, 4, full.shape)) * (1 - full) + 40 * full
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.8)
    )


def handwritten_transparent(digit_img: np.ndarray, seed: int) -> Image.Image:
    """A drawing app's export: black strokes in the alpha channel, transparent background."""
    rng = np.random.default_rng(seed)
    ink = _ink_from_mnist(digit_img, 256, rng)
    rgba = np.zeros((256, 256, 4), dtype=np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return Image.fromarray(rgba, mode="RGBA")


HANDWRITTEN = {
    "photo_lined": handwritten_photo,
    "scan": handwritten_scan,
    "transparent": handwritten_transparent,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="store name or file (default: default)")
    parser.add_argument("--models-dir", default=None)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--per-style", type=int, default=200)
    args = parser.parse_args()

    import torch

    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.images import naive_preprocess, preprocess_image, preprocess_path
    from mnist_tui.engine.predict import predict_path, probabilities
    from mnist_tui.engine.store import ModelStore

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    store = ModelStore(args.models_dir)
    loaded = store.load(args.model or store.default_model())
    print(
        f"model: {loaded.info.name} ({loaded.info.arch}, {loaded.info.test_acc:.2%} on MNIST test)"
    )

    def score(images: list[tuple[Image.Image, int]]) -> tuple[float, float]:
        ours = naive = 0
        for image, label in images:
            pre = preprocess_image(image)
            if pre.found and int(probabilities(loaded, pre.pixels).argmax()) == label:
                ours += 1
            if int(probabilities(loaded, naive_preprocess(image)).argmax()) == label:
                naive += 1
        return ours / len(images), naive / len(images)

    rows = []
    n = args.per_style
    for style, make in imagestyles.STYLES.items():
        if style == "printed":
            imgs = [(make(d), d) for d in range(10)]  # one font: each digit once
        elif style == "mnist_like":
            imgs = [(imagestyles.mnist_like(i % 10, seed=i), i % 10) for i in range(n)]
        else:
            imgs = [(make(i % 10, i), i % 10) for i in range(n)]
        rows.append(("stroke", style, len(imgs), *score(imgs)))
    test = load_dataset("mnist", args.data_dir, val_size=0).test
    rng = np.random.default_rng(0)
    picks = rng.choice(len(test), size=n, replace=False)
    for style, make in HANDWRITTEN.items():
        imgs = [(make(test.images[j], int(j)), int(test.labels[j])) for j in picks]
        rows.append(("handwritten", style, len(imgs), *score(imgs)))

    print(f"\n{'set':<12} {'style':<12} {'images':>6} {'ours':>8} {'seeds':>8}")
    tot = {"ours": 0.0, "naive": 0.0, "n": 0}
    for set_, style, count, ours, naive in rows:
        print(f"{set_:<12} {style:<12} {count:>6} {ours:>8.1%} {naive:>8.1%}")
        tot["ours"] += ours * count
        tot["naive"] += naive * count
        tot["n"] += count
    print(f"{'all':<12} {'':<12} {tot['n']:>6} {tot['ours'] / tot['n']:>8.1%}"
          f" {tot['naive'] / tot['n']:>8.1%}")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        normal = Path(tmp) / "photo.jpg"
        normal.write_bytes(imagestyles.photo_lined_jpeg(7, seed=1))
        big = Path(tmp) / "big.jpg"
        big.write_bytes(imagestyles.photo_lined_jpeg(7, seed=1, size=(4000, 3000)))
        for label, path in (("800x600 JPEG", normal), ("4000x3000 JPEG", big)):
            predict_path(loaded, path)
            times = []
            for _ in range(15):
                t0 = time.perf_counter()
                predict_path(loaded, path)
                times.append((time.perf_counter() - t0) * 1000)
            pre_t = []
            for _ in range(15):
                t0 = time.perf_counter()
                preprocess_path(path)
                pre_t.append((time.perf_counter() - t0) * 1000)
            print(f"latency {label:<15} predict median {statistics.median(times):6.1f} ms"
                  f" (preprocess alone {statistics.median(pre_t):6.1f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
