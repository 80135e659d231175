"""Prediction for any image a person has: a path, a PIL image or an array, through the same
MNIST-style preprocessing every face uses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from mnist_tui.engine.images import Preprocessed, preprocess_image, preprocess_path
from mnist_tui.engine.store import LoadedModel

LOW_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Prediction:
    """All ten probabilities, the winner, and the 28×28 the model actually saw."""

    digit: int | None  # None when no digit was found in the image
    confidence: float
    probabilities: list[float]
    pixels: np.ndarray  # (28, 28) float32 in [0, 1]: what was fed (before normalisation)
    found: bool
    message: str  # "" or one sentence: no digit found / low confidence
    original: np.ndarray | None = None
    path: str | None = None
    labels: tuple[str, ...] = field(default=tuple(str(d) for d in range(10)))

    @property
    def label(self) -> str:
        """The winning class's name ("7", or "Sneaker" for Fashion-MNIST)."""
        return "-" if self.digit is None else self.labels[self.digit]

    def to_dict(self) -> dict[str, object]:
        """The JSON line `predict --json` prints."""
        out: dict[str, object] = {
            "path": self.path,
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "probabilities": [round(p, 6) for p in self.probabilities],
        }
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
def probabilities(loaded: LoadedModel, pixels: np.ndarray) -> np.ndarray:
    """Softmax over the ten classes for one 28×28 float image (ink bright, in [0, 1])."""
    model = loaded.model
    model.eval()
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32)).to(device)
    x = x.reshape(1, 1, 28, 28).sub(loaded.info.mean).div(loaded.info.std)
    with single_thread():
        return torch.softmax(model(x)[0].float(), 0).cpu().numpy()


def predict_preprocessed(
    loaded: LoadedModel, pre: Preprocessed, path: str | None = None
) -> Prediction:
    """Classify an already preprocessed image."""
    from mnist_tui.engine.data import DATASETS

    labels = DATASETS.get(loaded.info.dataset, DATASETS["mnist"]).classes
    if not pre.found:
        return Prediction(
            None, 0.0, [0.0] * 10, pre.pixels, False,
            pre.message or "No digit found in the image.", pre.original, path, labels,
        )  # fmt: skip
    probs = probabilities(loaded, pre.pixels)
    digit = int(probs.argmax())
    conf = float(probs[digit])
    message = pre.message
    if not message and conf < LOW_CONFIDENCE:
        message = (
            f"Low confidence ({conf:.0%}): the image may not be a single clear "
            f"{'digit' if loaded.info.dataset == 'mnist' else 'item'}."
        )
    return Prediction(
        digit, conf, [float(p) for p in probs], pre.pixels, True, message, pre.original, path,
        labels,
    )  # fmt: skip


def predict_path(loaded: LoadedModel, path: str | os.PathLike[str]) -> Prediction:
    """Load, preprocess and classify an image file (raises ImageError for unusable files)."""
    return predict_preprocessed(loaded, preprocess_path(path), os.fspath(path))


def predict_image(loaded: LoadedModel, image: object) -> Prediction:
    """Classify a PIL image or an array (a drawing, a data-set sample)."""
    return predict_preprocessed(loaded, preprocess_image(image))  # type: ignore[arg-type]
