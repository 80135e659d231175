"""Evaluation on a labelled split: accuracy, loss, per-class accuracy, confusion, worst mistakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mnist_tui.engine.calibrate import ECE_BINS, Reliability, reliability
from mnist_tui.engine.data import Split
from mnist_tui.engine.train import predict_logits


@dataclass(frozen=True)
class Mistake:
    """A misclassified image: what it is, what the model said, and how sure it was."""

    index: int
    true: int
    predicted: int
    confidence: float
    image: np.ndarray  # (28, 28) uint8


@dataclass(frozen=True)
class Evaluation:
    """Test-set figures; ``confusion[t, p]`` counts images of class t predicted as p.

    Confidences are calibrated (logits divided by ``temperature``); ``reliability`` bins them
    against accuracy and holds the ECE; ``ece_uncalibrated`` is the same figure at T = 1.
    """

    accuracy: float
    loss: float
    count: int
    per_class: list[float]
    confusion: np.ndarray
    worst: list[Mistake]
    reliability: Reliability | None = None
    temperature: float = 1.0
    ece_uncalibrated: float | None = None

    @property
    def ece(self) -> float | None:
        """Expected calibration error (15 bins) of the calibrated confidences."""
        return self.reliability.ece if self.reliability else None

    def to_dict(self) -> dict[str, object]:
        """JSON-able figures (without images) for `evaluate --json`."""
        return {
            "accuracy": self.accuracy,
            "loss": self.loss,
            "count": self.count,
            "per_class": self.per_class,
            "confusion": self.confusion.tolist(),
            "worst": [
                {"index": m.index, "true": m.true, "predicted": m.predicted,
                 "confidence": m.confidence}
                for m in self.worst
            ],
            "temperature": self.temperature,
            "ece": self.ece,
            "ece_uncalibrated": self.ece_uncalibrated,
            "reliability": self.reliability.to_dict() if self.reliability else None,
        }  # fmt: skip


def evaluate(
    model: nn.Module,
    split: Split,
    mean: float,
    std: float,
    *,
    worst: int = 24,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    batch_size: int = 1000,
    temperature: float = 1.0,
) -> Evaluation:
    """Evaluate a model on a split; the most confidently wrong images come first in ``worst``.

    Confidences are softmax(logits / ``temperature``), the model's calibration."""
    logits = predict_logits(
        model, split.images, mean, std, batch_size=batch_size,
        should_stop=should_stop, on_batch=on_progress,
    )  # fmt: skip
    labels = torch.from_numpy(split.labels)
    n = len(labels)
    if n == 0:
        return Evaluation(float("nan"), float("nan"), 0, [float("nan")] * 10,
                          np.zeros((10, 10), dtype=np.int64), [])  # fmt: skip
    probs = (logits / temperature).softmax(1)
    pred = probs.argmax(1)
    loss = F.cross_entropy(logits, labels).item()
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (split.labels, pred.numpy()), 1)
    totals = confusion.sum(1)
    per_class = [
        float(confusion[c, c] / totals[c]) if totals[c] else float("nan") for c in range(10)
    ]
    wrong = (pred != labels).nonzero().flatten()
    conf = probs.max(1).values
    order = wrong[conf[wrong].argsort(descending=True)][:worst]
    mistakes = [
        Mistake(int(i), int(labels[i]), int(pred[i]), float(conf[i]), split.images[int(i)])
        for i in order
    ]
    accuracy = float((pred == labels).float().mean())
    rel = reliability(probs.double().numpy(), split.labels, ECE_BINS)
    raw = (
        rel.ece
        if temperature == 1.0
        else reliability(logits.softmax(1).double().numpy(), split.labels, ECE_BINS).ece
    )
    return Evaluation(accuracy, loss, n, per_class, confusion, mistakes, rel, temperature, raw)
