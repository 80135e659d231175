"""Digits 0-9 drawn with Pillow in the styles users send, for tests (no downloaded files).

Each digit is a few hand-written polylines in a unit box (x to the right 0..0.6, y down 0..1),
rendered with a round pen, optional jitter and supersampling for antialiased edges.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Point = tuple[float, float]


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 20, start: float = 0.0):
    return [
        (
            cx + rx * math.cos(start + 2 * math.pi * i / n),
            cy + ry * math.sin(start + 2 * math.pi * i / n),
        )
        for i in range(n + 1)
    ]


STROKES: dict[int, list[list[Point]]] = {
    0: [_ellipse(0.3, 0.5, 0.27, 0.48)],
    1: [[(0.18, 0.18), (0.36, 0.0), (0.33, 1.0)]],
    2: [
        [
            (0.05, 0.25),
            (0.12, 0.08),
            (0.3, 0.0),
            (0.48, 0.06),
            (0.55, 0.22),
            (0.5, 0.4),
            (0.05, 1.0),
            (0.6, 1.0),
        ]
    ],
    3: [
        [
            (0.05, 0.1),
            (0.25, 0.0),
            (0.48, 0.05),
            (0.55, 0.2),
            (0.45, 0.38),
            (0.22, 0.47),
            (0.45, 0.55),
            (0.58, 0.72),
            (0.5, 0.92),
            (0.28, 1.0),
            (0.04, 0.9),
        ]
    ],
    4: [[(0.45, 1.0), (0.45, 0.0), (0.0, 0.68), (0.6, 0.68)]],
    5: [
        [
            (0.56, 0.0),
            (0.12, 0.0),
            (0.08, 0.45),
            (0.3, 0.38),
            (0.5, 0.45),
            (0.58, 0.66),
            (0.52, 0.88),
            (0.3, 1.0),
            (0.04, 0.92),
        ]
    ],
    6: [
        [
            (0.5, 0.04),
            (0.32, 0.0),
            (0.14, 0.12),
            (0.05, 0.38),
            (0.03, 0.65),
            (0.1, 0.9),
            (0.3, 1.0),
            (0.5, 0.92),
            (0.58, 0.72),
            (0.5, 0.5),
            (0.3, 0.42),
            (0.12, 0.5),
            (0.04, 0.66),
        ]
    ],
    7: [[(0.0, 0.0), (0.6, 0.0), (0.22, 1.0)]],
    8: [
        _ellipse(0.3, 0.24, 0.2, 0.24, start=math.pi / 2),
        _ellipse(0.3, 0.74, 0.26, 0.26, start=-math.pi / 2),
    ],
    9: [_ellipse(0.3, 0.31, 0.27, 0.31), [(0.57, 0.31), (0.55, 0.7), (0.45, 1.0)]],
}

GLYPH_WIDTH = 0.6


def draw_digit(
    draw: ImageDraw.ImageDraw,
    digit: int,
    origin: tuple[float, float],
    height: float,
    thickness: float,
    fill: int | tuple[int, ...],
    rng: np.random.Generator | None = None,
    jitter: float = 0.0,
    slant: float = 0.0,
) -> None:
    """Draw ``digit`` with its top-left at ``origin``, ``height`` pixels tall, round pen."""
    x0, y0 = origin
    for line in STROKES[digit]:
        points = []
        for x, y in line:
            dx = dy = 0.0
            if rng is not None and jitter:
                dx, dy = rng.normal(0.0, jitter, size=2)
            px = x0 + (x + slant * (1.0 - y) + dx) * height
            py = y0 + (y + dy) * height
            points.append((px, py))
        draw.line(points, fill=fill, width=max(1, round(thickness)), joint="curve")
        r = thickness / 2
        for px, py in (points[0], points[-1]):
            draw.ellipse((px - r, py - r, px + r, py + r), fill=fill)


def _supersampled(
    size: tuple[int, int],
    digit: int,
    origin: tuple[float, float],
    height: float,
    thickness: float,
    rng: np.random.Generator | None,
    jitter: float,
    slant: float = 0.0,
    factor: int = 4,
) -> Image.Image:
    """An antialiased coverage mask ("L", 255 = ink) of the digit."""
    big = Image.new("L", (size[0] * factor, size[1] * factor), 0)
    draw_digit(
        ImageDraw.Draw(big),
        digit,
        (origin[0] * factor, origin[1] * factor),
        height * factor,
        thickness * factor,
        255,
        rng,
        jitter,
        slant,
    )
    return big.resize(size, Image.Resampling.BOX)


def mnist_like(digit: int, seed: int | None = None, thickness: float = 2.5) -> Image.Image:
    """White on black 28x28, the digit (pen included) about 20 px tall and centred, like MNIST."""
    rng = np.random.default_rng(seed) if seed is not None else None
    height = 19.0 - thickness  # of the pen's centre line: 19 px with the pen, 20 antialiased
    origin = ((28 - GLYPH_WIDTH * height) / 2, 4.5 + thickness / 2)
    return _supersampled((28, 28), digit, origin, height, thickness, rng, 0.015 if rng else 0.0)


def coverage(
    digit: int,
    size: tuple[int, int],
    height: float,
    thickness: float,
    centre: tuple[float, float] | None = None,
    seed: int = 0,
    jitter: float = 0.015,
    slant: float = 0.0,
) -> np.ndarray:
    """Ink coverage in [0, 1] of a jittered digit at ``centre`` (default: the middle)."""
    rng = np.random.default_rng(seed)
    cx, cy = centre if centre else (size[0] / 2, size[1] / 2)
    origin = (cx - GLYPH_WIDTH * height / 2, cy - height / 2)
    mask = _supersampled(size, digit, origin, height, thickness, rng, jitter, slant)
    return np.asarray(mask, dtype=np.float32) / 255.0


def scan(digit: int, seed: int = 0, thickness: float = 12.0, size: int = 300) -> Image.Image:
    """Dark ink on white paper, about 300x300, light noise and a little blur."""
    rng = np.random.default_rng(seed + 1000)
    height = size * rng.uniform(0.55, 0.65)
    centre = (size / 2 + rng.uniform(-15, 15), size / 2 + rng.uniform(-15, 15))
    ink = coverage(digit, (size, size), height, thickness, centre, seed)
    paper = 240 + rng.normal(0, 4, (size, size))
    grey = paper * (1 - ink) + 40 * ink
    image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), mode="L")
    return image.filter(ImageFilter.GaussianBlur(0.8))


def photo_lined_jpeg(digit: int | None, seed: int = 0, size: tuple[int, int] = (800, 600)) -> bytes:
    """A phone photo of a notebook page as JPEG bytes: ruled blue lines, a red margin line,
    uneven lighting, specks and noise; the digit (none if None) is off-centre."""
    rng = np.random.default_rng(seed + 2000)
    w, h = size
    sy = h / 600
    page = Image.new("RGB", size, (250, 248, 240))
    draw = ImageDraw.Draw(page)
    tilt = rng.uniform(-0.02, 0.02)
    spacing = 36 * sy
    y = rng.uniform(10, spacing)
    while y < h + 40 * sy:
        draw.line([(0, y), (w, y + tilt * w)], fill=(140, 170, 215), width=max(1, round(2 * sy)))
        y += spacing
    margin = 90 * w / 800
    draw.line([(margin, 0), (margin, h)], fill=(220, 120, 120), width=max(1, round(2 * sy)))
    for _ in range(40):
        px, py = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.7, 2.5) * sy
        shade = int(rng.uniform(40, 120))
        draw.ellipse((px - r, py - r, px + r, py + r), fill=(shade, shade, shade))
    rgb = np.asarray(page, dtype=np.float32)
    height = 200 * sy
    centre = (w * rng.uniform(0.5, 0.68), h * rng.uniform(0.4, 0.6))
    slant = rng.uniform(-0.1, 0.15)
    if digit is None:
        ink = np.zeros((h, w), dtype=np.float32)
    else:
        ink = coverage(digit, size, height, 9 * sy, centre, seed, slant=slant)
    colour = np.float32([30, 35, 80])
    rgb = rgb * (1 - ink[..., None]) + colour * ink[..., None]
    # Light falls from the top-left: the far corner gets about half the light.
    yy, xx = np.mgrid[0:h, 0:w]
    light = 1.0 - 0.45 * (xx / w * 0.6 + yy / h * 0.4) ** 1.3
    rgb = rgb * light[..., None] + rng.normal(0, 3, rgb.shape)
    photo = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), mode="RGB")
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=70)
    return out.getvalue()


def photo_lined(digit: int, seed: int = 0, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """:func:`photo_lined_jpeg`, decoded."""
    image = Image.open(io.BytesIO(photo_lined_jpeg(digit, seed, size)))
    image.load()
    return image


def transparent(
    digit: int,
    seed: int = 0,
    ink: tuple[int, int, int] = (0, 0, 0),
    hidden: tuple[int, int, int] | None = None,
    size: int = 256,
) -> Image.Image:
    """RGBA drawing: the strokes are in alpha, the background fully transparent.

    ``hidden`` is the colour under alpha=0 (default: the ink colour, i.e. ink only in alpha).
    """
    alpha = coverage(digit, (size, size), size * 0.7, size / 22, None, seed)
    rgba = np.zeros((size, size, 4), dtype=np.uint8)
    rgba[..., :3] = hidden if hidden is not None else ink
    rgba[alpha > 0, :3] = ink
    rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)
    return Image.fromarray(rgba, mode="RGBA")


def printed(digit: int, size: int = 300) -> Image.Image:
    """The digit in Pillow's default font at size 200, black on white."""
    image = Image.new("L", (size, size), 255)
    font = ImageFont.load_default(size=200)
    ImageDraw.Draw(image).text((size / 2, size / 2), str(digit), fill=0, font=font, anchor="mm")
    return image


STYLES = {
    "mnist_like": lambda d: mnist_like(d, seed=d),
    "scan": scan,
    "photo_lined": photo_lined,
    "transparent": transparent,
    "printed": printed,
}


def number(
    text: str,
    gap: float = 0.3,
    seed: int = 0,
    height: float = 120.0,
    thickness: float = 12.0,
    dots: bool = False,
    break_stroke: bool = False,
) -> Image.Image:
    """A number written in a row, dark on white like a scan: ``gap`` between the digits as a
    fraction of their height (negative: they overlap and touch). ``dots`` adds a decimal point
    and specks; ``break_stroke`` leaves a gap in each digit's stroke (a pen that skipped)."""
    rng = np.random.default_rng(seed)
    step = (GLYPH_WIDTH + gap) * height
    width = int(len(text) * step + 2 * height)
    size = (width, int(height * 2))
    ink = np.zeros((size[1], size[0]), dtype=np.float32)
    for k, char in enumerate(text):
        centre = (height + (k + 0.5) * step, size[1] / 2 + rng.uniform(-0.05, 0.05) * height)
        ink = np.maximum(ink, coverage(int(char), size, height, thickness, centre, seed + k))
        if break_stroke:
            # Erase a thin horizontal band through the digit: strokes fall into two pieces.
            top = int(centre[1] - 0.08 * height)
            left, right = int(centre[0] - 0.4 * height), int(centre[0] + 0.4 * height)
            ink[top : top + max(2, int(0.04 * height)), left:right] = 0
    if dots:
        draw = Image.fromarray(np.round(ink * 255).astype(np.uint8), mode="L")
        pen = ImageDraw.Draw(draw)
        x, y = height + 1.0 * step - gap * height / 2, size[1] / 2 + height / 2 - 6
        pen.ellipse((x - 6, y - 6, x + 6, y + 6), fill=255)
        for _ in range(12):
            px, py = rng.uniform(0, size[0]), rng.uniform(0, size[1])
            pen.ellipse((px - 2, py - 2, px + 2, py + 2), fill=255)
        ink = np.asarray(draw, dtype=np.float32) / 255.0
    grey = (240 + rng.normal(0, 3, ink.shape)) * (1 - ink) + 40 * ink
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), mode="L")
