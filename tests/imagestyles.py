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


# ---------------------------------------------------------------------------------------------
# Harder pictures: what phones and screens really produce. Each renderer takes the digit as ink
# coverage (a square float array in [0, 1]) so the benchmark can use real handwriting too.


def _jpeg(rgb: np.ndarray, quality: int = 75) -> Image.Image:
    out = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=quality)
    image = Image.open(io.BytesIO(out.getvalue()))
    image.load()
    return image


def _place(ink: np.ndarray, size: tuple[int, int], height: float, rng: np.random.Generator,
           where: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:  # fmt: skip
    """The ink resized to ``height`` px and put near ``where`` (fractions) of a w x h canvas."""
    w, h = size
    side = max(2, int(height))
    piece = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize((side, side)))
    cx = int(w * where[0] + rng.uniform(-0.05, 0.05) * w)
    cy = int(h * where[1] + rng.uniform(-0.05, 0.05) * h)
    x0 = int(np.clip(cx - side / 2, 0, w - side))
    y0 = int(np.clip(cy - side / 2, 0, h - side))
    full = np.zeros((h, w), dtype=np.float32)
    full[y0 : y0 + side, x0 : x0 + side] = np.clip(piece, 0, 1)
    return full


def _paint(paper: np.ndarray, ink: np.ndarray, colour) -> np.ndarray:  # noqa: ANN001
    return paper * (1 - ink[..., None]) + np.float32(colour) * ink[..., None]


def hard_shadow(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """A phone's (or hand's) hard shadow across the page: one side half as bright."""
    rng = np.random.default_rng(seed)
    w, h = 800, 600
    paper = np.full((h, w, 3), (245, 243, 236), dtype=np.float32)
    rgb = _paint(paper, _place(ink, (w, h), rng.uniform(200, 280), rng), (25, 25, 35))
    yy, xx = np.ogrid[0:h, 0:w]
    angle = rng.uniform(0, np.pi)
    offset = rng.uniform(-0.15, 0.15) * w
    side = (xx - w / 2) * np.cos(angle) + (yy - h / 2) * np.sin(angle) > offset
    shade = Image.fromarray((side * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.5))
    dark = rng.uniform(0.4, 0.55)
    light = 1 - (1 - dark) * np.asarray(shade, dtype=np.float32)[..., None] / 255
    return _jpeg(rgb * light + rng.normal(0, 3, rgb.shape))


def small_in_large(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """A 12-megapixel-style photo (here 2000x1500) with a small digit beside a margin line."""
    rng = np.random.default_rng(seed)
    w, h = 2000, 1500
    paper = np.full((h, w, 3), (248, 246, 238), dtype=np.float32)
    margin = int(rng.uniform(0.25, 0.4) * w)
    paper[:, margin : margin + 4] = (225, 120, 120)
    height = rng.uniform(110, 150)
    spot = ((margin + rng.uniform(120, 260)) / w, rng.uniform(0.3, 0.7))
    rgb = _paint(paper, _place(ink, (w, h), height, rng, spot), (30, 35, 80))
    yy, xx = np.ogrid[0:h, 0:w]
    light = 1.0 - 0.35 * (xx / w * 0.5 + yy / h * 0.5)
    return _jpeg(rgb * light[..., None] + rng.normal(0, 3, rgb.shape), 80)


def pencil(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """Pencil on paper: grey, grainy graphite, about a third of the paper's contrast."""
    rng = np.random.default_rng(seed)
    w, h = 800, 600
    paper = np.full((h, w, 3), (236, 234, 228), dtype=np.float32)
    placed = _place(ink, (w, h), rng.uniform(220, 300), rng)
    grain = np.clip(rng.normal(0.75, 0.25, placed.shape), 0, 1)
    placed = placed * grain
    rgb = _paint(paper, placed, (150, 150, 155))
    yy, xx = np.ogrid[0:h, 0:w]
    light = 1.0 - 0.3 * (xx / w * 0.6 + yy / h * 0.4)
    return _jpeg(rgb * light[..., None] + rng.normal(0, 3, rgb.shape))


def form_box(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """A digit written in a printed form's box, a row of empty boxes beside it, a printed label."""
    rng = np.random.default_rng(seed)
    w, h = 700, 400
    page = Image.new("RGB", (w, h), (250, 250, 250))
    draw = ImageDraw.Draw(page)
    box = int(rng.uniform(170, 210))
    top = int(rng.uniform(100, 150))
    left0 = int(rng.uniform(30, 80))
    for k in range(3):
        x = left0 + k * (box + 12)
        draw.rectangle((x, top, x + box, top + box), outline=(40, 40, 40), width=3)
    draw.text((left0, top - 40), "Amount", fill=(40, 40, 40), font=ImageFont.load_default(22))
    rgb = np.asarray(page, dtype=np.float32)
    where = ((left0 + box / 2) / w, (top + box / 2) / h)
    placed = _place(ink, (w, h), box * rng.uniform(0.85, 1.0), rng, where)
    # Keep the ink inside the box (writing stays in it) but let it touch the frame.
    rgb = _paint(rgb, placed, (20, 30, 110))
    return _jpeg(rgb + rng.normal(0, 2, rgb.shape), 85)


def squared_paper(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """Squared (graph) paper: a 5 mm grid in both directions, the digit across several cells."""
    rng = np.random.default_rng(seed)
    w, h = 800, 600
    page = Image.new("RGB", (w, h), (248, 248, 244))
    draw = ImageDraw.Draw(page)
    step = rng.uniform(24, 36)
    tilt = rng.uniform(-0.015, 0.015)
    for k in range(-2, int(w / step) + 3):
        x = k * step + rng.uniform(0, 1)
        draw.line([(x, 0), (x - tilt * h, h)], fill=(150, 180, 210), width=2)
    for k in range(-2, int(h / step) + 3):
        y = k * step
        draw.line([(0, y), (w, y + tilt * w)], fill=(150, 180, 210), width=2)
    rgb = _paint(np.asarray(page, dtype=np.float32), _place(ink, (w, h), 240, rng), (30, 30, 40))
    yy, xx = np.ogrid[0:h, 0:w]
    light = 1.0 - 0.3 * (xx / w * 0.6 + yy / h * 0.4)
    return _jpeg(rgb * light[..., None] + rng.normal(0, 3, rgb.shape))


def chalkboard(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """Chalk on a dark green board: grainy, broken light strokes, smudges of old chalk."""
    rng = np.random.default_rng(seed)
    w, h = 800, 600
    board = np.full((h, w, 3), (40, 62, 50), dtype=np.float32)
    smudge = np.asarray(
        Image.fromarray((rng.random((h // 20, w // 20)) * 255).astype(np.uint8)).resize(
            (w, h), Image.Resampling.BICUBIC
        ),
        dtype=np.float32,
    )
    board += (smudge[..., None] / 255 - 0.5) * 24
    placed = _place(ink, (w, h), rng.uniform(220, 300), rng)
    placed *= rng.random(placed.shape) < 0.8
    from scipy import ndimage

    placed = ndimage.gaussian_filter(placed, 1.0)
    rgb = _paint(board, np.clip(placed * 1.3, 0, 1), (225, 228, 220))
    return _jpeg(rgb + rng.normal(0, 4, rgb.shape))


def _thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: strokes down to one pixel, as a 1-px pencil would draw them."""
    m = np.pad(mask.astype(bool), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4 = m[:-2, 1:-1], m[:-2, 2:], m[1:-1, 2:]
            p5, p6, p7 = m[2:, 2:], m[2:, 1:-1], m[2:, :-2]
            p8, p9 = m[1:-1, :-2], m[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            count = sum(r.astype(np.int8) for r in ring[:8])
            turns = sum((~a & b).astype(np.int8) for a, b in zip(ring[:8], ring[1:], strict=True))
            if step == 0:
                side = ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
            else:
                side = ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
            drop = m[1:-1, 1:-1] & (count >= 2) & (count <= 6) & (turns == 1) & side
            if drop.any():
                m[1:-1, 1:-1] &= ~drop
                changed = True
        if not changed:
            return m[1:-1, 1:-1]


def thin_paint(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """A paint program's 1-pixel pencil: hard black lines, no antialiasing, a large canvas."""
    rng = np.random.default_rng(seed)
    size = 480
    placed = _place(ink, (size, size), rng.uniform(300, 380), rng)
    grey = np.where(_thin(placed > 0.5), 0, 255).astype(np.uint8)
    return Image.fromarray(grey, mode="L").convert("RGB")


def coloured(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """Coloured ink on coloured paper of nearly the same brightness: red on green, blue on
    orange, green on pink; the colours differ far more than the greys do."""
    rng = np.random.default_rng(seed)
    pairs = [
        ((200, 40, 40), (110, 170, 110)),
        ((40, 60, 200), (240, 170, 90)),
        ((30, 140, 60), (240, 170, 190)),
        ((120, 40, 160), (150, 200, 230)),
    ]
    ink_rgb, paper_rgb = pairs[int(rng.integers(len(pairs)))]
    w, h = 800, 600
    paper = np.full((h, w, 3), paper_rgb, dtype=np.float32)
    rgb = _paint(paper, _place(ink, (w, h), rng.uniform(220, 300), rng), ink_rgb)
    yy, xx = np.ogrid[0:h, 0:w]
    light = 1.0 - 0.25 * (xx / w * 0.6 + yy / h * 0.4)
    return _jpeg(rgb * light[..., None] + rng.normal(0, 3, rgb.shape))


def tilted(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """A photo taken at an angle: the page in perspective and turned, the table around it."""
    rng = np.random.default_rng(seed)
    w, h = 800, 600
    page = Image.new("RGB", (w, h), (246, 244, 236))
    draw = ImageDraw.Draw(page)
    for y in range(20, h, 36):
        draw.line([(0, y), (w, y)], fill=(140, 170, 215), width=2)
    rgb = _paint(np.asarray(page, dtype=np.float32), _place(ink, (w, h), 230, rng), (30, 35, 80))
    flat = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    angle = rng.uniform(-20, 20)
    turned = flat.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=(90, 70, 50))
    # Perspective: the far edge narrower, as a phone held at about 30 degrees sees it.
    squeeze = rng.uniform(0.08, 0.18) * w
    coeffs = _perspective_coeffs(
        [(0, 0), (w, 0), (w, h), (0, h)],
        [(-squeeze, 0), (w + squeeze, 0), (w, h), (0, h)],
    )
    seen = turned.transform((w, h), Image.Transform.PERSPECTIVE, coeffs,
                            Image.Resampling.BILINEAR, fillcolor=(90, 70, 50))  # fmt: skip
    out = np.asarray(seen, dtype=np.float32)
    return _jpeg(out + rng.normal(0, 3, out.shape))


def _perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]):  # noqa: ANN202
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=np.float64)
    b = np.array([c for p in src for c in p], dtype=np.float64)
    return np.linalg.solve(a, b).tolist()


def dark_mode(ink: np.ndarray, seed: int = 0) -> Image.Image:
    """A dark-mode screenshot of a drawing app: light strokes on #1e1e1e, a lighter toolbar
    along the top and a side panel with a few buttons."""
    rng = np.random.default_rng(seed)
    w, h = 900, 640
    shot = Image.new("RGB", (w, h), (30, 30, 30))
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, w, 44), fill=(50, 50, 54))
    for k in range(6):
        draw.rounded_rectangle((12 + 44 * k, 8, 44 + 44 * k, 36), 6, fill=(70, 70, 76))
    draw.rectangle((w - 160, 44, w, h), fill=(38, 38, 42))
    draw.text((w - 148, 60), "Layers", fill=(200, 200, 200), font=ImageFont.load_default(18))
    rgb = np.asarray(shot, dtype=np.float32)
    where = (0.4, 0.55)
    rgb = _paint(rgb, _place(ink, (w, h), rng.uniform(250, 340), rng, where), (235, 235, 235))
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def exif_rotated_jpeg(ink: np.ndarray, seed: int = 0) -> bytes:
    """A phone JPEG whose pixels are stored sideways with an EXIF orientation tag to turn it."""
    rng = np.random.default_rng(seed)
    upright = hard_shadow_free_photo(ink, rng)
    orientation = int(rng.choice([6, 8, 3]))
    stored = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270,
              3: Image.Transpose.ROTATE_180}[orientation]  # fmt: skip
    sideways = upright.transpose(stored)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    sideways.save(out, "JPEG", quality=80, exif=exif.tobytes())
    return out.getvalue()


def hard_shadow_free_photo(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A plain phone photo of lined paper (uneven light), upright, for the EXIF style."""
    w, h = 800, 600
    page = Image.new("RGB", (w, h), (248, 246, 238))
    draw = ImageDraw.Draw(page)
    for y in range(18, h, 36):
        draw.line([(0, y), (w, y)], fill=(140, 170, 215), width=2)
    rgb = _paint(np.asarray(page, dtype=np.float32), _place(ink, (w, h), 240, rng), (30, 35, 80))
    yy, xx = np.ogrid[0:h, 0:w]
    light = 1.0 - 0.35 * (xx / w * 0.6 + yy / h * 0.4)
    return Image.fromarray(np.clip(rgb * light[..., None], 0, 255).astype(np.uint8))


def stroke_ink(digit: int, seed: int = 0) -> np.ndarray:
    """A stroke-font digit as square ink coverage (256 px, pen about a tenth of the height)."""
    return coverage(digit, (256, 256), 200, 20, None, seed)


# name -> renderer(ink, seed) returning a PIL image (or JPEG bytes, for EXIF: open it as a file)
HARD_STYLES = {
    "hard_shadow": hard_shadow,
    "small_in_large": small_in_large,
    "pencil": pencil,
    "form_box": form_box,
    "squared_paper": squared_paper,
    "chalkboard": chalkboard,
    "thin_paint": thin_paint,
    "coloured": coloured,
    "tilted": tilted,
    "dark_mode": dark_mode,
    "exif_rotated": exif_rotated_jpeg,
}
