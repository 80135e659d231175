"""The architecture registry: names, origins and sizes, readable without importing torch.

The networks themselves are built by :mod:`mnist_tui.engine.networks`; the menu lists
architectures before torch is imported, so this module stays torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_tui.errors import ConfigError


@dataclass(frozen=True)
class ArchInfo:
    """What a user reads about an architecture before choosing it."""

    name: str
    origin: str
    params: int  # trainable parameters, checked against the built model by the tests


ARCH_INFO: dict[str, ArchInfo] = {
    info.name: info
    for info in (
        ArchInfo("fast", "ours: least compute to 99% on two CPU cores", 58_778),
        ArchInfo("best", "ours: BN VGG-style net for the highest accuracy", 198_666),
        ArchInfo("classic", "seed 1: two convs + two dense, Adam (~99.1%)", 421_642),
        ArchInfo("era", "seed 2: four convs, no biases, SGD + StepLR", 592_660),
        ArchInfo("keras3", "Keras tutorial: three convs + dense 64", 93_322),
        ArchInfo("keras2", "Keras example: two convs + dense 128", 225_034),
        ArchInfo("dropout", "PyTorch examples mnist/main.py, with dropout", 1_199_882),
        ArchInfo("fastfull", "ours: the fast net on the whole 28x28 (for clothes)", 107_930),
        ArchInfo("wide", "ours: the best net twice as wide (for clothes)", 788_490),
    )
}

DEFAULT_ARCH = "fast"


def arch_info(name: str) -> ArchInfo:
    """Look up an architecture, with a one-sentence error listing the known names."""
    try:
        return ARCH_INFO[name]
    except KeyError:
        raise ConfigError(
            f"Unknown architecture {name!r}: choose one of {', '.join(ARCH_INFO)}."
        ) from None
