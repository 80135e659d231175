"""Corrupted data is never silently used: the decompressed cache is checked against checksums
written with it (a torn or edited cache is rebuilt from the source files), a bad source file is
one sentence naming it, and a decompression bomb is refused early with little memory."""

from __future__ import annotations

import gzip
import struct
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from datagen import IMAGES_MAGIC, LABELS_MAGIC, idx_bytes, write_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_tui.engine.data import FILES, _cache_key, load_dataset
from mnist_tui.errors import DataError
from mnist_tui.paths import user_cache_dir


def _source_labels(root: Path, stem: str) -> np.ndarray:
    raw = gzip.decompress((root / "MNIST" / "raw" / f"{stem}.gz").read_bytes())
    return np.frombuffer(raw, np.uint8, offset=8).astype(np.int64)


def _cached(root: Path, split: str, kind: str) -> Path:
    """The cache file of one split's images or labels of the data set under ``root``."""
    raw = root / "MNIST" / "raw"
    img, lbl = (raw / f"{stem}.gz" for stem in FILES[split])
    return user_cache_dir() / f"{_cache_key(img, lbl)}-{kind}.npy"


def _damage_array(path: Path, change) -> None:  # noqa: ANN001
    """Rewrite a cached .npy in place (a valid array, wrong contents), as an edit or a bit flip."""
    array = np.load(path)
    np.save(path, change(array))


def test_a_torn_cache_with_zeroed_train_labels_is_rebuilt_not_trained_on(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", n_train=400, n_test=100)
    load_dataset("mnist", root, val_size=0, download=False)
    path = _cached(root, "train", "labels")
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2 :] = bytes(len(blob) - len(blob) // 2)  # a torn write: zeros at the end
    path.write_bytes(bytes(blob))
    again = load_dataset("mnist", root, val_size=0, download=False)
    assert np.array_equal(again.train.labels, _source_labels(root, "train-labels-idx1-ubyte"))


@pytest.mark.parametrize(
    "change",
    [lambda a: (a + 1) % 10, lambda a: np.where(np.arange(len(a)) == 0, 200, a)],
    ids=["edited-labels", "label-200"],
)
def test_edited_cached_test_labels_are_never_used_for_evaluation(tmp_path: Path, change) -> None:  # noqa: ANN001
    root = write_dataset(tmp_path / "data", n_train=400, n_test=100)
    load_dataset("mnist", root, val_size=0, download=False)
    _damage_array(_cached(root, "test", "labels"), change)
    again = load_dataset("mnist", root, val_size=0, download=False)
    assert np.array_equal(again.test.labels, _source_labels(root, "t10k-labels-idx1-ubyte"))
    # and the rebuilt cache is good again: the next load serves it
    assert np.array_equal(np.load(_cached(root, "test", "labels")), again.test.labels)


def test_edited_cached_images_are_rebuilt(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", n_train=400, n_test=100)
    first = load_dataset("mnist", root, val_size=0, download=False)
    _damage_array(_cached(root, "test", "images"), lambda a: 255 - a)
    again = load_dataset("mnist", root, val_size=0, download=False)
    assert np.array_equal(again.test.images, first.test.images)


def test_a_bad_source_label_file_is_one_sentence_naming_the_file(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", n_train=400, n_test=100)
    labels = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.full(100, 200), LABELS_MAGIC)))
    with pytest.raises(DataError) as err:
        load_dataset("mnist", root, val_size=0, download=False)
    message = str(err.value)
    assert str(labels) in message and "200" in message and "0-9" in message
    assert "\n" not in message and message.endswith(".")


def _bomb(path: Path, gib: float = 1.0) -> None:
    """A ~1 MB gzip (concatenated members) whose IDX header claims 60,000 digits but that
    inflates to ``gib`` GiB."""
    chunk = 16 << 20
    header = struct.pack(">IIII", IMAGES_MAGIC, 60000, 28, 28)
    zeros = gzip.compress(b"\x00" * chunk, compresslevel=9)
    first = gzip.compress(header + b"\x00" * (chunk - len(header)), compresslevel=9)
    path.write_bytes(first + zeros * (int(gib * (1 << 30)) // chunk - 1))


def test_a_gzip_bomb_is_refused_early_and_in_little_memory(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", n_train=100, n_test=50)
    bomb = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    _bomb(bomb)
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()  # counts Python's and numpy's allocations, whatever the process size
    t0 = time.perf_counter()
    try:
        with pytest.raises(DataError) as err:
            load_dataset("mnist", root, val_size=0, download=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    seconds = time.perf_counter() - t0
    message = str(err.value)
    assert str(bomb) in message and "inflates to more than" in message
    assert peak < 200 << 20, f"{peak / 2**20:.0f} MB"  # the old code: 2.1 GB and 24 s
    assert seconds < 10


# --------------------------------------------------------------------------- property test


@st.composite
def _gz_files(draw: st.DrawFn) -> bytes:
    """Gzip-ish bytes: real archives of IDX-like content, cut, flipped or with junk appended."""
    magic = draw(st.sampled_from([IMAGES_MAGIC, LABELS_MAGIC, 0x0803, 0]))
    dims = draw(st.lists(st.integers(0, 300_000), min_size=0, max_size=3))
    body = draw(st.binary(max_size=3000))
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + body
    blob = gzip.compress(raw, compresslevel=1) * draw(st.integers(1, 3))
    cut = draw(st.integers(0, len(blob)))
    if draw(st.booleans()):
        blob = blob[:cut]
    if draw(st.booleans()) and blob:
        i = draw(st.integers(0, len(blob) - 1))
        blob = blob[:i] + bytes([blob[i] ^ draw(st.integers(1, 255))]) + blob[i + 1 :]
    return blob + draw(st.binary(max_size=20))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    blob=_gz_files(), which=st.sampled_from(["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
)
def test_malformed_data_files_are_only_ever_a_data_error(
    tmp_path_factory: pytest.TempPathFactory, blob: bytes, which: str
) -> None:
    root = write_dataset(tmp_path_factory.mktemp("data"), n_train=40, n_test=20)
    (root / "MNIST" / "raw" / f"{which}.gz").write_bytes(blob)
    try:
        data = load_dataset("mnist", root, val_size=0, download=False)
    except DataError as exc:
        message = str(exc)
        assert "\n" not in message and message.endswith("."), message
    else:
        assert data.train.images.shape[1:] == (28, 28)
        assert data.test.labels.max(initial=0) <= 9
