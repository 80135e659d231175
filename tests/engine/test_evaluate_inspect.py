"""Evaluation figures and the views inside a network, on the tiny trained model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_tui.engine.data import Split, load_dataset
from mnist_tui.engine.evaluate import evaluate
from mnist_tui.engine.inspect import activations, first_layer_filters
from mnist_tui.engine.networks import build_model
from mnist_tui.engine.store import ModelStore
from mnist_tui.errors import Cancelled


@pytest.fixture(scope="module")
def test_split(data_dir: Path) -> Split:
    return load_dataset("mnist", data_dir, val_size=0, download=False).test


def test_confusion_matrix_is_consistent(store: ModelStore, test_split: Split) -> None:
    loaded = store.load("tiny")
    result = evaluate(loaded.model, test_split, loaded.info.mean, loaded.info.std, worst=10)
    n = len(test_split)
    assert result.count == n == 300
    assert result.confusion.shape == (10, 10)
    assert result.confusion.sum() == n
    assert np.array_equal(result.confusion.sum(1), np.bincount(test_split.labels, minlength=10))
    assert result.accuracy == pytest.approx(np.trace(result.confusion) / n)
    for c in range(10):
        row = result.confusion[c]
        assert result.per_class[c] == pytest.approx(row[c] / row.sum())
    # the tiny model matches what the store says it scored
    assert result.accuracy == pytest.approx(loaded.info.test_acc)
    as_dict = result.to_dict()
    assert as_dict["confusion"] == result.confusion.tolist() and len(as_dict["per_class"]) == 10


def test_worst_mistakes_are_wrong_and_sorted(test_split: Split) -> None:
    torch.manual_seed(0)
    model = build_model("classic")  # untrained: plenty of mistakes
    result = evaluate(model, test_split, 0.1307, 0.3081, worst=12)
    assert len(result.worst) == 12
    confidences = [m.confidence for m in result.worst]
    assert confidences == sorted(confidences, reverse=True)
    for m in result.worst:
        assert m.true != m.predicted
        assert m.true == test_split.labels[m.index]
        assert np.array_equal(m.image, test_split.images[m.index])
        assert 0.1 <= m.confidence <= 1.0
    wrong = result.count - int(np.trace(result.confusion))
    assert len(evaluate(model, test_split, 0.1307, 0.3081, worst=10_000).worst) == wrong


def test_evaluate_can_be_cancelled(test_split: Split) -> None:
    with pytest.raises(Cancelled):
        evaluate(build_model("fast"), test_split, 0.1, 0.3, should_stop=lambda: True)


def test_evaluate_empty_split() -> None:
    empty = Split(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64))
    result = evaluate(build_model("fast"), empty, 0.1, 0.3)
    assert result.count == 0 and result.confusion.sum() == 0 and result.worst == []


@pytest.mark.parametrize(
    "arch,filters,side", [("fast", 32, 6), ("best", 32, 6), ("classic", 32, 3), ("era", 32, 3)]
)
def test_first_layer_filters(arch: str, filters: int, side: int) -> None:
    model = build_model(arch)
    out = first_layer_filters(model)
    assert out.shape == (filters, side, side)
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    weight = first.weight.detach()
    if side == 6:  # a 2x2-folded input: the 4-channel 3x3 kernels are 6x6 patches of the image
        assert np.allclose(out[:, 2 * 1 + 1, 2 * 2 + 0], weight[:, 1 * 2 + 0, 1, 2].numpy())
        assert np.allclose(out[:, 0, 5], weight[:, 0 * 2 + 1, 0, 2].numpy())
    else:
        assert np.allclose(out, weight[:, 0].numpy())


def test_activations_of_every_layer(store: ModelStore, test_split: Split) -> None:
    loaded = store.load("tiny")
    pixels = test_split.images[0].astype(np.float32) / 255
    layers = activations(loaded.model, pixels, loaded.info.mean, loaded.info.std)
    model = loaded.model
    assert len(layers) == len(model) + 1  # every top-level layer, then the softmax
    x = torch.from_numpy(pixels).reshape(1, 1, 28, 28).sub(loaded.info.mean).div(loaded.info.std)
    with torch.inference_mode():
        for layer, module in zip(layers, model, strict=False):
            x = module(x)
            assert layer.shape == tuple(x.shape[1:]) == layer.values.shape
            assert layer.kind == ("conv" if x.ndim == 4 else "dense")
    names = [layer.name for layer in layers]
    assert names[0] == "CenterCrop" and layers[0].shape == (1, 20, 20)
    assert names[1] == "PixelUnshuffle" and layers[1].shape == (4, 10, 10)
    assert "Conv2d 4→32 3×3" in names and names[-2] == "Linear 128→10"
    assert layers[-1].name == "Softmax" and layers[-1].shape == (10,)
    assert layers[-1].values.sum() == pytest.approx(1.0, abs=1e-5)
    assert int(layers[-1].values.argmax()) == int(layers[-2].values.argmax())


@pytest.mark.parametrize("arch", ["classic", "era", "best"])
def test_activations_for_other_archs(arch: str) -> None:
    model = build_model(arch)
    layers = activations(model, np.zeros((28, 28), np.float32), 0.1307, 0.3081)
    assert layers[0].kind == "conv" and layers[-1].shape == (10,)
    assert all(np.isfinite(layer.values).all() for layer in layers)
