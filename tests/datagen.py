"""Small MNIST-format data sets the tests write: IDX encoding and learnable synthetic digits."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

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
