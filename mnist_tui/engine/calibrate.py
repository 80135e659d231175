"""Calibration: make a model's confidence mean what it says.

A network trained with label smoothing (the `best` recipe) caps its softmax near 91% however
clear the digit, and one trained without it is over-sure. Temperature scaling (Guo et al.
2017) divides the logits by one number T, fitted by minimising the negative log-likelihood on
held-out images: accuracy is unchanged (the arg-max does not move) while the probabilities
become honest. T lives in a checkpoint's metadata under ``"calibration"``; a model without it
loads with T = 1 ("uncalibrated").

Never fitted on the test set: a run with a validation split fits on it after training; `best`
trains on all 60,000 images, so it takes the temperature its recipe's validation-split run
measured (:data:`RECIPE_TEMPERATURES`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch

# numpy is imported inside the functions that compute: the store reads a model's calibration
# (to list models, and for the menu's status line) before the menu paints, and numpy's import
# is a quarter of that start-up.

ECE_BINS = 15
# The fit's bounds. With no mistakes at all on the validation split, NLL keeps falling as T → 0
# (every answer pushed to 100%); the lower bound stops that. Label smoothing 0.1 fits ~0.5.
FIT_T_MIN, FIT_T_MAX = 0.2, 20.0
T_MIN, T_MAX = 0.01, 100.0  # what a stored temperature may be; anything else reads as T = 1

# Temperatures measured for recipes that train without a validation split, applied to a run of
# that recipe (its architecture, the key before any "@", and its ``settings`` match) with no
# validation split. `best`: T fitted by NLL on the
# 5,000 validation images of `mnist-tui train --arch best --epochs 3 --val-size 5000 --threads 1
# --seed 0` (99.02% validation, 99.38% test). Three epochs, not the recipe's 30: a 30-epoch run
# did not fit in the session on the shared two cores. The shipped default's test ECE is at most
# 1% for any T from 0.3 to 0.65 (BENCHMARKS.md), so the shorter run's T is close enough.
RECIPE_TEMPERATURES: dict[str, dict[str, Any]] = {
    "best": {
        "temperature": 0.4996,
        "fitted_on": "best recipe's validation split, 5,000 images (3-epoch run, seed 0)",
        "settings": {"dataset": "mnist", "label_smoothing": 0.1, "ema": 0.999, "augment": True},
    },
}


@dataclass(frozen=True)
class Calibration:
    """A temperature and where it was fitted (``fitted_on`` is "" for an uncalibrated model)."""

    temperature: float = 1.0
    fitted_on: str = ""

    @property
    def calibrated(self) -> bool:
        """Whether a temperature was fitted (an old checkpoint has none)."""
        return bool(self.fitted_on)

    def describe(self) -> str:
        """Short text for the model list: "T=0.57 (validation, 5,000 images)"."""
        if not self.calibrated:
            return "uncalibrated (T=1)"
        return f"T={self.temperature:.3g} ({self.fitted_on})"

    def to_dict(self) -> dict[str, Any]:
        """What goes under ``metadata["calibration"]``."""
        return {"temperature": self.temperature, "fitted_on": self.fitted_on}

    @classmethod
    def from_meta(cls, raw: Any) -> Calibration:
        """Read ``metadata["calibration"]``; anything missing or malformed means T = 1."""
        if not isinstance(raw, dict):
            return cls()
        try:
            t = float(raw.get("temperature", 1.0))
        except (TypeError, ValueError):
            return cls()
        if not (T_MIN <= t <= T_MAX):
            return cls()
        return cls(t, str(raw.get("fitted_on") or "unknown data"))


def _nll(logits: np.ndarray, labels: np.ndarray, t: float) -> float:
    import numpy as np

    z = logits / t
    z = z - z.max(1, keepdims=True)
    logsum = np.log(np.exp(z).sum(1))
    return float((logsum - z[np.arange(len(labels)), labels]).mean())


def fit_temperature(logits: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor) -> float:
    """The T that minimises NLL of softmax(logits / T) — a bounded 1-D search on log T."""
    import numpy as np

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if len(y) == 0:
        return 1.0
    log_t = golden_section(
        lambda v: _nll(z, y, float(np.exp(v))), np.log(FIT_T_MIN), np.log(FIT_T_MAX), 1e-5
    )
    return float(np.exp(log_t))


def golden_section(f: Callable[[float], float], lo: float, hi: float, tol: float) -> float:
    """The minimum of a unimodal ``f`` on [lo, hi], to within ``tol``.

    Written here rather than taken from scipy.optimize.minimize_scalar (which does the same for
    this one-dimensional, unimodal NLL) because importing scipy.optimize costs 0.5 s of a
    `fast` training run's few seconds (measured with -X importtime, after torch)."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    return (a + b) / 2.0


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax over the last axis of ``logits / temperature`` (float64, numerically safe)."""
    import numpy as np

    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


@dataclass(frozen=True)
class Reliability:
    """Confidence against accuracy in equal-width bins; ``ece`` is the expected calibration error
    (the count-weighted mean gap between a bin's confidence and its accuracy)."""

    ece: float
    edges: list[float]
    counts: list[int]
    confidence: list[float]  # mean confidence per bin (nan when empty)
    accuracy: list[float]  # accuracy per bin (nan when empty)
    mean_confidence: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (empty bins as null)."""

        def clean(xs: list[float]) -> list[float | None]:
            return [None if math.isnan(x) else round(float(x), 6) for x in xs]

        return {
            "ece": round(self.ece, 6),
            "bins": len(self.counts),
            "mean_confidence": round(self.mean_confidence, 6),
            "counts": self.counts,
            "confidence": clean(self.confidence),
            "accuracy": clean(self.accuracy),
        }


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> Reliability:
    """Bin top-1 confidence into ``bins`` equal-width bins over (0, 1] and measure each bin."""
    import numpy as np

    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    if len(labels) == 0:
        nan = [float("nan")] * bins
        return Reliability(float("nan"), edges.tolist(), [0] * bins, nan, nan, float("nan"))
    conf = probs.max(1)
    right = (probs.argmax(1) == labels).astype(np.float64)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    counts = np.bincount(idx, minlength=bins)
    conf_sum = np.bincount(idx, conf, minlength=bins)
    acc_sum = np.bincount(idx, right, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = conf_sum / counts
        acc = acc_sum / counts
    ece = float(np.abs(acc_sum - conf_sum).sum() / len(labels))
    return Reliability(
        ece, edges.tolist(), counts.astype(int).tolist(), mean_conf.tolist(), acc.tolist(),
        float(conf.mean()),
    )  # fmt: skip


def expected_calibration_error(
    probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS
) -> float:
    """ECE with ``bins`` equal-width bins (15 by default, as the issue measures it)."""
    return reliability(probs, labels, bins).ece


def calibration_for_run(
    config: dict[str, Any], val_logits: np.ndarray | None, val_labels: np.ndarray | None
) -> Calibration:
    """A finished run's calibration: fitted on its validation split when it has one, else the
    temperature its recipe's validation-split run measured (when the run used that recipe's
    settings), else none (T = 1)."""
    if val_logits is not None and val_labels is not None and len(val_labels) > 0:
        t = fit_temperature(val_logits, val_labels)
        return Calibration(t, f"validation split, {len(val_labels):,} images")
    for key, known in RECIPE_TEMPERATURES.items():  # "best", "best@fashion": arch@data set
        if config.get("arch") == key.split("@")[0] and all(
            config.get(k) == v for k, v in known["settings"].items()
        ):
            return Calibration(float(known["temperature"]), str(known["fitted_on"]))
    return Calibration()


def calibrate_run(model: Any, config: dict[str, Any], data: Any) -> Calibration:
    """Fit a trained model's temperature on ``data.val`` (never the test set); see
    :func:`calibration_for_run` for runs without a validation split."""
    if len(data.val) == 0:
        return calibration_for_run(config, None, None)
    from mnist_tui.engine.train import predict_logits

    val_logits = predict_logits(model, data.val.images, data.spec.mean, data.spec.std)
    return calibration_for_run(config, val_logits.numpy(), data.val.labels)


def write_calibration(path: Any, calibration: Calibration) -> None:
    """Put ``calibration`` into a checkpoint's metadata, rewriting the header only: the tensor
    bytes after it stay byte-identical (safetensors offsets count from the header's end)."""
    from mnist_tui.engine.store import rewrite_metadata

    rewrite_metadata(path, calibration=calibration.to_dict())
