"""The IDX loader: layouts, the validation split, every kind of broken file, and downloads."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from datagen import idx_bytes, synthetic_digits, write_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_tui.engine import data as data_mod
from mnist_tui.engine.data import (
    ALL_FILE_NAMES,
    IMAGES_MAGIC,
    LABELS_MAGIC,
    Split,
    load_dataset,
    parse_idx,
    parse_split,
    split_validation,
)
from mnist_tui.errors import DataError


def assert_one_sentence(message: str) -> None:
    assert "\n" not in message, message
    assert message.endswith("."), message
    assert "Traceback" not in message


def _write_flat(folder: Path, gz: bool, n_train: int = 60, n_test: int = 20) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = synthetic_digits(n, seed)
        for stem, blob in (
            (f"{prefix}-images-idx3-ubyte", idx_bytes(images, IMAGES_MAGIC)),
            (f"{prefix}-labels-idx1-ubyte", idx_bytes(labels, LABELS_MAGIC)),
        ):
            if gz:
                (folder / (stem + ".gz")).write_bytes(gzip.compress(blob, compresslevel=1))
            else:
                (folder / stem).write_bytes(blob)


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_loads_torchvision_layout(tmp_path: Path, gz: bool) -> None:
    write_dataset(tmp_path, n_train=300, n_test=50, gz=gz)
    data = load_dataset("mnist", tmp_path, val_size=100, download=False)
    assert (len(data.train), len(data.val), len(data.test)) == (200, 100, 50)
    assert data.train.images.shape == (200, 28, 28) and data.train.images.dtype == np.uint8
    assert data.test.labels.dtype == np.int64
    assert data.source == tmp_path / "MNIST" / "raw"
    # the pixels are the ones written, not a re-encoding
    images, labels = synthetic_digits(50, 2)
    assert np.array_equal(data.test.images, images)
    assert np.array_equal(data.test.labels, labels)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_loads_flat_folder(tmp_path: Path, gz: bool) -> None:
    _write_flat(tmp_path, gz)
    data = load_dataset("mnist", tmp_path, val_size=10, download=False)
    assert (len(data.train), len(data.val), len(data.test)) == (50, 10, 20)
    assert data.source == tmp_path


def test_fashion_lives_in_its_own_folder(tmp_path: Path) -> None:
    write_dataset(tmp_path, n_train=100, n_test=20, folder="FashionMNIST")
    data = load_dataset("fashion", tmp_path, val_size=10, download=False)
    assert data.spec.title == "Fashion-MNIST"
    assert data.source == tmp_path / "FashionMNIST" / "raw"
    assert len(data.test) == 20
    # the MNIST under the same root is still missing: the two are never confused
    with pytest.raises(DataError):
        load_dataset("mnist", tmp_path, download=False)


def test_unknown_dataset_is_one_sentence() -> None:
    with pytest.raises(DataError) as err:
        load_dataset("cifar", download=False)
    assert_one_sentence(str(err.value))
    assert "mnist" in str(err.value) and "fashion" in str(err.value)


# --------------------------------------------------------------------------- validation split


def test_validation_is_5000_by_default(tmp_path: Path) -> None:
    write_dataset(tmp_path, n_train=5300, n_test=10)
    data = load_dataset("mnist", tmp_path, download=False)
    assert len(data.val) == 5000
    assert len(data.train) == 300


def _indexed_split(n: int) -> Split:
    """Images whose first two pixels spell out their index, so a split's members are known."""
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(n) // 256
    images[:, 0, 1] = np.arange(n) % 256
    return Split(images, (np.arange(n) % 10).astype(np.int64))


def _ids(split: Split) -> set[int]:
    return set((split.images[:, 0, 0].astype(int) * 256 + split.images[:, 0, 1]).tolist())


def test_validation_is_disjoint_and_repeatable() -> None:
    whole = _indexed_split(1000)
    train, val = split_validation(whole, 200)
    assert len(train) == 800 and len(val) == 200
    assert _ids(train).isdisjoint(_ids(val))
    assert _ids(train) | _ids(val) == set(range(1000))
    train2, val2 = split_validation(whole, 200)
    assert _ids(val2) == _ids(val) and np.array_equal(val2.images, val.images)
    # labels stay with their images
    ids = np.array(sorted(_ids(val)))
    assert np.array_equal(val.labels, ids % 10)


def test_validation_same_on_every_load(data_dir: Path) -> None:
    a = load_dataset("mnist", data_dir, val_size=200, download=False)
    b = load_dataset("mnist", data_dir, val_size=200, download=False)
    assert np.array_equal(a.val.images, b.val.images)
    assert np.array_equal(a.train.labels, b.train.labels)


def test_validation_too_large_is_refused() -> None:
    with pytest.raises(DataError) as err:
        split_validation(_indexed_split(100), 100)
    assert_one_sentence(str(err.value))
    assert "--val-size" in str(err.value)


# --------------------------------------------------------------------------- broken files


def _good_pair(n: int = 20) -> tuple[bytes, bytes]:
    images, labels = synthetic_digits(n, 3)
    return idx_bytes(images, IMAGES_MAGIC), idx_bytes(labels, LABELS_MAGIC)


def _broken_cases() -> dict[str, tuple[bytes, bytes, str]]:
    images, labels = _good_pair()
    imgs, lbls = synthetic_digits(20, 3)
    return {
        "wrong magic": (idx_bytes(imgs, 0x00000804), labels, "magic"),
        "labels given as images": (labels, labels, "magic"),
        "truncated images": (images[:-100], labels, "truncated"),
        "truncated header": (images[:10], labels, "truncated"),
        "too short": (b"\x00\x00", labels, "too short"),
        "extra bytes": (images + b"\x00" * 7, labels, "more"),
        "count mismatch": (images, idx_bytes(lbls[:19], LABELS_MAGIC), "20 images but 19 labels"),
        "32x32": (idx_bytes(np.zeros((20, 32, 32)), IMAGES_MAGIC), labels, "32x32"),
        "labels above 9": (images, idx_bytes(np.full(20, 12), LABELS_MAGIC), "12"),
        "absurd count": (
            struct.pack(">IIII", IMAGES_MAGIC, 5_000_000, 28, 28),
            labels,
            "5,000,000",
        ),
    }


@pytest.mark.parametrize("case", list(_broken_cases()))
def test_broken_split_is_one_sentence(case: str) -> None:
    images, labels, expect = _broken_cases()[case]
    with pytest.raises(DataError) as err:
        parse_split(images, labels, name="MNIST train")
    message = str(err.value)
    assert_one_sentence(message)
    assert "MNIST train" in message
    assert expect in message


def test_forged_dimensions_that_overflow_are_refused() -> None:
    # 4 * 2**31 * 2**31 == 2**64: a 64-bit product wraps to 0 and matched an empty body
    forged = struct.pack(">IIII", IMAGES_MAGIC, 4, 2**31, 2**31)
    with pytest.raises(DataError) as err:
        parse_idx(forged, expect_magic=IMAGES_MAGIC, name="forged")
    assert_one_sentence(str(err.value))


def _replace_file(root: Path, stem: str, blob: bytes) -> Path:
    raw = root / "MNIST" / "raw"
    path = raw / (stem + ".gz")
    path.write_bytes(blob)
    return path


@pytest.mark.parametrize(
    "stem,blob,expect",
    [
        ("train-images-idx3-ubyte", b"\x1f\x8b\x08\x00garbage that is not deflate", "gzip"),
        ("t10k-labels-idx1-ubyte", gzip.compress(b"\x00" * 400)[:-12], "gzip"),
        (
            "t10k-images-idx3-ubyte",
            gzip.compress(idx_bytes(np.zeros((50, 32, 32)), IMAGES_MAGIC)),
            "32x32",
        ),
        (
            "train-labels-idx1-ubyte",
            gzip.compress(idx_bytes(np.full(300, 10), LABELS_MAGIC)),
            "0-9",
        ),
    ],
    ids=["corrupt-gz", "truncated-gz", "32x32", "label-10"],
)
def test_broken_file_on_disk_names_it(tmp_path: Path, stem: str, blob: bytes, expect: str) -> None:
    write_dataset(tmp_path, n_train=300, n_test=50)
    path = _replace_file(tmp_path, stem, blob)
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path, val_size=10, download=False)
    message = str(err.value)
    assert_one_sentence(message)
    assert expect in message
    assert str(path.parent) in message  # the folder (or the file itself) is named


# --------------------------------------------------------------------------- missing / download


def _assert_missing_message(message: str, root: Path) -> None:
    assert_one_sentence(message)
    assert str(root / "MNIST" / "raw") in message
    for name in ALL_FILE_NAMES:
        assert name in message
    assert "--data-dir" in message and "MNIST_TUI_DATA" in message


def test_missing_data_without_download(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path / "nowhere", download=False)
    _assert_missing_message(str(err.value), tmp_path / "nowhere")


FAKE_MIRRORS = ["http://mirror-a.invalid/", "http://mirror-b.invalid/"]


def _fake_resources(payloads: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (name, hashlib.md5(blob, usedforsecurity=False).hexdigest())
        for name, blob in payloads.items()
    ]


def test_missing_data_with_network_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def refuse(request, timeout=None):  # noqa: ANN001, ANN202
        calls.append(request.full_url)
        raise urllib.error.URLError("Temporary failure in name resolution")

    resources = _fake_resources({n + ".gz": b"x" for n in ALL_FILE_NAMES})
    monkeypatch.setattr("urllib.request.urlopen", refuse)
    monkeypatch.setattr(data_mod, "_mirrors_and_resources", lambda spec: (FAKE_MIRRORS, resources))
    root = tmp_path / "data"
    with pytest.raises(DataError) as err:
        load_dataset("mnist", root, download=True)
    _assert_missing_message(str(err.value), root)
    assert "name resolution" in str(err.value)
    assert len(calls) == len(FAKE_MIRRORS)  # every mirror was tried, then it gave up
    assert not any(p.is_file() for p in root.rglob("*"))


class _FakeResponse(io.BytesIO):
    def __init__(self, blob: bytes) -> None:
        super().__init__(blob)
        self.headers = {"Content-Length": str(len(blob))}


def _serve(monkeypatch: pytest.MonkeyPatch, content: dict[str, bytes], log: list[str]) -> None:
    def urlopen(request, timeout=None):  # noqa: ANN001, ANN202
        log.append(request.full_url)
        return _FakeResponse(content[request.full_url.rsplit("/", 1)[-1]])

    monkeypatch.setattr("urllib.request.urlopen", urlopen)


def _dataset_payloads() -> dict[str, bytes]:
    out = {}
    for prefix, n, seed in (("train", 120, 1), ("t10k", 30, 2)):
        images, labels = synthetic_digits(n, seed)
        out[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(images, IMAGES_MAGIC))
        out[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(labels, LABELS_MAGIC))
    return out


def test_download_verified_then_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = _dataset_payloads()
    log: list[str] = []
    _serve(monkeypatch, payloads, log)
    monkeypatch.setattr(
        data_mod, "_mirrors_and_resources", lambda spec: (FAKE_MIRRORS, _fake_resources(payloads))
    )
    progress: list[tuple[str, int, int]] = []
    data = load_dataset(
        "mnist", tmp_path, val_size=20, download=True, progress=lambda *a: progress.append(a)
    )
    assert len(data.train) == 100 and len(data.test) == 30
    assert {p[0] for p in progress} == set(payloads)
    assert all(done <= total for _, done, total in progress)
    assert sorted(p.name for p in (tmp_path / "MNIST" / "raw").iterdir()) == sorted(payloads)
    # a second load finds the files and downloads nothing
    log.clear()
    load_dataset("mnist", tmp_path, val_size=20, download=True)
    assert log == []


def test_download_with_wrong_checksum_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads = _dataset_payloads()
    tampered = {
        name: blob[:20] + bytes([blob[20] ^ 0xFF]) + blob[21:] for name, blob in payloads.items()
    }
    log: list[str] = []
    _serve(monkeypatch, tampered, log)
    monkeypatch.setattr(
        data_mod, "_mirrors_and_resources", lambda spec: (FAKE_MIRRORS, _fake_resources(payloads))
    )
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path, download=True)
    message = str(err.value)
    assert_one_sentence(message)
    assert "checksum" in message
    assert len(log) == len(FAKE_MIRRORS)  # each mirror was tried once for the first file
    raw = tmp_path / "MNIST" / "raw"
    assert [p.name for p in raw.iterdir()] == []  # neither the file nor a partial download


# --------------------------------------------------------------------------- property test


def _idx_like() -> st.SearchStrategy[bytes]:
    """Bytes that often get past the magic number, so the deeper checks are exercised."""
    magic = st.sampled_from([IMAGES_MAGIC, LABELS_MAGIC, 0x00000802, 0])
    dims = st.lists(
        st.one_of(st.integers(0, 40), st.integers(0, 2**32 - 1)), min_size=0, max_size=4
    )
    body = st.binary(max_size=2000)

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        m, d = draw(magic), draw(dims)
        raw = struct.pack(">I", m) + b"".join(struct.pack(">I", x) for x in d)
        if draw(st.booleans()) and len(d) == (m & 0xFF) and all(x < 41 for x in d):
            size = int(np.prod(d)) if d else 0
            raw += draw(st.binary(min_size=size, max_size=size)) if size < 5000 else b""
        else:
            raw += draw(body)
        return raw

    return st.one_of(st.binary(max_size=64), build())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images=_idx_like(), labels=_idx_like())
def test_parse_never_fails_unexpectedly(images: bytes, labels: bytes) -> None:
    for magic, raw in ((IMAGES_MAGIC, images), (LABELS_MAGIC, labels)):
        try:
            array = parse_idx(raw, expect_magic=magic)
        except DataError as exc:
            assert_one_sentence(str(exc))
        else:
            assert array.dtype == np.uint8
            assert array.ndim == magic & 0xFF
    try:
        split = parse_split(images, labels)
    except DataError as exc:
        assert_one_sentence(str(exc))
    else:
        assert split.images.shape[1:] == (28, 28)
        assert len(split.images) == len(split.labels)
        assert split.labels.size == 0 or 0 <= split.labels.min() <= split.labels.max() <= 9
