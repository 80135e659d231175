"""Why this digit: which pixels of the 28×28 the model saw made it choose its answer.

Occlusion (Zeiler & Fergus 2014): blank a small patch of ink, see how far the answer's
log-probability falls, and credit every pixel of the patch with the fall. Chosen over input
gradients by drawing both at 28×28 for MNIST test digits and stroke-font digits (what is
asserted: tests/engine/test_honest.py): gradient × input speckles single pixels
of both signs along every stroke, while occlusion marks whole stroke segments — the diagonal
of a 7, the right-hand bar of a 4 — which is what a person can read in half-blocks. Grad-CAM
was not tried: `best`'s last convolution is 7×7, four pixels a cell. All 169 patches (4×4,
stride 2) go through the network as one batch: 0.3-0.6 s for `best` on one thread of the
busy 2-core machine here, so the faces compute it only when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mnist_tui.engine.store import LoadedModel

PATCH = 4
STRIDE = 2


def _log_probs(loaded: LoadedModel, pixels: np.ndarray) -> np.ndarray:
    """Log-probabilities for a batch of (N, 28, 28) float images in [0, 1]."""
    import torch

    from mnist_tui.engine.predict import single_thread

    model = loaded.classifier
    model.eval()
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32)).to(device)
    x = x.unsqueeze(1).sub(loaded.info.mean).div(loaded.info.std)
    with torch.inference_mode(), single_thread():
        out = model(x).float() / loaded.temperature
        return torch.log_softmax(out, 1).cpu().numpy()


def occlusion(
    loaded: LoadedModel, pixels: np.ndarray, target: int, patch: int = PATCH, stride: int = STRIDE
) -> np.ndarray:
    """(28, 28) map: how much blanking each pixel's neighbourhood lowers the log-probability of
    ``target`` (positive: the pixel is evidence for it; negative: against it)."""
    img = np.asarray(pixels, dtype=np.float32).reshape(28, 28)
    starts = range(0, 28 - patch + 1, stride)
    boxes = [(y, x) for y in starts for x in starts]
    batch = np.repeat(img[None], len(boxes) + 1, axis=0)
    for i, (y, x) in enumerate(boxes, start=1):
        batch[i, y : y + patch, x : x + patch] = 0.0
    logp = _log_probs(loaded, batch)[:, target]
    drop = logp[0] - logp[1:]
    total = np.zeros((28, 28), dtype=np.float64)
    hits = np.zeros((28, 28), dtype=np.float64)
    for d, (y, x) in zip(drop, boxes, strict=True):
        total[y : y + patch, x : x + patch] += d
        hits[y : y + patch, x : x + patch] += 1
    return (total / np.maximum(hits, 1)).astype(np.float32)


def input_gradient(loaded: LoadedModel, pixels: np.ndarray, target: int) -> np.ndarray:
    """(28, 28) gradient × input of ``target``'s log-probability (for comparison)."""
    import torch

    model = loaded.classifier
    model.eval()
    x = torch.from_numpy(np.asarray(pixels, dtype=np.float32).reshape(1, 1, 28, 28).copy())
    x.requires_grad_(True)
    with torch.enable_grad():
        out = torch.log_softmax(model((x - loaded.info.mean) / loaded.info.std), 1)[0, target]
        out.backward()
    grad = x.grad
    assert grad is not None
    return (grad * x).detach()[0, 0].numpy()


def saliency(loaded: LoadedModel, pixels: np.ndarray, target: int) -> np.ndarray:
    """The map every face draws for "why": occlusion in [-1, 1] (0 = no effect), scaled so the
    strongest tenth of the ink reads fully — scaled by the maximum alone, a confident model's
    map is one bright patch with the rest of the evidence too faint to see."""
    sal = occlusion(loaded, pixels, target)
    ink = np.asarray(pixels).reshape(28, 28) > 0.3
    values = np.abs(sal[ink]) if ink.any() else np.abs(sal).ravel()
    scale = float(np.quantile(values, 0.9)) if values.size else 0.0
    scale = max(scale, 1e-3 * float(np.abs(sal).max()))
    if scale <= 1e-9:
        return np.zeros_like(sal)
    return np.clip(sal / scale, -1.0, 1.0).astype(np.float32)
