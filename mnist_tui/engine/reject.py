""" "This doesn't look like a digit": a per-digit decision on one preprocessed 28×28.

The classifier alone cannot say it: a letter "A" gets a digit with a confidence as high as a
real digit's (it was only ever shown digits). What decides is a small separate network, the
*detector*, trained to tell MNIST training digits and printed digits from generated non-digits
(letters, words, symbols, scribbles, noise, shapes, drawings; engine/nondigits.py). It ships
beside the default model (``models/not-a-digit.detector``, safetensors) and works with every
classifier, old checkpoints included. benchmarks/not_a_digit.py compares it with the
classifier's own scores (calibrated maximum probability, energy) on held-out generated sets
and real digits, and with both combined; the detector alone was chosen there.

The decision is a function of one preprocessed 28×28 only, so a reader of several digits can
ask it for each digit it segments. Fashion-MNIST models are never judged (the detector knows
digits only).

A picture that already is an MNIST digit (28×28, white on black, centred: fed to the network
as it is) has a threshold of its own, so that ``predict`` on MNIST's own digits answers what
``evaluate`` answers: it is refused only when the detector is surer than on every one of the
5,000 validation digits, held out of its training (``mnist_threshold``). Between the two
thresholds such a picture is answered with a caution. What that costs is in BENCHMARKS.md §3c
(``benchmarks/mnist_format_refusals.py``): generated non-digits in MNIST's format refused
85.6% of the time instead of 98.7%, the rest answered with the caution.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from torch import nn

    from mnist_tui.engine.store import LoadedModel

DETECTOR_FILE = "not-a-digit.detector"
DETECTOR_ENV = "MNIST_TUI_DETECTOR"
MESSAGE = "This doesn't look like a digit"
CAUTION = "This looks unlike most handwritten digits and may not be one; check the answer."
MEAN, STD = 0.1307, 0.3081


@dataclass(frozen=True)
class Verdict:
    """Whether the 28×28 is refused, the detector's probability that it is not a digit, and the
    sentence to show."""

    rejected: bool
    score: float = 0.0  # P(not a digit) from the detector; 0 when not judged
    message: str = ""


def build_detector() -> nn.Module:
    """The detector: three small convolutions and a dense layer, 2 outputs (digit, not)."""
    from torch import nn

    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(1, 16), nn.MaxPool2d(2),  # 14×14
        *block(16, 32), nn.MaxPool2d(2),  # 7×7
        *block(32, 64), nn.MaxPool2d(2),  # 3×3
        nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2),
    )  # fmt: skip


def detector_path() -> Path | None:
    """Where the detector is: ``$MNIST_TUI_DETECTOR`` (a file, or "off" to refuse nothing),
    else the one shipped beside the default model."""
    import os

    from mnist_tui.paths import shipped_models_dir

    chosen = os.environ.get(DETECTOR_ENV)
    if chosen is not None:
        if chosen.strip().lower() in ("", "0", "off", "none"):
            return None
        return Path(chosen).expanduser()

    folder = shipped_models_dir()
    if folder is None:
        return None
    path = folder / DETECTOR_FILE
    return path if path.is_file() else None


@dataclass(frozen=True)
class Detector:
    """A loaded detector and the threshold on P(not a digit) above which an image is refused."""

    model: Any
    threshold: float
    # For pictures already in MNIST's format (see the module's docstring); None: ``threshold``.
    mnist_threshold: float | None = None

    def scores(self, pixels: np.ndarray) -> np.ndarray:
        """P(not a digit) for (N, 28, 28) float images in [0, 1]."""
        import torch

        from mnist_tui.engine.predict import single_thread

        x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32).reshape(-1, 1, 28, 28))
        self.model.eval()
        out = []
        with torch.inference_mode(), single_thread():
            for start in range(0, len(x), 2000):
                out.append(self.model((x[start : start + 2000] - MEAN) / STD).softmax(1)[:, 1])
        return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


def load_detector(path: str | Path) -> Detector:
    """Load a detector file (safetensors weights; the threshold in its metadata)."""
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file

    model = build_detector()
    model.load_state_dict(load_file(str(path)), strict=True)
    model.eval()
    with safe_open(str(path), framework="pt") as fh:
        meta = json.loads((fh.metadata() or {}).get("detector", "{}"))
    threshold = float(meta.get("threshold", 0.5))
    mnist_threshold = meta.get("mnist_format_threshold")
    return Detector(
        model,
        threshold,
        None if mnist_threshold is None else max(threshold, float(mnist_threshold)),
    )


def shipped_detector() -> Detector | None:
    """The detector in use (None when it is off or missing: nothing is refused)."""
    return _detector_at(detector_path())


@lru_cache(maxsize=4)
def _detector_at(path: Path | None) -> Detector | None:
    if path is None or not path.is_file():
        return None
    try:
        return load_detector(path)
    except Exception:  # noqa: BLE001 - a damaged detector must never stop predictions
        return None


def judge(loaded: LoadedModel, batch: np.ndarray, as_is: list[bool] | None = None) -> list[Verdict]:
    """Refuse each of ``batch``'s preprocessed 28×28s (N, 28, 28) that does not look like one
    digit; one pass of the detector for all of them. ``as_is`` marks the pictures that already
    were MNIST digits (judged by the detector's ``mnist_threshold``)."""
    detector = shipped_detector() if loaded.info.dataset == "mnist" else None
    if detector is None:
        return [Verdict(False) for _ in range(len(batch))]
    marks = as_is if as_is is not None else [False] * len(batch)
    general = detector.threshold
    mnist_format = general if detector.mnist_threshold is None else detector.mnist_threshold
    verdicts = []
    for score, fed_as_is in zip(map(float, detector.scores(np.asarray(batch))), marks, strict=True):
        if score > (mnist_format if fed_as_is else general):
            verdicts.append(Verdict(True, score, f"{MESSAGE}; the best guess is shown."))
        elif score > general:  # only a picture fed as it is gets here: answered, with a caution
            verdicts.append(Verdict(False, score, CAUTION))
        else:
            verdicts.append(Verdict(False, score))
    return verdicts


def save_detector(path: str | Path, model: nn.Module, threshold: float, **meta: Any) -> None:
    """Write a detector file: weights as safetensors, threshold and provenance in metadata
    (``mnist_format_threshold=`` among ``meta`` sets the threshold for MNIST-format pictures)."""
    import json

    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"detector": json.dumps({"threshold": threshold, **meta})})


def train_detector(
    digits: np.ndarray,
    non_digits: np.ndarray,
    *,
    epochs: int = 6,
    batch_size: int = 128,
    seed: int = 0,
    log: Any = None,
) -> nn.Module:
    """Train a detector on float (N, 28, 28) images in [0, 1]: ``digits`` (label 0) against
    ``non_digits`` (label 1), classes weighted equally, with small random shifts and rotations."""
    import torch
    import torch.nn.functional as F

    from mnist_tui.engine import optim

    torch.manual_seed(seed)
    x = torch.from_numpy(np.concatenate([digits, non_digits]).astype(np.float32)).unsqueeze(1)
    y = torch.cat([torch.zeros(len(digits)), torch.ones(len(non_digits))]).long()
    weight = torch.tensor([len(y) / (2 * len(digits)), len(y) / (2 * len(non_digits))])
    model = build_detector()
    opt = optim.Adam(list(model.parameters()), lr=2e-3)
    steps = epochs * ((len(y) + batch_size - 1) // batch_size)
    sched = optim.OneCycle(opt, max_lr=4e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for start in range(0, len(y), batch_size):
            idx = order[start : start + batch_size]
            xb = _jitter(x[idx], gen)
            loss = F.cross_entropy(model((xb - MEAN) / STD), y[idx], weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        if log:
            log(f"detector epoch {epoch + 1}/{epochs}: loss {total / len(y):.4f}")
    model.eval()
    return model


def _jitter(x: Any, gen: Any) -> Any:
    """Random rotation (±12°), scale (0.9-1.1) and shift (±2 px) of a batch."""
    import math

    import torch
    import torch.nn.functional as F

    n = len(x)
    angle = (torch.rand(n, generator=gen) - 0.5) * 2 * math.radians(12)
    scale = 0.9 + 0.2 * torch.rand(n, generator=gen)
    shift = (torch.rand(n, 2, generator=gen) - 0.5) * 2 * (2 / 14)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
