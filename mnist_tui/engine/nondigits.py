"""Generated pictures of things that are not one digit, and printed digits to go with them.

Used to train and measure the "not a digit" detector (engine/reject.py), its benchmark and
its tests; no downloaded files. Every maker takes a ``numpy`` Generator and returns a
greyscale PIL image of dark ink on light paper, which then goes through the same
preprocessing as a user's image.

Families: printed letters (Pillow's scalable default font), hand-drawn letters (straight
strokes, jittered), words, symbols, scribbles, noise, shapes, drawings (faces, houses, stick
figures) and, never used in training, suns and trees. Characters that *are* digit shapes
(O, o, I, l, i, S, s, Z, z, B, b, g, q, G, D, |, /, ( and )) are never generated: a model
cannot and should not refuse them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 128
LETTERS = "ACEFHJKLMNPRTUVWXYacdefhkmnprtuvwxy"  # no digit look-alikes
SYMBOLS = "+=%#&@*?$<>~^{}[]!"
Maker = Callable[[np.random.Generator], Image.Image]

_FONTS: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if size not in _FONTS:
        _FONTS[size] = ImageFont.load_default(size=size)
    return _FONTS[size]


def _paper() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (SIZE, SIZE), 255)
    return image, ImageDraw.Draw(image)


def _finish(image: Image.Image, rng: np.random.Generator, angle: float = 12.0) -> Image.Image:
    image = image.rotate(float(rng.uniform(-angle, angle)), fillcolor=255, resample=Image.BILINEAR)
    return image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))


def _text(
    rng: np.random.Generator, text: str, size_range: tuple[int, int] = (50, 100)
) -> Image.Image:
    image, draw = _paper()
    size = int(rng.integers(*size_range))
    bold = int(rng.integers(0, 4))
    draw.text(
        (SIZE / 2 + rng.uniform(-6, 6), SIZE / 2 + rng.uniform(-6, 6)), text, fill=0,
        font=_font(size), anchor="mm", stroke_width=bold, stroke_fill=0,
    )  # fmt: skip
    return _finish(image, rng)


def printed_letter(rng: np.random.Generator) -> Image.Image:
    """One letter that is not a digit look-alike, printed."""
    return _text(rng, str(rng.choice(list(LETTERS))))


def printed_digit(rng: np.random.Generator) -> Image.Image:
    """A printed digit in the same font and sizes as the letters (a positive for training)."""
    return _text(rng, str(int(rng.integers(0, 10))))


def word(rng: np.random.Generator) -> Image.Image:
    """Two to five letters in a row."""
    n = int(rng.integers(2, 6))
    text = "".join(rng.choice(list(LETTERS + "aeiou"), size=n))
    return _text(rng, text, (int(140 / n) - 4, int(200 / n)))


def symbol(rng: np.random.Generator) -> Image.Image:
    """A printed symbol (+, =, %, #, &, @, ...)."""
    return _text(rng, str(rng.choice(list(SYMBOLS))))


# Hand-drawn capital letters as polylines in a unit box (x 0..0.7, y 0..1), like the tests'
# stroke digits.
_HAND: dict[str, list[list[tuple[float, float]]]] = {
    "A": [[(0.0, 1.0), (0.35, 0.0), (0.7, 1.0)], [(0.15, 0.6), (0.55, 0.6)]],
    "E": [[(0.65, 0.0), (0.05, 0.0), (0.05, 1.0), (0.65, 1.0)], [(0.05, 0.5), (0.5, 0.5)]],
    "F": [[(0.65, 0.0), (0.05, 0.0), (0.05, 1.0)], [(0.05, 0.5), (0.5, 0.5)]],
    "H": [[(0.05, 0.0), (0.05, 1.0)], [(0.65, 0.0), (0.65, 1.0)], [(0.05, 0.5), (0.65, 0.5)]],
    "K": [[(0.05, 0.0), (0.05, 1.0)], [(0.65, 0.0), (0.05, 0.55)], [(0.25, 0.4), (0.65, 1.0)]],
    "M": [[(0.0, 1.0), (0.05, 0.0), (0.35, 0.6), (0.65, 0.0), (0.7, 1.0)]],
    "N": [[(0.05, 1.0), (0.05, 0.0), (0.65, 1.0), (0.65, 0.0)]],
    "T": [[(0.0, 0.0), (0.7, 0.0)], [(0.35, 0.0), (0.35, 1.0)]],
    "V": [[(0.0, 0.0), (0.35, 1.0), (0.7, 0.0)]],
    "W": [[(0.0, 0.0), (0.15, 1.0), (0.35, 0.35), (0.55, 1.0), (0.7, 0.0)]],
    "X": [[(0.0, 0.0), (0.7, 1.0)], [(0.7, 0.0), (0.0, 1.0)]],
    "Y": [[(0.0, 0.0), (0.35, 0.5), (0.7, 0.0)], [(0.35, 0.5), (0.35, 1.0)]],
    "R": [[(0.05, 1.0), (0.05, 0.0), (0.5, 0.0), (0.65, 0.15), (0.6, 0.4), (0.45, 0.5),
           (0.05, 0.5)], [(0.35, 0.5), (0.7, 1.0)]],
    "P": [[(0.05, 1.0), (0.05, 0.0), (0.5, 0.0), (0.65, 0.15), (0.6, 0.4), (0.45, 0.5),
           (0.05, 0.5)]],
    "U": [[(0.05, 0.0), (0.05, 0.75), (0.2, 0.98), (0.5, 0.98), (0.65, 0.75), (0.65, 0.0)]],
    "C": [[(0.65, 0.15), (0.45, 0.0), (0.2, 0.05), (0.03, 0.35), (0.03, 0.65), (0.2, 0.95),
           (0.45, 1.0), (0.65, 0.85)]],
}  # fmt: skip


def _polylines(
    draw: ImageDraw.ImageDraw,
    lines: list[list[tuple[float, float]]],
    rng: np.random.Generator,
    box: tuple[float, float, float],
    width: int,
    jitter: float = 0.03,
) -> None:
    x0, y0, h = box
    for line in lines:
        pts = [
            (x0 + (x + rng.normal(0, jitter)) * h, y0 + (y + rng.normal(0, jitter)) * h)
            for x, y in line
        ]
        draw.line(pts, fill=0, width=width, joint="curve")


def hand_letter(rng: np.random.Generator) -> Image.Image:
    """A capital letter drawn with a pen, jittered and slanted."""
    image, draw = _paper()
    h = float(rng.uniform(70, 105))
    letter = str(rng.choice(list(_HAND)))
    _polylines(draw, _HAND[letter], rng, ((SIZE - 0.7 * h) / 2, (SIZE - h) / 2, h),
               int(rng.integers(4, 12)))  # fmt: skip
    return _finish(image, rng)


def scribble(rng: np.random.Generator) -> Image.Image:
    """A random smooth curve with many turns (6-14 points), sometimes two."""
    image, draw = _paper()
    for _ in range(int(rng.integers(1, 3))):
        n = int(rng.integers(6, 15))
        pts = [(float(x), float(y)) for x, y in rng.uniform(15, SIZE - 15, size=(n, 2))]
        draw.line(pts, fill=0, width=int(rng.integers(3, 10)), joint="curve")
    return _finish(image, rng, 0)


def noise(rng: np.random.Generator) -> Image.Image:
    """Blotches, specks or smooth noise over the whole picture."""
    kind = int(rng.integers(0, 3))
    if kind == 0:
        a = rng.uniform(0, 255, size=(SIZE // 8, SIZE // 8))
        img = Image.fromarray(a.astype(np.uint8)).resize((SIZE, SIZE), Image.BICUBIC)
        return img.filter(ImageFilter.GaussianBlur(2))
    image, draw = _paper()
    for _ in range(int(rng.integers(15, 60) if kind == 1 else rng.integers(4, 10))):
        x, y = rng.uniform(5, SIZE - 5, 2)
        r = rng.uniform(1.5, 4) if kind == 1 else rng.uniform(5, 14)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.integers(0, 120)))
    return image.filter(ImageFilter.GaussianBlur(0.8))


def shape(rng: np.random.Generator) -> Image.Image:
    """A rectangle, triangle, star, filled blob or cross-hatch (never an empty ellipse: a 0)."""
    image, draw = _paper()
    c, r = SIZE / 2, float(rng.uniform(30, 55))
    w = int(rng.integers(3, 10))
    kind = int(rng.integers(0, 5))
    if kind == 0:
        draw.rectangle((c - r, c - r * rng.uniform(0.5, 1), c + r, c + r * rng.uniform(0.5, 1)),
                       outline=0, width=w, fill=0 if rng.random() < 0.3 else None)  # fmt: skip
    elif kind == 1:
        draw.polygon([(c, c - r), (c - r, c + r * 0.8), (c + r, c + r * 0.8)], outline=0,
                     width=w, fill=0 if rng.random() < 0.3 else None)  # fmt: skip
    elif kind == 2:
        pts = []
        for i in range(10):
            rr = r if i % 2 == 0 else r * 0.45
            a = math.pi * i / 5 - math.pi / 2
            pts.append((c + rr * math.cos(a), c + rr * math.sin(a)))
        draw.polygon(pts, outline=0, width=w, fill=0 if rng.random() < 0.5 else None)
    elif kind == 3:
        draw.ellipse((c - r, c - r * 0.8, c + r, c + r * 0.8), fill=0)
    else:
        for i in range(int(rng.integers(3, 6))):
            off = -r + 2 * r * i / 4
            draw.line([(c + off, c - r), (c + off, c + r)], fill=0, width=w)
            draw.line([(c - r, c + off), (c + r, c + off)], fill=0, width=w)
    return _finish(image, rng)


def drawing(rng: np.random.Generator) -> Image.Image:
    """A small line drawing: a smiley, a house or a stick figure."""
    return _drawing(rng, int(rng.integers(0, 3)))


def sun_or_tree(rng: np.random.Generator) -> Image.Image:
    """A sun or a tree: drawings of a kind the detector never saw."""
    return _drawing(rng, int(rng.integers(3, 5)))


def _drawing(rng: np.random.Generator, kind: int) -> Image.Image:
    image, draw = _paper()
    c = SIZE / 2
    w = int(rng.integers(3, 8))
    if kind == 0:  # smiley
        r = 45
        draw.ellipse((c - r, c - r, c + r, c + r), outline=0, width=w)
        for dx in (-16, 16):
            draw.ellipse((c + dx - 5, c - 18, c + dx + 5, c - 8), fill=0)
        draw.arc((c - 25, c - 15, c + 25, c + 25), 20, 160, fill=0, width=w)
    elif kind == 1:  # house
        draw.rectangle((c - 35, c - 5, c + 35, c + 45), outline=0, width=w)
        draw.line([(c - 45, c), (c, c - 45), (c + 45, c)], fill=0, width=w)
        draw.rectangle((c - 8, c + 15, c + 8, c + 45), outline=0, width=w)
    elif kind == 2:  # stick figure
        draw.ellipse((c - 12, c - 50, c + 12, c - 26), outline=0, width=w)
        draw.line([(c, c - 26), (c, c + 15)], fill=0, width=w)
        draw.line([(c - 30, c - 10), (c + 30, c - 10)], fill=0, width=w)
        draw.line([(c - 22, c + 50), (c, c + 15), (c + 22, c + 50)], fill=0, width=w)
    elif kind == 3:  # sun
        r = 22
        draw.ellipse((c - r, c - r, c + r, c + r), outline=0, width=w)
        for i in range(8):
            a = 2 * math.pi * i / 8
            draw.line([(c + 30 * math.cos(a), c + 30 * math.sin(a)),
                       (c + 52 * math.cos(a), c + 52 * math.sin(a))], fill=0, width=w)  # fmt: skip
    else:  # tree
        draw.rectangle((c - 7, c + 10, c + 7, c + 50), fill=0)
        draw.ellipse((c - 40, c - 50, c + 40, c + 20), outline=0, width=w)
        draw.line([(c, c + 10), (c - 18, c - 12)], fill=0, width=w)
        draw.line([(c, c + 5), (c + 20, c - 18)], fill=0, width=w)
    return _finish(image, rng, 20)


FAMILIES: dict[str, Maker] = {
    "printed letter": printed_letter,
    "hand letter": hand_letter,
    "word": word,
    "symbol": symbol,
    "scribble": scribble,
    "noise": noise,
    "shape": shape,
    "drawing": drawing,
    "sun or tree": sun_or_tree,
}
# Kept out of the detector's training entirely, to measure how it does on a kind of thing it
# never saw.
HELD_OUT_FAMILIES = ("sun or tree",)
# Seeds below this are for training; the benchmark and tests draw from above it.
TRAIN_SEEDS = 1_000_000


def generate(family: str, seed: int) -> Image.Image:
    """One picture of ``family`` from ``seed`` (the same seed always gives the same picture)."""
    return FAMILIES[family](np.random.default_rng(seed))


def quick_mnist(image: Image.Image) -> np.ndarray | None:
    """A cheap stand-in for the app's preprocessing of a clean generated picture (dark ink on
    white): crop to the ink, fit into 20×20 keeping the aspect ratio, centre the mass in 28×28.
    About 1 ms against ~20 ms, for making tens of thousands of training pictures; the benchmark
    measures through the real preprocessing. None when there is no ink."""
    ink = 1.0 - np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    ink = np.clip((ink - 0.1) / 0.9, 0.0, 1.0)
    rows = np.nonzero((ink > 0.2).any(axis=1))[0]
    cols = np.nonzero((ink > 0.2).any(axis=0))[0]
    if rows.size == 0:
        return None
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = (
        np.asarray(
            Image.fromarray(np.round(crop * 255).astype(np.uint8)).resize(size, Image.BOX),
            dtype=np.float32,
        )
        / 255.0
    )
    total = float(small.sum())
    if total <= 0:
        return None
    yy, xx = np.indices(small.shape)
    cy, cx = float((yy * small).sum()) / total, float((xx * small).sum()) / total
    sh, sw = small.shape
    top = int(np.clip(round(14 - cy), 0, 28 - sh))
    left = int(np.clip(round(14 - cx), 0, 28 - sw))
    out = np.zeros((28, 28), dtype=np.float32)
    out[top : top + sh, left : left + sw] = small
    return out / max(float(out.max()), 1e-6)


def quick_set(families: list[str], per_family: int, first_seed: int) -> np.ndarray:
    """Training pictures of ``families`` through :func:`quick_mnist`, as (N, 28, 28) float32."""
    out = []
    for f_index, family in enumerate(families):
        for i in range(per_family):
            pixels = quick_mnist(generate(family, first_seed + f_index * per_family + i))
            if pixels is not None:
                out.append(pixels)
    return np.asarray(out, dtype=np.float32).reshape(-1, 28, 28)


def quick_printed_digits(count: int, first_seed: int) -> np.ndarray:
    """Printed digits in the letters' font and sizes, through :func:`quick_mnist`."""
    out = []
    for i in range(count):
        pixels = quick_mnist(_text(np.random.default_rng(first_seed + i), str(i % 10)))
        if pixels is not None:
            out.append(pixels)
    return np.asarray(out, dtype=np.float32).reshape(-1, 28, 28)


def preprocessed_set(
    families: list[str], per_family: int, first_seed: int
) -> dict[str, tuple[np.ndarray, int]]:
    """Each family's pictures through the app's preprocessing: (the 28×28s that were found, as
    float32 (N, 28, 28), and how many had no ink found at all)."""
    from mnist_tui.engine.images import preprocess_image

    out: dict[str, tuple[np.ndarray, int]] = {}
    for f_index, family in enumerate(families):
        kept, missing = [], 0
        for i in range(per_family):
            pre = preprocess_image(generate(family, first_seed + f_index * per_family + i))
            if pre.found:
                kept.append(pre.pixels)
            else:
                missing += 1
        out[family] = (np.asarray(kept, dtype=np.float32).reshape(-1, 28, 28), missing)
    return out


def printed_digits(count: int, first_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Printed digits in the letters' font and sizes, preprocessed: (pixels, labels)."""
    from mnist_tui.engine.images import preprocess_image

    pixels, labels = [], []
    for i in range(count):
        rng = np.random.default_rng(first_seed + i)
        digit = i % 10
        image = _text(rng, str(digit))
        pre = preprocess_image(image)
        if pre.found:
            pixels.append(pre.pixels)
            labels.append(digit)
    return np.asarray(pixels, dtype=np.float32).reshape(-1, 28, 28), np.asarray(labels)
