"""The networks of the architecture registry, as plain ``nn.Sequential`` models.

Sequential models save and load by parameter name with safetensors, and inspection walks their
layers in order. Names, origins and sizes live in :mod:`mnist_tui.engine.archs` (no torch).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mnist_tui.engine.archs import arch_info


def _folded(side: int, crop: bool) -> nn.Sequential:
    """The fast network on a ``side`` x ``side`` field: folded 2x2 into 4 channels so the first
    conv does 4x the work per memory access (measured: 2x faster, same accuracy)."""
    fold = side // 2
    return nn.Sequential(
        *([CenterCrop(side)] if crop else []),
        nn.PixelUnshuffle(2),
        nn.Conv2d(4, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.Conv2d(32, 16, 3, stride=2, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16 * ((fold + 1) // 2) ** 2, 128),
        nn.BatchNorm1d(128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def _fast() -> nn.Sequential:
    # Fed the central 20x20 (MNIST digits sit in a 20x20 box): 4 channels of 10x10.
    return _folded(20, crop=True)


def _fastfull() -> nn.Sequential:
    # `fast` without its crop: Fashion-MNIST's clothes fill the frame, where digits sit in the
    # middle 20x20. 4 channels of 14x14, then the same layers (about 2x `fast`'s compute).
    return _folded(28, crop=False)


def _vgg(first: int, second: int, hidden: int) -> nn.Sequential:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    # The 2x2 fold to 4x14x14 keeps the convs off 28x28 maps, which are slow on CPUs (measured
    # 10x slower per image than the same net on the folded input).
    return nn.Sequential(
        nn.PixelUnshuffle(2),
        *block(4, first),
        *block(first, first),
        nn.MaxPool2d(2),
        *block(first, second),
        *block(second, second),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(second * 4 * 4, hidden, bias=False),
        nn.BatchNorm1d(hidden),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(hidden, 10),
    )


def _best() -> nn.Sequential:
    return _vgg(32, 64, 128)


def _wide() -> nn.Sequential:
    # `best` twice as wide (four times the convolutions' work): Fashion's best recipe trains it.
    return _vgg(64, 128, 256)


def _classic() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3136, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def _era() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, bias=False),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, bias=False),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, bias=False),
        nn.ReLU(),
        nn.Conv2d(128, 256, 3, bias=False),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4096, 50, bias=False),
        nn.ReLU(),
        nn.Linear(50, 10, bias=False),
    )


def _keras3() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(576, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def _keras2() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def _dropout() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(9216, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


_BUILDERS: dict[str, Callable[[], nn.Sequential]] = {
    "fast": _fast,
    "best": _best,
    "classic": _classic,
    "era": _era,
    "keras3": _keras3,
    "keras2": _keras2,
    "dropout": _dropout,
    "fastfull": _fastfull,
    "wide": _wide,
}


def build_model(name: str) -> nn.Sequential:
    """Build a freshly initialised network of the named architecture (fed 28x28 images)."""
    arch_info(name)
    return _BUILDERS[name]()


def count_params(model: nn.Module) -> int:
    """Trainable parameters of a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class CenterCrop(nn.Module):
    """Keeps the central ``size`` x ``size`` pixels; parameter-free, so checkpoints ignore it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        off = (x.shape[-1] - self.size) // 2
        return x[..., off : off + self.size, off : off + self.size]

    def extra_repr(self) -> str:
        return f"size={self.size}"
