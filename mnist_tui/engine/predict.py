"""Prediction for any image a person has: a path, a PIL image or an array, through the same
preprocessing every face uses: MNIST-style for digit models (and a row of digits read as a
number), whole-picture for models of other data sets (see :mod:`mnist_tui.engine.items`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from mnist_tui.engine.images import Preprocessed, load_image, preprocess_image
from mnist_tui.engine.store import LoadedModel

LOW_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Prediction:
    """All ten probabilities, the answer, and the 28×28 the model actually saw.

    Probabilities are calibrated (the model's logits divided by its temperature). ``digit`` is
    None when no digit was found or when the image does not look like a digit (``rejected``);
    ``guess`` is the most probable class whenever there was ink to look at.
    """

    digit: int | None  # None when no digit was found, or the image is not a digit
    confidence: float  # the calibrated probability of ``guess``
    probabilities: list[float]
    pixels: np.ndarray  # (28, 28) float32 in [0, 1]: what was fed (before normalisation)
    found: bool
    message: str  # "" or one sentence: no digit found / not a digit / low confidence
    original: np.ndarray | None = None
    path: str | None = None
    labels: tuple[str, ...] = field(default=tuple(str(d) for d in range(10)))
    noun: str = "digit"  # what the picture should hold ("item" for Fashion-MNIST)
    guess: int | None = None  # the best guess, kept when the answer is "not a digit"
    rejected: bool = False  # ink was found but it does not look like one digit
    temperature: float = 1.0  # the model's calibration (1 = uncalibrated)
    calibrated: bool = False
    # (left, top, right, bottom) of the digit in the source picture's pixels; None if not found.
    box: tuple[int, int, int, int] | None = None

    @property
    def label(self) -> str:
        """The winning class's name ("7", or "Sneaker" for Fashion-MNIST)."""
        return "-" if self.digit is None else self.labels[self.digit]

    @property
    def guess_label(self) -> str:
        """The best guess's name, even when the image was refused ("-" when nothing was found)."""
        return "-" if self.guess is None else self.labels[self.guess]

    def to_dict(self) -> dict[str, object]:
        """The JSON line `predict --json` prints."""
        out: dict[str, object] = {
            "path": self.path,
            "digit": self.digit,
            # The class's name: the digit again for MNIST, "Sneaker" for Fashion-MNIST.
            "label": None if self.digit is None else self.label,
            "confidence": None if self.digit is None else round(self.confidence, 6),
            "probabilities": [round(p, 6) for p in self.probabilities],
        }
        if self.rejected and self.guess is not None:
            out["guess"] = {"digit": self.guess, "confidence": round(self.confidence, 6)}
        out["temperature"] = round(self.temperature, 6)
        out["calibrated"] = self.calibrated
        if self.message:
            out["note"] = self.message
        return out


@contextmanager
def single_thread() -> Iterator[None]:
    """Run one small forward pass on one thread: on a busy machine, waking a thread pool for a
    single image costs ~100x the work itself (measured 75 ms against 0.8 ms)."""
    before = torch.get_num_threads()
    if before > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before > 1:
            torch.set_num_threads(before)


@torch.inference_mode()
def logits_batch(loaded: LoadedModel, batch: np.ndarray) -> np.ndarray:
    """The raw (uncalibrated) logits, (N, 10), for (N, 28, 28) float images (ink bright, in
    [0, 1]), in one forward pass."""
    model = loaded.classifier
    model.eval()
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(device)
    x = x.reshape(-1, 1, 28, 28).sub(loaded.info.mean).div(loaded.info.std)
    with single_thread():
        return model(x).float().cpu().numpy()


def logits(loaded: LoadedModel, pixels: np.ndarray) -> np.ndarray:
    """The raw (uncalibrated) ten logits for one 28×28 float image (ink bright, in [0, 1])."""
    return logits_batch(loaded, np.asarray(pixels)[None])[0]


def probabilities(loaded: LoadedModel, pixels: np.ndarray) -> np.ndarray:
    """Calibrated softmax over the ten classes for one 28×28 float image (ink bright, [0, 1])."""
    from mnist_tui.engine.calibrate import softmax

    return softmax(logits(loaded, pixels), loaded.temperature).astype(np.float32)


def uncalibrated_probabilities_batch(loaded: LoadedModel, batch: np.ndarray) -> np.ndarray:
    """Softmax over the classes for (N, 28, 28) float images, in one forward pass, without the
    calibration: reading numbers weighs these against shape costs tuned on them."""
    return torch.softmax(torch.from_numpy(logits_batch(loaded, batch)), 1).numpy()


def predict_preprocessed(
    loaded: LoadedModel, pre: Preprocessed, path: str | None = None
) -> Prediction:
    """Classify an already preprocessed image: calibrated probabilities, and a refusal (with the
    best guess kept) when the ink does not look like one digit."""
    return predict_all(loaded, [pre], path)[0]


def predict_all(
    loaded: LoadedModel, pres: list[Preprocessed], path: str | None = None
) -> list[Prediction]:
    """:func:`predict_preprocessed` for each of a number's digits, with one forward pass of the
    network and one of the "not a digit" detector for all of them."""
    from mnist_tui.engine.calibrate import softmax
    from mnist_tui.engine.data import DATASETS
    from mnist_tui.engine.reject import judge

    spec = DATASETS.get(loaded.info.dataset, DATASETS["mnist"])
    labels, noun = spec.classes, spec.noun
    cal = loaded.info.calibration
    found = [pre for pre in pres if pre.found]
    answers = {}
    if found:
        batch = np.stack([pre.pixels for pre in found])
        verdicts = judge(loaded, batch, [pre.as_is for pre in found])
        judged = zip(found, logits_batch(loaded, batch), verdicts, strict=True)
        answers = {id(pre): (raw, verdict) for pre, raw, verdict in judged}
    out = []
    for pre in pres:
        if not pre.found:
            out.append(Prediction(
                None, 0.0, [0.0] * 10, pre.pixels, False,
                pre.message or f"No {noun} found in the image.", pre.original, path, labels, noun,
                temperature=cal.temperature, calibrated=cal.calibrated, box=pre.source_box,
            ))  # fmt: skip
            continue
        raw, verdict = answers[id(pre)]
        probs = softmax(raw, cal.temperature)
        guess = int(probs.argmax())
        conf = float(probs[guess])
        message = pre.message
        if verdict.message:
            message = verdict.message
        elif not message and conf < LOW_CONFIDENCE:
            message = f"Low confidence ({conf:.0%}): the image may not be a single clear {noun}."
        out.append(Prediction(
            None if verdict.rejected else guess, conf, [float(p) for p in probs], pre.pixels, True,
            message, pre.original, path, labels, noun, guess=guess, rejected=verdict.rejected,
            temperature=cal.temperature, calibrated=cal.calibrated, box=pre.source_box,
        ))  # fmt: skip
    return out


def reads_digits(loaded: LoadedModel) -> bool:
    """Whether ``loaded`` classifies digits (MNIST-style preprocessing, numbers read), rather
    than whole pictures of one item (Fashion-MNIST): what its data set's pictures hold."""
    from mnist_tui.engine.data import DATASETS

    return DATASETS.get(loaded.info.dataset, DATASETS["mnist"]).noun == "digit"


def preprocess_for(loaded: LoadedModel, image: object) -> Preprocessed:
    """``image`` made ready for ``loaded``: as a digit, or as one whole item."""
    if reads_digits(loaded):
        return preprocess_image(image)  # type: ignore[arg-type]
    from mnist_tui.engine.items import preprocess_item

    return preprocess_item(image)


def predict_path(loaded: LoadedModel, path: str | os.PathLike[str]) -> Prediction:
    """Load, preprocess and classify an image file (raises ImageError for unusable files)."""
    return predict_preprocessed(loaded, preprocess_for(loaded, load_image(path)), os.fspath(path))


def predict_image(loaded: LoadedModel, image: object) -> Prediction:
    """Classify a PIL image or an array (a drawing, a data-set sample)."""
    return predict_preprocessed(loaded, preprocess_for(loaded, image))


@dataclass(frozen=True)
class NumberReading:
    """What a picture says: one digit (exactly :func:`predict_path`'s answer) or a number
    written in a row, read digit by digit, left to right."""

    digits: list[Prediction]  # one per digit, left to right; one (maybe not found) for one digit
    path: str | None = None

    @property
    def number(self) -> str | None:
        """The digits read, as text ("2026"); None when no digit was found."""
        if not self.digits or any(d.digit is None for d in self.digits):
            return None
        return "".join(d.label for d in self.digits)

    @property
    def is_number(self) -> bool:
        """True when the picture holds several digits."""
        return len(self.digits) > 1

    @property
    def confidence(self) -> float:
        """How sure the model is of the whole number: the product of the digits' confidences."""
        return float(np.prod([d.confidence for d in self.digits])) if self.digits else 0.0

    @property
    def refused(self) -> int:
        """How many pieces do not look like digits (with any, no number is read)."""
        return sum(d.digit is None for d in self.digits)

    @property
    def unit(self) -> str:
        """What the pieces of ink are called: "digits" when the number was read, else "pieces"
        (a word or a label with letters is not a row of digits)."""
        return "digits" if self.number is not None else "pieces"

    @property
    def message(self) -> str:
        """ "" or one sentence: the single digit's note, why no number was read, or which
        digits are uncertain."""
        if not self.is_number:
            return self.digits[0].message if self.digits else "No digit found in the image."
        if self.refused:
            return (
                f"{self.refused} of {len(self.digits)} pieces do not look like digits (letters"
                " or marks?); crop the picture to the number."
            )
        unsure = [
            f"{i + 1} ({d.confidence:.0%})"
            for i, d in enumerate(self.digits)
            if d.confidence < LOW_CONFIDENCE
        ]
        if not unsure:
            return ""
        which = "digit " + unsure[0] if len(unsure) == 1 else "digits " + ", ".join(unsure)
        return f"Low confidence in {which} of {len(self.digits)}: check those digits."

    def to_dict(self) -> dict[str, object]:
        """The JSON line `predict --json` prints: today's for one digit; for a number, the
        number, its confidence and each digit's digit, confidence and box."""
        if not self.is_number:
            return self.digits[0].to_dict()
        out: dict[str, object] = {
            "path": self.path,
            "digit": None,
            "number": self.number,
            "confidence": round(self.confidence, 6),
            "digits": [
                {
                    "digit": d.digit,
                    "confidence": round(d.confidence, 6),
                    "box": list(d.box) if d.box else None,
                    "probabilities": [round(p, 6) for p in d.probabilities],
                }
                for d in self.digits
            ],
        }
        if self.message:
            out["note"] = self.message
        return out


# How much a candidate digit the "not a digit" detector would refuse still counts (see below;
# segment.REFUSED takes a best probability under 0.01 for a refused piece).
REFUSED_PIECE = 1e-3
# An accepted piece counts (1 - P(not a digit)) to this power: two overlapping digits read as
# one ("41" as a 4) look a little less like a digit than either alone. With segment's looser
# "short" rule, 2 against 1 kept single digits whole (2 of 600 split, not 5) and read as many
# numbers on the tuning seeds (benchmarks/number_reading.py --seed 7 and 3).
DOUBT_POWER = 2.0


def _number_classifier(loaded: LoadedModel):  # noqa: ANN202
    """Each candidate digit's probabilities, scaled by how much it looks like a digit at all
    (the "not a digit" detector), so a way of splitting a number whose pieces would be refused
    (half a 4 and a 1 with a stub of bar) loses to one whose pieces are digits."""
    from mnist_tui.engine.reject import shipped_detector

    detector = shipped_detector() if loaded.info.dataset == "mnist" else None  # as judge

    def classify(batch: np.ndarray) -> np.ndarray:
        probs = uncalibrated_probabilities_batch(loaded, batch)
        if detector is None:
            return probs
        scores = detector.scores(batch)
        # A piece the detector would refuse makes the number unreadable: such a way of
        # splitting loses to any whose pieces are all accepted.
        looks = np.where(scores > detector.threshold, REFUSED_PIECE, (1.0 - scores) ** DOUBT_POWER)
        return probs * looks[:, None]

    return classify


def read_number(loaded: LoadedModel, image: object, path: str | None = None) -> NumberReading:
    """Read a PIL image or an array: one digit as :func:`predict_image` answers it, or each
    digit of a number written in a row (see :mod:`mnist_tui.engine.segment`). A model of
    another data set (Fashion-MNIST) classifies the whole picture as one item."""
    from mnist_tui.engine.segment import read_digits

    if not reads_digits(loaded):
        return NumberReading(
            [predict_preprocessed(loaded, preprocess_for(loaded, image), path)], path
        )

    pres = read_digits(image, _number_classifier(loaded))
    return NumberReading(predict_all(loaded, pres, path), path)


def read_number_path(loaded: LoadedModel, path: str | os.PathLike[str]) -> NumberReading:
    """Load a picture file safely and read it (raises ImageError for unusable files)."""
    return read_number(loaded, load_image(path), os.fspath(path))
