"""Answering from a picture and its mirror image, for networks that learned with random flips.

A network trained with random left-right flips (Fashion-MNIST's recipes: a shoe pointing
left is a shoe pointing right) has been taught that a picture and its mirror image are the same
class, so it can be asked about both and its two answers averaged: test-time augmentation with
the one transformation the training made meaningless. Measured on the validation split with
the shipped Fashion default's three `wide` networks, each scored higher with the mirror than
without (BENCHMARKS.md §8, sixteenth session). Digits are never flipped in training (a mirrored
2 is not a 2), so digit models answer from the picture alone.

:class:`Mirrored` returns the log of the mean of the two views' probabilities, as
:class:`~mnist_tui.engine.ensemble.Ensemble` does for its members, so everything that takes
logits (predict, evaluate, calibration, number reading, saliency) works on it unchanged. It
holds no weights of its own: what the store saves and loads is always the bare network.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Mirrored(nn.Module):
    """``net``'s answer averaged over the picture and its left-right mirror image."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # One pass over both views (a batch twice as large costs less than two passes).
        both = self.net(torch.cat([x, x.flip(-1)])).float().log_softmax(1)
        view, mirror = both.chunk(2)
        return torch.logaddexp(view, mirror) - math.log(2.0)


def answering(model: nn.Module, mirrored: bool) -> nn.Module:
    """The module that answers for ``model``: :class:`Mirrored` around it when ``mirrored``."""
    return Mirrored(model) if mirrored else model
