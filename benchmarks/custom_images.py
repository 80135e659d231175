"""Custom images: our preprocessing against the seeds' (grayscale + resize to 28x28, nothing
else), on the same model, over images in every style a user sends; plus predict latency.

Two sets, both made here:
- "stroke": digits drawn from the tests' stroke font (tests/imagestyles.py) in five styles:
  MNIST-like, scan, phone photo of lined paper, transparent drawing, printed (Pillow's font).
- "handwritten": real handwriting — MNIST *test* digits (never trained on) enlarged and put on
  paper as a user would photograph or scan them: lined-paper photo (uneven light, ruled lines,
  specks, JPEG), scan, transparent drawing.

Harder pictures (tests/imagestyles.HARD_STYLES), each with stroke-font digits and real
handwriting: a hard shadow, a small digit in a large photo beside a margin line, pencil, a
printed form box, squared paper, chalk on a board, a paint program's 1-px lines, coloured ink on
coloured paper, a tilted photo in perspective, a dark-mode screenshot, an EXIF-rotated JPEG.
Each is scored by today's pipeline (``--baseline-ref``, a git commit, default the parent of
this change) and ours in the same run.

Finally, MNIST test images saved as PNG go through ``predict`` and are compared with what
``evaluate`` feeds the same model.

    python benchmarks/custom_images.py [--model NAME] [--per-style 200] [--hard-only]
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


def photograph(rgb: np.ndarray, full: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Ink ``full`` (h, w coverage in [0, 1]) written on the paper ``rgb`` in blue or black
    pen, under light falling off across the page, with sensor noise, saved as a JPEG."""
    h, w = full.shape
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
    return photograph(rgb, full, rng)


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
    parser.add_argument("--hard-only", action="store_true", help="only the harder styles")
    parser.add_argument(
        "--baseline-ref",
        default="e71e983",
        help="git commit whose engine/images.py is 'today' (default: before #15)",
    )
    parser.add_argument("--mnist-png", type=int, default=2000, help="MNIST test PNGs to check")
    args = parser.parse_args()

    import torch

    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.images import naive_preprocess, preprocess_image
    from mnist_tui.engine.predict import probabilities
    from mnist_tui.engine.store import ModelStore

    torch.set_num_threads(1)
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
    test = load_dataset("mnist", args.data_dir, val_size=0).test
    if not args.hard_only:
        rows += classic_rows(score, n, test)
    baseline = _baseline(args.baseline_ref)
    rows += hard_rows(loaded, n, test, baseline)
    _print_rows(rows)
    mnist_png_check(loaded, test, args.mnist_png)
    latency(loaded)


def classic_rows(score, n: int, test) -> list:  # noqa: ANN001
    """The first round's styles: stroke font and handwriting, ours against the seeds'."""
    rows = []
    for style, make in imagestyles.STYLES.items():
        if style == "printed":
            imgs = [(make(d), d) for d in range(10)]  # one font: each digit once
        elif style == "mnist_like":
            imgs = [(imagestyles.mnist_like(i % 10, seed=i), i % 10) for i in range(n)]
        else:
            imgs = [(make(i % 10, i), i % 10) for i in range(n)]
        rows.append(("stroke", style, len(imgs), *score(imgs), None))
    rng = np.random.default_rng(0)
    picks = rng.choice(len(test), size=n, replace=False)
    for style, make in HANDWRITTEN.items():
        imgs = [(make(test.images[j], int(j)), int(test.labels[j])) for j in picks]
        rows.append(("handwritten", style, len(imgs), *score(imgs), None))
    return rows


def _baseline(ref: str):  # noqa: ANN202
    """Today's preprocessing: engine/images.py as it was at ``ref``, loaded as its own module."""
    import importlib.util
    import subprocess

    source = subprocess.run(
        ["git", "show", f"{ref}:mnist_tui/engine/images.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    folder = Path(tempfile.mkdtemp())
    (folder / "baseline_images.py").write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_images", folder / "baseline_images.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_images"] = module
    spec.loader.exec_module(module)
    return module


def _open(made, folder: Path, k: int):  # noqa: ANN001, ANN202
    """A renderer's picture; JPEG bytes (the EXIF style) are opened as a file, as users do."""
    from mnist_tui.engine.images import load_image

    if isinstance(made, bytes):
        path = folder / f"{k}.jpg"
        path.write_bytes(made)
        return load_image(path)
    return made


def hard_rows(loaded, n: int, test, baseline) -> list:  # noqa: ANN001
    """The harder styles, stroke font and handwriting: ours, today's and the seeds'."""
    from mnist_tui.engine.images import naive_preprocess, preprocess_image
    from mnist_tui.engine.predict import probabilities

    def guess(pixels: np.ndarray) -> int:
        return int(probabilities(loaded, pixels).argmax())

    rng = np.random.default_rng(3)
    picks = rng.choice(len(test), size=n, replace=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for style, render in imagestyles.HARD_STYLES.items():
            for set_ in ("stroke", "handwritten"):
                ours = today = naive = 0
                for k in range(n):
                    if set_ == "stroke":
                        label = k % 10
                        ink = imagestyles.stroke_ink(label, k)
                    else:
                        j = int(picks[k])
                        label = int(test.labels[j])
                        ink = _ink_from_mnist(test.images[j], 256, rng)
                    image = _open(render(ink, k), Path(tmp), k)
                    pre = preprocess_image(image)
                    ours += pre.found and guess(pre.pixels) == label
                    old = baseline.preprocess_image(image)
                    today += old.found and guess(old.pixels) == label
                    naive += guess(naive_preprocess(image)) == label
                rows.append((set_, style, n, ours / n, naive / n, today / n))
    return rows


def _print_rows(rows: list) -> None:
    print(f"\n{'set':<12} {'style':<15} {'images':>6} {'ours':>8} {'today':>8} {'seeds':>8}")
    tot = {"ours": 0.0, "naive": 0.0, "n": 0}
    for set_, style, count, ours, naive, today in rows:
        was = "" if today is None else f"{today:.1%}"
        print(f"{set_:<12} {style:<15} {count:>6} {ours:>8.1%} {was:>8} {naive:>8.1%}")
        tot["ours"] += ours * count
        tot["naive"] += naive * count
        tot["n"] += count
    print(f"{'all':<12} {'':<15} {tot['n']:>6} {tot['ours'] / tot['n']:>8.1%} {'':>8}"
          f" {tot['naive'] / tot['n']:>8.1%}")  # fmt: skip


def mnist_png_check(loaded, test, count: int) -> None:  # noqa: ANN001
    """MNIST test images saved as PNG through predict, against evaluate's own input."""
    from mnist_tui.engine.predict import predict_path, probabilities

    if count <= 0:
        return
    same = right_predict = right_eval = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            path = Path(tmp) / f"{i}.png"
            Image.fromarray(test.images[i]).save(path)
            pred = predict_path(loaded, path)
            direct = int(probabilities(loaded, test.images[i] / np.float32(255)).argmax())
            label = int(test.labels[i])
            same += pred.digit == direct
            right_predict += pred.digit == label
            right_eval += direct == label
    print(f"\nMNIST test PNGs ({count}): predict {right_predict / count:.2%}, evaluate's input"
          f" {right_eval / count:.2%}, same answer {same / count:.2%}")  # fmt: skip


def latency_pictures(folder: Path) -> list[tuple[str, Path]]:
    """The photos latency is timed on, written into ``folder``: an 800x600 and a 4000x3000
    lined-paper JPEG of a 7 and, with pillow-heif, the large one as an iPhone's HEIC."""
    normal = folder / "photo.jpg"
    normal.write_bytes(imagestyles.photo_lined_jpeg(7, seed=1))
    big = folder / "big.jpg"
    big.write_bytes(imagestyles.photo_lined_jpeg(7, seed=1, size=(4000, 3000)))
    pictures = [("800x600 JPEG", normal), ("4000x3000 JPEG", big)]
    heic = _phone_heic(folder / "IMG_0001.HEIC")
    return pictures + ([("4032x3024 HEIC", heic)] if heic is not None else [])


def latency(loaded) -> None:  # noqa: ANN001
    from mnist_tui.engine.images import preprocess_path
    from mnist_tui.engine.predict import predict_path, read_number_path

    with tempfile.TemporaryDirectory() as tmp:
        for label, path in latency_pictures(Path(tmp)):
            for name, call in (("predict", predict_path), ("read_number", read_number_path)):
                call(loaded, path)
                times = []
                for _ in range(15):
                    t0 = time.perf_counter()
                    call(loaded, path)
                    times.append((time.perf_counter() - t0) * 1000)
                print(f"latency {label:<15} {name:<12} median {statistics.median(times):6.1f} ms")
            pre_t = []
            for _ in range(15):
                t0 = time.perf_counter()
                preprocess_path(path)
                pre_t.append((time.perf_counter() - t0) * 1000)
            print(f"latency {label:<15} preprocess   median {statistics.median(pre_t):6.1f} ms")


def _phone_heic(path: Path) -> Path | None:
    """The 4000x3000 photo as an iPhone saves it: 4032x3024 HEIC in a grid of 512x512 tiles
    (which libheif decodes on several threads); None without pillow-heif."""
    try:
        import pillow_heif
    except ImportError:
        print("latency 4032x3024 HEIC: skipped (pillow-heif is not installed)")
        return None
    photo = Image.open(io.BytesIO(imagestyles.photo_lined_jpeg(7, seed=1, size=(4032, 3024))))
    before, pillow_heif.options.GRID_TILE_SIZE = pillow_heif.options.GRID_TILE_SIZE, 512
    try:
        pillow_heif.from_pillow(photo.convert("RGB")).save(path, quality=85)
    finally:
        pillow_heif.options.GRID_TILE_SIZE = before
    return path


if __name__ == "__main__":
    main()
