"""Looking inside a network: first-layer filters, and every layer's output for one input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class LayerActivation:
    """One layer's output for one image: conv maps are (C, H, W), dense layers (N,)."""

    index: int
    name: str  # e.g. "Conv2d 1→16 5×5"
    kind: str  # "conv" for spatial maps, "dense" for vectors
    shape: tuple[int, ...]
    values: np.ndarray


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first convolution layer of a model."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module
    raise ValueError("this model has no convolution layer")


def first_layer_filters(model: nn.Module) -> np.ndarray:
    """The first conv layer's kernels as a float array (filters, kh, kw), in image pixels.

    Where the image is folded 2x2 into channels first (``PixelUnshuffle``), the 4-channel 3x3
    kernels are unfolded back into the 6x6 patches of the image they look at.
    """
    weight = first_conv(model).weight.detach().float().cpu()
    fold = next(
        (m.downscale_factor for m in model.modules() if isinstance(m, nn.PixelUnshuffle)), 1
    )
    if fold > 1 and weight.shape[1] == fold * fold:
        weight = torch.nn.functional.pixel_shuffle(weight, fold)
    return weight.mean(1).numpy()  # MNIST has one input channel; mean keeps any other shape sane


def describe(module: nn.Module) -> str:
    """A short human name for a layer."""
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size
        return f"Conv2d {module.in_channels}→{module.out_channels} {k[0]}×{k[1]}"
    if isinstance(module, nn.Linear):
        return f"Linear {module.in_features}→{module.out_features}"
    return type(module).__name__


@torch.inference_mode()
def activations(
    model: nn.Module,
    pixels: np.ndarray,
    mean: float,
    std: float,
    temperature: float = 1.0,
    member: int = 0,
) -> list[LayerActivation]:
    """Run one 28×28 image (float in [0, 1], ink bright) through the model, keeping every
    top-level layer's output, the (calibrated: logits / ``temperature``) softmax included as
    the last entry. For an ensemble, member ``member`` (0-based) is walked; ``temperature`` is
    then that member's own."""
    from mnist_tui.engine.ensemble import member_network

    model = member_network(model, member)
    model.eval()
    device = next(model.parameters()).device
    x = torch.from_numpy(np.asarray(pixels, dtype=np.float32)).to(device)
    x = x.reshape(1, 1, 28, 28).sub(mean).div(std)
    from mnist_tui.engine.predict import single_thread

    layers: list[LayerActivation] = []
    with single_thread():
        return _walk(model, x, layers, temperature)


def _walk(
    model: nn.Module, x: torch.Tensor, layers: list[LayerActivation], temperature: float = 1.0
) -> list[LayerActivation]:
    for i, module in enumerate(model.children() if isinstance(model, nn.Sequential) else [model]):
        x = module(x)
        out = x[0].float().cpu().numpy()
        kind = "conv" if out.ndim == 3 else "dense"
        layers.append(LayerActivation(i, describe(module), kind, tuple(out.shape), out.copy()))
    probs = torch.softmax(x[0].float() / temperature, 0).cpu().numpy()
    layers.append(LayerActivation(len(layers), "Softmax", "dense", tuple(probs.shape), probs))
    return layers
