"""The architecture registry: every network builds, fits MNIST, and is the size it claims."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mnist_tui.engine.archs import ARCH_INFO, DEFAULT_ARCH, arch_info
from mnist_tui.engine.networks import build_model, count_params
from mnist_tui.errors import ConfigError


@pytest.mark.parametrize("name", list(ARCH_INFO))
def test_every_arch_builds_and_classifies(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name).eval()
    with torch.inference_mode():
        out = model(torch.rand(3, 1, 28, 28))
    assert out.shape == (3, 10)
    assert torch.isfinite(out).all()
    assert count_params(model) == ARCH_INFO[name].params


@pytest.mark.parametrize("name", list(ARCH_INFO))
def test_every_arch_trains_a_step_with_batch_of_two(name: str) -> None:
    model = build_model(name).train()
    loss = nn.functional.cross_entropy(model(torch.rand(2, 1, 28, 28)), torch.tensor([3, 7]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_classic_matches_its_spec() -> None:
    layers = [m for m in build_model("classic") if isinstance(m, (nn.Conv2d, nn.Linear))]
    c1, c2, f1, f2 = layers
    assert (c1.in_channels, c1.out_channels, c1.kernel_size, c1.padding) == (1, 32, (3, 3), (1, 1))
    assert (c2.in_channels, c2.out_channels, c2.kernel_size, c2.padding) == (32, 64, (3, 3), (1, 1))
    assert (f1.in_features, f1.out_features) == (3136, 128)
    assert (f2.in_features, f2.out_features) == (128, 10)
    assert sum(isinstance(m, nn.MaxPool2d) for m in build_model("classic")) == 2


def test_era_has_no_biases() -> None:
    model = build_model("era")
    assert all(not name.endswith("bias") for name, _ in model.named_parameters())
    assert sum(isinstance(m, nn.Conv2d) for m in model) == 4


def test_fast_sees_a_centre_crop() -> None:
    model = build_model("fast").eval()
    x = torch.rand(1, 1, 28, 28)
    y = x.clone()
    y[..., :4, :] = 5.0  # the border outside the central 20x20 is ignored
    y[..., :, -4:] = 5.0
    with torch.inference_mode():
        assert torch.equal(model(x), model(y))


def test_unknown_arch_is_one_sentence() -> None:
    with pytest.raises(ConfigError) as err:
        arch_info("resnet")
    message = str(err.value)
    assert "\n" not in message and message.endswith(".")
    assert all(name in message for name in ARCH_INFO)
    with pytest.raises(ConfigError):
        build_model("resnet")
    assert DEFAULT_ARCH in ARCH_INFO
