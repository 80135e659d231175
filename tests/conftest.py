"""Shared fixtures: small IDX data sets the tests write, and a tiny trained model store.

Nothing here needs the real MNIST or a network connection. Tests that want the real data use
the ``real_data_dir`` fixture, which skips unless ``MNIST_TUI_DATA`` points at it.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Encode a uint8 array as an IDX file."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable stand-ins for digits: class c is a bright bar whose row and column depend on c,
    plus a blob, plus noise; a small CNN separates them in one short epoch."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = np.zeros((n, 28, 28), dtype=np.float32)
    for i, c in enumerate(labels):
        r = 5 + 2 * c + rng.integers(-1, 2)
        images[i, r : r + 2, 6:22] = 1.0
        col = 5 + 2 * ((c * 3) % 10) + rng.integers(-1, 2)
        images[i, 6:22, col : col + 2] = 1.0
    images += rng.normal(0, 0.08, images.shape).astype(np.float32)
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), labels.astype(np.uint8)


def write_dataset(
    root: Path, n_train: int = 1200, n_test: int = 300, folder: str = "MNIST", gz: bool = True
) -> Path:
    """Write a small data set in torchvision's layout (ROOT/FOLDER/raw); returns ROOT."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    splits = {"train": synthetic_digits(n_train, 1), "t10k": synthetic_digits(n_test, 2)}
    for prefix, (images, labels) in splits.items():
        for kind, array, magic in (
            ("images-idx3", images, IMAGES_MAGIC),
            ("labels-idx1", labels, LABELS_MAGIC),
        ):
            data = idx_bytes(array, magic)
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (raw / (name + ".gz")).write_bytes(gzip.compress(data, compresslevel=1))
            else:
                (raw / name).write_bytes(data)
    return root


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic MNIST-format data set (1,200 train / 300 test), read-only by use."""
    return write_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def _trained_store(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    from mnist_tui.engine.config import TrainConfig
    from mnist_tui.engine.runs import run_training
    from mnist_tui.engine.store import ModelStore

    root = tmp_path_factory.mktemp("store")
    store = ModelStore(root, shipped=Path(os.devnull) / "none")
    cfg = TrainConfig(arch="fast", epochs=2, batch_size=64, lr=3e-3, val_size=200, threads=1)
    run_training(cfg, store=store, data_dir=data_dir, name="tiny", download=False)
    store.set_active("tiny")
    return root


@pytest.fixture
def store_dir(tmp_path: Path, _trained_store: Path) -> Path:
    """A private copy of a store holding one tiny trained model, "tiny", made active."""
    dest = tmp_path / "models"
    shutil.copytree(_trained_store, dest)
    return dest


@pytest.fixture
def store(store_dir: Path):  # noqa: ANN201
    """A ModelStore over ``store_dir`` that ignores the shipped default."""
    from mnist_tui.engine.store import ModelStore

    return ModelStore(store_dir, shipped=Path(os.devnull) / "none")


@pytest.fixture
def services(data_dir: Path, store_dir: Path):  # noqa: ANN201
    """TUI services over the small data set and the tiny model store (no downloads)."""
    from mnist_tui.tui.services import Services

    s = Services(data_dir=data_dir, models_dir=store_dir, val_size=200, download=False)
    s._store = None
    from mnist_tui.engine.store import ModelStore

    s._store = ModelStore(store_dir, shipped=Path(os.devnull) / "none")
    return s


@pytest.fixture
def real_data_dir() -> Path:
    """The real MNIST, when MNIST_TUI_DATA points at it; otherwise the test is skipped."""
    env = os.environ.get("MNIST_TUI_DATA")
    if not env or not (Path(env) / "MNIST" / "raw").is_dir():
        pytest.skip("set MNIST_TUI_DATA to the folder holding MNIST/raw to run real-data tests")
    return Path(env)
