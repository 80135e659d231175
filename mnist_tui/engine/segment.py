"""Split the ink of a picture into the digits of a number written in a row (no torch).

The ink the preprocessing found (ruled lines already gone) is labelled into connected parts
(``scipy.ndimage.label``, boxes by ``find_objects``). Parts are kept when they stand in the row
of the largest part and are big enough to be a stroke: dots, specks and commas are ignored.
Parts that overlap horizontally (a broken stroke, the bar of a 5 drawn apart, or a 1 under a
7's bar) form one group; the fragments a faint stroke breaks into, each too small to stand in
the row, join the group whose columns hold them. Each group has several readings: as one
digit, parted between its pieces, or cut into 2-6 touching digits where the fewest strokes
cross a column, or in two along a path that bends through the gap between overlapping digits
(a 1 under a 4's arm). Each piece is preprocessed like a single digit
(:func:`~mnist_tui.engine.preprocess.digit_from_ink`); with a classifier, the reading whose
pieces the model is surest of, less what the shapes say against it (a piece far wider than a
digit, a cut across several strokes, each extra digit), wins.

Measured with benchmarks/number_reading.py (BENCHMARKS.md §3b, seeds 0-8, 150 numbers each
with gaps from touching to wide): 96.7-99.3% read exactly, mean 97.9% (seeds 0-5: 95.4% with
overlapping handwriting too); a letter, scribble or symbol between two digits reads as a
number in 5-10 of 40; 1-2% of single digits (very flat ones) are read as two.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from mnist_tui.engine.imageio import _to_grey, load_image
from mnist_tui.engine.imageops import _Components
from mnist_tui.engine.preprocess import (
    InkMap,
    Preprocessed,
    _digit_pixels,
    _main_part,
    _pipeline,
    digit_from_ink,
    find_ink,
    is_mnist_format,
    paper_noise,
)

# MNIST's widest digits (a flat 2, a 0, a 7 with a long bar) reach about this width for their
# height; wider pieces are penalised, steeply, as likely holding touching digits.
WIDE_ASPECT = 1.1
WIDE_SCALE = 0.3
# What the shapes say against each extra digit, and against a cut across more than one stroke (per
# extra stroke), in units of the model's log-confidence. Tuned on
# benchmarks/number_reading.py with a seed the reported run does not use.
SPLIT_COST = 0.3
CUT_STROKE_COST = 1.0
SLIVER_PENALTY = 5.0
# A piece much shorter than the row is not a digit: with candidates the "not a digit" detector
# would refuse scored down, 3.0 let a letter Y be read as "11" (its arm as a short 1). Short
# means under SHORT_HEIGHT of the row's height, or under SHORT_SIZE of it both ways.
SHORT_PENALTY = 8.0
SHORT_HEIGHT = 0.5
SHORT_SIZE = 0.6
# Parting pieces that do not touch costs less than cutting through ink.
SEPARATE_COST = 0.15
# A bending cut (see _path_cut) keeps within this fraction of the row's height of where it
# starts; each column it bends and its drift from the start cost this much (ink costs 1 a pixel).
PATH_REACH = 0.25
PATH_BEND = 0.1
PATH_DRIFT = 0.02
# A bending cut parts two digits only: it costs more than a straight one, so that three
# touching digits are not read as two with one piece holding a pair ("947" as 4 and 7).
PATH_COST = 0.3
PATH_FLOOR = SPLIT_COST + PATH_COST  # the least a bending cut's penalty can be
# Ink narrower than this fraction of the row's height is one thing: when ``classify`` refuses
# it whole (its best probability under REFUSED, as predict's number classifier scales a piece
# the "not a digit" detector refuses), it is not cut into digits. Letters, scribbles and
# symbols between two digits read as a number: 46 -> 29 of 160, for 2 of 1,000 numbers lost
# (narrow overlapping pairs); 0.8 gave 19, but lost 6.
NARROW = 0.7
REFUSED = 0.01
# A lone mark (the picture's only ink) is held to more: to be read as several touching digits
# when it is refused whole, it must be as wide as it is tall. A letter alone
# was read as a number ("H" as 11, "k" as 14) in 47% of generated hand letters with 0.7.
LONE_NARROW = 1.0
# A loop wider than this fraction of a lone mark makes it one shape (see _one_shape).
ONE_LOOP = 0.6
# At most this many touching digits are looked for in one piece of ink.
MAX_TOUCHING = 6
# A batch of (N, 28, 28) images to their (N, 10) probabilities.
Classifier = Callable[[np.ndarray], np.ndarray]
# Parts smaller than this (as a fraction of the row's height, both ways) are dots and specks.
SPECK = 0.3
# A separate mark shorter than 0.6 of the row and narrower than this fraction of its height is
# a comma or a speck, not a digit.
SLIVER = 0.1
# Parts overlapping horizontally by this fraction of the narrower one belong to one digit.
OVERLAP = 0.4
# A faint stroke breaks into fragments too small to stand in the row (the bar of a 7, the top
# of a 5 written lightly). Fragments of at least FRAGMENT of the row's height squared (specks
# are smaller), chained at most FRAGMENT_GAP of the row's height apart, go with the digit whose
# columns hold at least FRAGMENT_OVER of the chain's width; read without them, "75" was "15".
FRAGMENT = 0.005
FRAGMENT_GAP = 0.2
FRAGMENT_OVER = 0.5


@dataclass
class _Group:
    members: list[int]
    left: int
    right: int  # inclusive
    top: int
    bottom: int  # inclusive
    # Fragments of a faint stroke that go with the members (see _attach_fragments): part of
    # the group's ink, never parted from it as a digit of their own.
    fragments: list[int] = field(default_factory=list)

    @property
    def parts(self) -> list[int]:
        return self.members + self.fragments

    @property
    def width(self) -> int:
        return self.right - self.left + 1

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1


def _shared_columns(a: _Group, b: _Group) -> int:
    return max(0, min(a.right, b.right) - max(a.left, b.left) + 1)


def _overlap(a: _Group, b: _Group) -> float:
    return _shared_columns(a, b) / min(a.width, b.width)


def _merge(a: _Group, b: _Group) -> _Group:
    return _Group(
        a.members + b.members,
        min(a.left, b.left),
        max(a.right, b.right),
        min(a.top, b.top),
        max(a.bottom, b.bottom),
    )


def _row_parts(parts: _Components, h: int, w: int) -> tuple[list[int], float]:
    """The parts standing in the main part's row, big enough to be strokes; and the row height."""
    main = _main_part(parts, h, w)
    heights = parts.bottom - parts.top + 1
    widths = parts.right - parts.left + 1
    row_top, row_bottom = int(parts.top[main]), int(parts.bottom[main])
    middle = (parts.top + parts.bottom) / 2
    slack = 0.6 * (row_bottom - row_top + 1)
    in_row = (middle >= row_top - slack) & (middle <= row_bottom + slack)
    tall = in_row & (heights >= 0.5 * heights[main])
    # The tallest digit gives the writing's size (a flat 0 beside a 1 is not a short row).
    row_height = float(heights[tall].max()) if tall.any() else float(heights[main])
    sizeable = parts.areas >= 0.03 * parts.areas[main]
    big_enough = (heights >= SPECK * row_height) | (widths >= SPECK * row_height)
    # Page edges and shadows along a whole side are not digits.
    spans = (heights >= 0.9 * h) | (widths >= 0.9 * w)
    spans &= (parts.top == 0) | (parts.left == 0) | (parts.bottom == h - 1) | (parts.right == w - 1)
    keep = in_row & sizeable & big_enough & ~spans
    keep[main] = True
    return [int(i) for i in np.nonzero(keep)[0]], row_height


def _groups(parts: _Components, members: list[int], row_height: float) -> list[_Group]:
    """Join parts that overlap horizontally, and small pieces just beside a digit."""
    groups = [
        _Group([i], int(parts.left[i]), int(parts.right[i]), int(parts.top[i]),
               int(parts.bottom[i]))
        for i in sorted(members, key=lambda i: (int(parts.left[i]), int(parts.right[i])))
    ]  # fmt: skip
    changed = True
    while changed and len(groups) > 1:
        changed = False
        for i in range(len(groups) - 1):
            a, b = groups[i], groups[i + 1]
            gap = b.left - a.right - 1
            shorter = min(a.height, b.height)
            # Overlapping parts are joined here: a broken stroke (the bar of a 5, a 0 in two
            # halves) or two digits (a 1 under a 7's bar); the member options part them again.
            joined = _overlap(a, b) >= OVERLAP
            if joined or (shorter < 0.5 * row_height and gap <= 0.1 * row_height):
                groups[i : i + 2] = [_merge(a, b)]
                changed = True
                break
    return groups


def _attach_fragments(parts: _Components, groups: list[_Group], row_height: float) -> None:
    """Give each group the fragments of its faint strokes that :func:`_row_parts` left out as
    too small: chains of fragments near each other, each going to the group whose columns
    hold most of it. A chain no group holds stays out (a speck, a stray mark)."""
    if not groups:
        return
    top = min(g.top for g in groups) - 0.3 * row_height
    bottom = max(g.bottom for g in groups) + 0.3 * row_height
    candidates = np.nonzero(parts.areas >= FRAGMENT * row_height * row_height)[0]
    taken = {i for group in groups for i in group.members}
    loose = [
        int(i) for i in candidates
        if int(i) not in taken and parts.bottom[i] >= top and parts.top[i] <= bottom
    ]  # fmt: skip
    reach = FRAGMENT_GAP * row_height
    chains: list[_Group] = []
    for i in sorted(loose, key=lambda i: int(parts.left[i])):
        piece = _Group([i], int(parts.left[i]), int(parts.right[i]), int(parts.top[i]),
                       int(parts.bottom[i]))  # fmt: skip
        for k, chain in enumerate(chains):
            dx = max(chain.left - piece.right, piece.left - chain.right, 0)
            dy = max(chain.top - piece.bottom, piece.top - chain.bottom, 0)
            if max(dx, dy) <= reach:
                chains[k] = _merge(chain, piece)
                break
        else:
            chains.append(piece)
    for chain in chains:
        held = [_shared_columns(chain, g) / chain.width for g in groups]
        best = int(np.argmax(held))
        if held[best] >= FRAGMENT_OVER:
            group = groups[best]
            group.fragments += chain.members
            group.top, group.bottom = min(group.top, chain.top), max(group.bottom, chain.bottom)
            group.left, group.right = min(group.left, chain.left), max(group.right, chain.right)


def _strokes_per_column(window: np.ndarray) -> np.ndarray:
    """How many separate runs of ink each column crosses."""
    starts = window[1:] & ~window[:-1]
    return starts.sum(axis=0) + window[0]


def _cuts(window: np.ndarray, count: int) -> list[int]:
    """Where to cut a run of ``count`` touching digits: near each even cut, the column crossing
    the fewest strokes, then the least ink, then the one closest to the even cut."""
    width = window.shape[1]
    column_ink = window.sum(axis=0).astype(float)
    strokes = _strokes_per_column(window).astype(float)
    step = width / count
    cuts = []
    for j in range(1, count):
        nominal = j * step
        lo = max(1, int(nominal - 0.4 * step))
        hi = min(width - 1, int(nominal + 0.4 * step) + 1)
        span = np.arange(lo, hi)
        cost = strokes[lo:hi] + 0.5 * column_ink[lo:hi] / max(column_ink.max(), 1.0)
        cost += 0.3 * np.abs(span - nominal) / step
        cuts.append(int(span[int(np.argmin(cost))]))
    return cuts


@dataclass
class DigitGroup:
    """Ink standing apart from its neighbours in the row: one digit, or several touching ones.

    ``options`` are the ways to read it, each a list of pieces (masks) left to right; the
    first is the whole group as one digit. ``penalties`` are what the shapes alone say against
    each option (a piece far wider than a digit, a cut through more ink, each extra digit).
    """

    mask: np.ndarray
    options: list[list[np.ndarray]]
    penalties: list[float]
    # Narrower than two digits side by side, or (alone in the picture) one closed shape: if
    # the whole is not a digit, neither are its pieces (a letter between digits cut into
    # "11", a smiley face into "13", a triangle into "61").
    keep_whole: bool = False
    # The bending cuts (see _path_options) go at ``paths_at`` among the options, made only
    # when :meth:`settle` is called: a pass over every row of the picture each.
    paths: Callable[[], list[tuple[list[np.ndarray], float]]] | None = None
    paths_at: int = 0

    def settle(self, bar: float = np.inf) -> None:
        """Put the bending cuts among the options, unless none could be chosen over a whole
        reading that scores ``-bar``: a way wins only with a penalty under ``bar``, and a
        bending cut's is at least PATH_FLOOR."""
        if self.paths is None:
            return
        made = self.paths() if PATH_FLOOR < bar else []
        self.options[self.paths_at : self.paths_at] = [pieces for pieces, _ in made]
        self.penalties[self.paths_at : self.paths_at] = [penalty for _, penalty in made]
        self.paths = None


def _one_shape(parts: _Components, group: _Group) -> bool:
    """True when the group is one closed shape, not digits side by side: one of its parts
    lies inside a loop of another (a face's eyes and mouth inside its outline), or one loop
    spans most of its width (a triangle, a box). Touching digits' loops each lie within one
    digit, and hold no separate marks."""
    from scipy import ndimage

    labels = parts.labels[group.top : group.bottom + 1, group.left : group.right + 1]
    ink = np.isin(labels, group.parts)
    holes, count = ndimage.label(ndimage.binary_fill_holes(ink) & ~ink)
    for box in ndimage.find_objects(holes) if count else []:
        if box[1].stop - box[1].start > ONE_LOOP * group.width:
            return True
    for member in group.members if len(group.members) > 1 else []:
        own = labels == member
        inside = ndimage.binary_fill_holes(own) & ~own
        if (inside & (labels >= 0) & ~own).any():
            return True
    return False


def _piece_penalty(piece: np.ndarray, row_height: float) -> float:
    rows = np.nonzero(piece.any(axis=1))[0]
    cols = np.nonzero(piece.any(axis=0))[0]
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    aspect = width / max(height, 0.8 * row_height)
    wide = max(0.0, aspect - WIDE_ASPECT) / WIDE_SCALE
    penalty = wide * wide + (SLIVER_PENALTY if aspect < 0.12 else 0.0)
    return penalty + (SHORT_PENALTY if _is_short(width, height, row_height) else 0.0)


def _is_short(width: int, height: int, row_height: float) -> bool:
    """A piece much shorter than the row is a broken stroke (the bar of a 5), not a digit; but a
    flat 2 or 5 beside a tall digit is barely half its height, and as wide as a digit: only
    pieces small both ways, or very short, count (flat digits parted from an overlapping
    neighbour were refused as short: "82" not read, "354" read as 34)."""
    return height < SHORT_HEIGHT * row_height or max(width, height) < SHORT_SIZE * row_height


def _two_way_cuts(window: np.ndarray, row_height: float) -> list[int]:
    """Up to three places to cut two touching digits of any widths (a 4 and a 1): the columns
    crossing the fewest strokes with the least ink, at least a fifth of a digit apart."""
    width = window.shape[1]
    column_ink = window.sum(axis=0).astype(float)
    cost = _strokes_per_column(window) + 0.5 * column_ink / max(column_ink.max(), 1.0)
    margin = max(1, int(0.15 * row_height))
    picks: list[int] = []
    for c in np.argsort(cost[margin : width - margin], kind="stable") + margin:
        if all(abs(int(c) - p) >= 0.2 * row_height for p in picks):
            picks.append(int(c))
        if len(picks) == 3:
            break
    return picks


def _path_cut(window: np.ndarray, centre: int, reach: int) -> np.ndarray:
    """A cut from top to bottom near column ``centre`` that may bend (a column a row, within
    ``reach``) to pass through the least ink: the gap between a 1 and the 4 leaning over it,
    which no straight cut finds. The cut's column for each row."""
    h, w = window.shape
    lo, hi = max(1, centre - reach), min(w - 1, centre + reach + 1)
    if hi - lo < 2:
        return np.full(h, centre)
    cols = np.arange(lo, hi)
    # Ink costs most; a bend and a drift from the centre cost a little (a straight cut wins ties).
    cost = window[:, lo:hi].astype(np.float64) + PATH_DRIFT * np.abs(cols - centre) / reach
    n = hi - lo
    total = cost[0].copy()
    came = np.zeros((h, n), dtype=np.int8)
    # One pass per row, into scratch rows reused (half the time of stacking the three choices
    # and taking np.argmin, with its answer: on a tie the left step, then straight on, wins).
    left, right = np.full(n, np.inf), np.full(n, np.inf)
    best = np.empty(n)
    above, rightward = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    for r in range(1, h):
        np.add(total[:-1], PATH_BEND, out=left[1:])
        np.add(total[1:], PATH_BEND, out=right[:-1])
        step = came[r]
        step.fill(-1)
        np.copyto(best, left)
        np.less(total, best, out=above)
        np.copyto(step, 0, where=above)
        np.copyto(best, total, where=above)
        np.less(right, best, out=rightward)
        np.copyto(step, 1, where=rightward)
        np.copyto(best, right, where=rightward)
        np.add(best, cost[r], out=total)
    path = np.empty(h, dtype=np.int64)
    at = int(np.argmin(total))
    for r in range(h - 1, -1, -1):
        path[r] = at
        at += int(came[r, at])
    return path + lo


def _path_options(
    mask: np.ndarray, group: _Group, row_height: float, starts: list[int]
) -> list[tuple[list[np.ndarray], float]]:
    """Cut a group in two along bending paths near ``starts`` (see :func:`_path_cut`)."""
    window = mask[:, group.left : group.right + 1]
    reach = max(2, int(PATH_REACH * row_height))
    columns = np.arange(window.shape[1])[None, :]
    out = []
    for start in starts:
        path = _path_cut(window, start, reach)
        if np.all(path == path[0]):
            continue  # straight: already a column cut
        crossed = window[np.arange(window.shape[0]), path]
        strokes = int(np.count_nonzero(crossed[1:] & ~crossed[:-1])) + int(crossed[0])
        pieces = []
        penalty = SPLIT_COST + PATH_COST + CUT_STROKE_COST * max(0, strokes - 1)
        for side in (columns < path[:, None], columns >= path[:, None]):
            piece = np.zeros_like(mask)
            piece[:, group.left : group.right + 1] = window & side
            pieces.append(piece)
            penalty += _piece_penalty(piece, row_height) if piece.any() else np.inf
        if np.isfinite(penalty):
            out.append((pieces, penalty))
    return out


def _column_options(
    mask: np.ndarray, group: _Group, row_height: float
) -> tuple[list[tuple[list[np.ndarray], float]], Callable[[], list]]:
    """Cut a group into pieces: in two at a few likely places straight down, in more near even
    cuts; and, made when called, in two along bending paths through the least ink."""
    window = mask[:, group.left : group.right + 1]
    starts = _two_way_cuts(window, row_height)
    cut_sets = [[c] for c in starts]
    most = min(MAX_TOUCHING, int(group.width / (0.3 * row_height)))
    cut_sets += [_cuts(window, count) for count in range(3, most + 1)]
    out = []
    for relative in cut_sets:
        cuts = [group.left + c for c in relative]
        edges = [group.left, *cuts, group.right + 1]
        pieces = []
        penalty = SPLIT_COST * len(cuts)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            piece = np.zeros_like(mask)
            piece[:, lo:hi] = mask[:, lo:hi]
            if not piece.any():
                break
            pieces.append(piece)
            penalty += _piece_penalty(piece, row_height)
        else:
            # Cutting across several strokes (the middle of a 0) is unlikely to part two digits.
            for c in cuts:
                column = mask[:, c]
                strokes = int(np.count_nonzero(column[1:] & ~column[:-1])) + int(column[0])
                penalty += CUT_STROKE_COST * max(0, strokes - 1)
            out.append((pieces, penalty))
    return out, lambda: _path_options(mask, group, row_height, starts)


def _member_options(
    parts: _Components, group: _Group, row_height: float
) -> list[tuple[list[np.ndarray], float]]:
    """Part a group of separate pieces between them, in order of their centres."""
    if len(group.members) < 2:
        return []
    order = sorted(group.members, key=lambda i: float(parts.left[i] + parts.right[i]))
    centres = (parts.left + parts.right) / 2
    out = []
    for k in range(1, len(order)):
        pieces, penalty = [], SEPARATE_COST
        # Each fragment goes with the side its centre lies on, split halfway between the
        # centres of the two members parted here.
        split = float(centres[order[k - 1]] + centres[order[k]]) / 2
        near = [[f for f in group.fragments if centres[f] < split],
                [f for f in group.fragments if centres[f] >= split]]  # fmt: skip
        for side, extra in zip((order[:k], order[k:]), near, strict=True):
            piece = np.isin(parts.labels, side + extra)
            pieces.append(piece)
            penalty += _piece_penalty(piece, row_height)
        out.append((pieces, penalty))
    return out


def digit_groups(parts: _Components) -> list[DigitGroup]:
    """The row's digits as groups of ink, left to right, each with its ways to be read."""
    h, w = parts.labels.shape
    members, row_height = _row_parts(parts, h, w)
    groups = _groups(parts, members, row_height)
    _attach_fragments(parts, groups, row_height)
    out = []
    for group in groups:
        rows_ok = group.height >= 0.4 * row_height
        # A comma or a stroke of dirt beside the digits: short, and thinner than a tenth of the
        # row's height (as a digit, it read "181" as 1181).
        sliver = group.height < 0.6 * row_height and group.width < SLIVER * row_height
        if (not rows_ok or sliver) and len(groups) > 1:
            continue  # a dash or a stray mark, much shorter than the digits
        mask = np.isin(parts.labels, group.parts)
        options = [([mask], _piece_penalty(mask, row_height))]
        paths, paths_at = None, 0
        if group.width >= 0.5 * row_height or len(group.members) > 1:
            columns, paths = _column_options(mask, group, row_height)
            options += columns
            paths_at = len(options)
            options += _member_options(parts, group, row_height)
        lone = len(groups) == 1
        keep_whole = group.width < (LONE_NARROW if lone else NARROW) * row_height or (
            lone and _one_shape(parts, group)
        )
        out.append(DigitGroup(
            mask, [o[0] for o in options], [o[1] for o in options], keep_whole, paths, paths_at
        ))  # fmt: skip
    return out or [DigitGroup(np.zeros((h, w), bool), [[np.zeros((h, w), bool)]], [0.0])]


def split_digits(parts: _Components) -> list[np.ndarray]:
    """The ink of each digit in a row, left to right, judged by shape alone (no model)."""
    masks: list[np.ndarray] = []
    for group in digit_groups(parts):
        group.settle()
        masks += group.options[int(np.argmin(group.penalties))]
    return masks


def _log_confidence(confidence: dict[int, float], pre: Preprocessed) -> float:
    return float(np.log(max(confidence.get(id(pre), 0.0), 1e-6)))


def _read_groups(
    found: InkMap,
    groups: list[DigitGroup],
    everything: np.ndarray,
    noise: float,
    classify: Classifier,
) -> list[Preprocessed]:
    """Each group read the way that makes the model surest, weighed against what the shapes say.

    A way's score is the sum of its pieces' log-confidences (each at most 0) less its shape
    penalty, so no way can beat reading the group whole unless its penalty is below the whole
    reading's score, negated. The wholes are classified first, and only the ways that can still
    win are preprocessed and classified after them (the bending cuts are not even made when
    none could): a clear single digit costs one piece, not the seven or so its cuts make, and
    the answer is the same as scoring them all.
    """
    confidence: dict[int, float] = {}

    def score(pres: list[Preprocessed]) -> None:
        pieces = [pre for pre in pres if pre.found]
        if pieces:
            probs = classify(np.stack([pre.pixels for pre in pieces]))
            confidence.update(
                {id(pre): float(np.max(p)) for pre, p in zip(pieces, probs, strict=True)}
            )

    wholes = [digit_from_ink(found, group.options[0][0], everything, noise) for group in groups]
    score(wholes)
    readings: list[list[list[Preprocessed] | None]] = []
    for group, whole in zip(groups, wholes, strict=True):
        bar = group.penalties[0] - _log_confidence(confidence, whole)
        group.settle(bar)
        readings.append([[whole]] + [
            [digit_from_ink(found, piece, everything, noise) for piece in option]
            if penalty < bar else None
            for option, penalty in zip(group.options[1:], group.penalties[1:], strict=True)
        ])  # fmt: skip
    score([pre for ways in readings for way in ways[1:] if way for pre in way])
    chosen: list[Preprocessed] = []
    for group, ways in zip(groups, readings, strict=True):
        scores = [
            sum(_log_confidence(confidence, pre) for pre in way) - penalty if way else -np.inf
            for way, penalty in zip(ways, group.penalties, strict=True)
        ]
        whole = ways[0][0]
        if group.keep_whole and confidence.get(id(whole), 0.0) < REFUSED:
            scores = scores[:1]  # refused as a whole, and not digits side by side
        way = ways[int(np.argmax(scores))]
        assert way is not None  # the whole reading is always scored
        chosen += way
    return chosen


def read_digits(
    image: Image.Image | np.ndarray, classify: Classifier | None = None
) -> list[Preprocessed]:
    """Preprocess every digit of a number written in a row, left to right.

    With ``classify`` (a batch of 28x28 images to their ten probabilities each), a group of
    ink that could be one wide digit or several touching ones is read the way that makes the
    model surest, weighed against what the shapes say; without it, by the shapes alone. A
    picture of one digit gives exactly :func:`preprocess_image`'s result, in a list of one; so
    does a picture with no digit (``found`` False, ``message`` says why).
    """
    grey, source = _to_grey(image)
    if is_mnist_format(grey):
        return [_pipeline(grey, source)]
    found = find_ink(grey, source)
    if isinstance(found, Preprocessed):
        return [found]
    groups = digit_groups(found.parts)
    everything = np.zeros_like(groups[0].mask)
    for group in groups:
        everything |= group.mask
    noise = paper_noise(found, everything)
    if classify is None:
        chosen = []
        for group in groups:
            group.settle()
            option = group.options[int(np.argmin(group.penalties))]
            chosen += [digit_from_ink(found, piece, everything, noise) for piece in option]
    else:
        chosen = _read_groups(found, groups, everything, noise, classify)
    if len(chosen) <= 1:
        # One digit: exactly what the single-digit pipeline would answer.
        return [digit_from_ink(found, _digit_pixels(found.parts))]
    return chosen


def read_digits_path(
    path: str | os.PathLike[str], classify: Classifier | None = None
) -> list[Preprocessed]:
    """Load a picture file safely (see :func:`load_image`) and read its digits."""
    return read_digits(load_image(path), classify)
