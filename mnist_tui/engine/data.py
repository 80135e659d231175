"""MNIST and Fashion-MNIST from IDX files, held in memory as uint8 arrays.

The parser is numpy-only (no per-item PIL, no torch import): a whole split is one
``(N, 28, 28)`` uint8 array, shared with torch through ``torch.from_numpy`` without a copy.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_tui.errors import DataError
from mnist_tui.paths import DEBIAN_FASHION_DIR, apply_umask, resolve_data_dir, user_cache_dir

# numpy is imported by the functions that parse: the menu asks whether the data is on disk
# (is_available) before it paints, and that must not cost numpy's import.
if TYPE_CHECKING:
    import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
SIDE = 28
# Refuse anything bigger than this many images: MNIST's own train set is 60,000. 250,000 images
# are 196 MB, so even a forged file keeps a load well under 1.5 GB.
MAX_ITEMS = 250_000
# The most bytes an IDX file of this tool may hold (a few header bytes over MAX_ITEMS digits).
MAX_IDX_BYTES = 4 + 4 * 3 + MAX_ITEMS * SIDE * SIDE
CACHE_VERSION = 2  # bumped when the cache layout changes: old entries are then never read

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ALL_FILE_NAMES = [name for pair in FILES.values() for name in pair]


@dataclass(frozen=True)
class DatasetSpec:
    """A data set this tool knows: its folder name in torchvision's layout and its classes."""

    key: str
    title: str
    folder: str
    classes: tuple[str, ...]
    mean: float
    std: float
    # What one picture holds, in the sentences users read ("No digit found", "not a single
    # clear item"); digits are also read as numbers, other things are classified whole.
    noun: str = "digit"


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist", "MNIST", "MNIST", tuple(str(d) for d in range(10)), 0.1307, 0.3081
    ),
    "fashion": DatasetSpec(
        "fashion",
        "Fashion-MNIST",
        "FashionMNIST",
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        0.2860,
        0.3530,
        noun="item",
    ),
}


def dataset_spec(name: str) -> DatasetSpec:
    """Look up a data set by key (``mnist`` or ``fashion``)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(
            f"Unknown data set {name!r}: choose one of {', '.join(DATASETS)}."
        ) from None


@dataclass
class Split:
    """One split of a data set: images ``(N, 28, 28)`` uint8 and labels ``(N,)`` int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class MnistData:
    """A loaded data set: train (minus validation), validation and test splits."""

    spec: DatasetSpec
    train: Split
    val: Split
    test: Split
    source: Path


# --------------------------------------------------------------------------- IDX parsing


def _idx_size(head: bytes | bytearray) -> int | None:
    """The size an IDX file of bytes with this start says it has; None until its header is all
    there, or when it is no uint8 IDX file at all (then the parser names what is wrong)."""
    if len(head) < 4 or bytes(head[:3]) != b"\x00\x00\x08":
        return None
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        return None
    dims = struct.unpack(f">{ndim}I", bytes(head[4 : 4 + 4 * ndim]))
    return 4 + 4 * ndim + math.prod(dims)


def _read_bytes(path: Path) -> bytes:
    """Read an IDX file, gunzipping when it is gzip, never more than its header justifies.

    Decompression streams and stops one byte past the size the IDX header gives (at most
    ``MAX_IDX_BYTES``), so a small archive that inflates to gigabytes is refused after a few
    megabytes. A corrupt archive, or one that inflates past that size, is a DataError.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head == b"\x1f\x8b":
                return _gunzip_bounded(fh, path)
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_IDX_BYTES + 1:
                raise DataError(
                    f"{path} is {size:,} bytes, far more than any MNIST-format file; replace it"
                    " with the original."
                )
            return fh.read(MAX_IDX_BYTES + 1)
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _gunzip_bounded(fh: Any, path: Path) -> bytes:
    out = bytearray()
    limit = MAX_IDX_BYTES
    stream = zlib.decompressobj(wbits=31)
    pending = b""
    try:
        while True:
            if not pending:
                pending = fh.read(1 << 20)
                if not pending:
                    break
            out += stream.decompress(pending, max(1, limit + 1 - len(out)))
            pending = stream.unconsumed_tail
            declared = _idx_size(out)
            if declared is not None:
                limit = min(MAX_IDX_BYTES, declared)
            if len(out) > limit:
                raise DataError(
                    f"{path} inflates to more than the {limit:,} bytes its header allows (a"
                    " decompression bomb or a damaged file); replace it with the original."
                )
            if stream.eof:  # one gzip member ended; another may follow
                rest = stream.unused_data
                if rest.strip(b"\x00"):
                    stream = zlib.decompressobj(wbits=31)
                    pending = rest
                else:
                    pending = b""
                    if not fh.read(1):
                        return bytes(out)
                    raise zlib.error("data after the end of the archive")
    except zlib.error as exc:
        raise DataError(
            f"{path} is a corrupt gzip archive ({exc}); delete it and download or copy it again."
        ) from None
    if not stream.eof:
        raise DataError(
            f"{path} is a corrupt gzip archive (it ends before its last block); delete it and"
            " download or copy it again."
        )
    return bytes(out)


def parse_idx(raw: bytes, *, expect_magic: int, name: str = "IDX data") -> np.ndarray:
    """Parse IDX bytes into an array, checking the magic number and that the size matches.

    Raises :class:`DataError` for anything that is not a well-formed uint8 IDX file.
    """
    import numpy as np

    if len(raw) < 4:
        raise DataError(f"{name} is too short to be an IDX file; replace it with the original.")
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != expect_magic:
        kind = "images" if expect_magic == IMAGES_MAGIC else "labels"
        raise DataError(
            f"{name} has magic number 0x{magic:08x}, not 0x{expect_magic:08x} for IDX {kind};"
            " it is not the right file, replace it with the original."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name} is truncated inside its header; replace it with the original.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if dims and dims[0] > MAX_ITEMS:
        raise DataError(f"{name} claims {dims[0]:,} items, which is not MNIST; check the file.")
    expected = math.prod(dims) if dims else 0  # Python ints: a forged header cannot overflow
    body = len(raw) - header
    if body < expected:
        raise DataError(
            f"{name} is truncated ({body:,} of {expected:,} bytes); download or copy it again."
        )
    if body > expected:
        raise DataError(
            f"{name} has {body - expected:,} bytes more than its header says; replace it with"
            " the original."
        )
    # A writable copy: torch.from_numpy refuses to share read-only memory safely.
    return np.frombuffer(raw, dtype=np.uint8, count=expected, offset=header).reshape(dims).copy()


def parse_split(
    images_raw: bytes,
    labels_raw: bytes,
    *,
    name: str = "split",
    images_name: str | None = None,
    labels_name: str | None = None,
) -> Split:
    """Parse an images/labels pair and check they describe the same 28×28 digits.

    ``images_name``/``labels_name`` (the files, say) name each part in errors.
    """
    import numpy as np

    images_name = images_name or f"{name} images"
    labels_name = labels_name or f"{name} labels"
    images = parse_idx(images_raw, expect_magic=IMAGES_MAGIC, name=images_name)
    labels = parse_idx(labels_raw, expect_magic=LABELS_MAGIC, name=labels_name)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise DataError(
            f"{name} images are {'x'.join(map(str, images.shape[1:]))} pixels, not 28x28;"
            " this is not an MNIST-format file."
        )
    if labels.ndim != 1:
        raise DataError(f"{name} labels are not a flat list; this is not an MNIST-format file.")
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{name} has {images.shape[0]:,} images but {labels.shape[0]:,} labels;"
            " the two files do not belong together."
        )
    if labels.size and int(labels.max()) > 9:
        raise DataError(
            f"{labels_name}: labels go up to {int(labels.max())}, not 0-9; replace it with the"
            " original."
        )
    return Split(images=images, labels=labels.astype(np.int64))


# --------------------------------------------------------------------------- finding files


def candidate_dirs(root: Path, spec: DatasetSpec) -> list[Path]:
    """Folders that may hold a data set's four files, in the order they are tried."""
    dirs = [root / spec.folder / "raw", root / spec.folder, root]
    if spec.key == "fashion":
        dirs += [root / "fashion-mnist", DEBIAN_FASHION_DIR]
    return dirs


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        path = folder / name
        if path.is_file():
            return path
    return None


def find_files(root: Path, spec: DatasetSpec) -> dict[str, Path] | None:
    """The four IDX files of a data set under ``root`` (any known layout), or None."""
    for folder in candidate_dirs(root, spec):
        found = {stem: _find_file(folder, stem) for stem in ALL_FILE_NAMES}
        if all(found.values()):
            return found  # type: ignore[return-value]
    return None


def _where_to_put(root: Path, spec: DatasetSpec) -> str:
    return (
        f"put {', '.join(n + '.gz' for n in ALL_FILE_NAMES)} in {root / spec.folder / 'raw'},"
        " or pass --data-dir DIR (or set MNIST_TUI_DATA) to a folder that holds them."
    )


def missing_data_message(root: Path, spec: DatasetSpec) -> str:
    """One sentence naming the folder, the four files, and how to point at them."""
    return f"{spec.title} is not downloaded yet: {_where_to_put(root, spec)}"


def is_available(data_dir: str | os.PathLike[str] | None = None, dataset: str = "mnist") -> bool:
    """Whether the data set's files are on disk (cheap: no parsing, no torch)."""
    return find_files(resolve_data_dir(data_dir), dataset_spec(dataset)) is not None


# --------------------------------------------------------------------------- loading


def split_validation(train: Split, val_size: int, seed: int = 0) -> tuple[Split, Split]:
    """Hold ``val_size`` images out of ``train``; the same seed always gives the same split."""
    import numpy as np

    if val_size <= 0:
        return train, Split(train.images[:0], train.labels[:0])
    if val_size >= len(train):
        raise DataError(
            f"A validation split of {val_size:,} leaves no training images out of {len(train):,};"
            " use a smaller --val-size."
        )
    order = np.random.default_rng(seed).permutation(len(train))
    val_idx, train_idx = np.sort(order[:val_size]), np.sort(order[val_size:])
    return (
        Split(train.images[train_idx], train.labels[train_idx]),
        Split(train.images[val_idx], train.labels[val_idx]),
    )


def _cache_key(*paths: Path) -> str | None:
    """A name that changes whenever any of the files changes (path, size, modification time)."""
    try:
        parts = [f"{p.resolve()}|{p.stat().st_size}|{p.stat().st_mtime_ns}" for p in paths]
    except OSError:
        return None
    parts.append(f"cache v{CACHE_VERSION}")
    return hashlib.sha1("\n".join(parts).encode(), usedforsecurity=False).hexdigest()[:20]


def _digest(array: np.ndarray) -> str:
    """A CRC-32 of the array's bytes: it catches torn writes, bit flips and edits, and runs at
    ~1 GB/s (0.04 s for MNIST's train images; SHA-256 took 0.09-0.2 s, more than the load)."""
    import numpy as np

    return f"crc32:{zlib.crc32(np.ascontiguousarray(array)):08x}"


def _cache_get(key: str | None) -> Split | None:
    """A split parsed and validated earlier, verified against the checksums written with it;
    None when absent, torn, edited or otherwise unusable (then the source files are parsed)."""
    import numpy as np

    if key is None:
        return None
    folder = user_cache_dir()
    try:
        sums = json.loads((folder / f"{key}.sums.json").read_text())
        images = np.load(folder / f"{key}-images.npy", allow_pickle=False)
        labels = np.load(folder / f"{key}-labels.npy", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if not isinstance(sums, dict):
        return None
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        return None
    if labels.dtype != np.int64 or labels.shape != images.shape[:1]:
        return None
    if sums.get("count") != len(labels) or (
        labels.size and not 0 <= labels.min() <= labels.max() <= 9
    ):
        return None
    if sums.get("images") != _digest(images) or sums.get("labels") != _digest(labels):
        return None
    return Split(images, labels)


def _write_synced(folder: Path, target: Path, write: Callable[[Any], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        apply_umask(fd)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before the rename makes it visible
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _cache_put(key: str | None, split: Split) -> None:
    """Keep the decompressed split, so the next start skips gunzip (~0.3 s for MNIST).

    The arrays are written first, then their checksums; a torn or edited cache fails the check
    on the next read and is rebuilt from the source files.
    """
    import numpy as np

    if key is None:
        return
    folder = user_cache_dir()
    sums = {"count": len(split), "images": _digest(split.images), "labels": _digest(split.labels)}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.sums.json").unlink(missing_ok=True)
        for kind, array in (("labels", split.labels), ("images", split.images)):
            _write_synced(
                folder,
                folder / f"{key}-{kind}.npy",
                lambda fh, a=array: np.save(fh, a, allow_pickle=False),
            )
        _write_synced(
            folder, folder / f"{key}.sums.json", lambda fh: fh.write(json.dumps(sums).encode())
        )
    except OSError:
        pass  # a cache we cannot write only costs time


def load_from_files(files: dict[str, Path], spec: DatasetSpec, val_size: int = 5000) -> MnistData:
    """Parse the four IDX files and hold a validation split out of the training set.

    Parsed splits of gzip files are cached decompressed in the user's cache folder.
    """
    splits = {}
    for split, (img_stem, lbl_stem) in FILES.items():
        img, lbl = files[img_stem], files[lbl_stem]
        key = _cache_key(img, lbl) if img.suffix == ".gz" or lbl.suffix == ".gz" else None
        cached = _cache_get(key)
        if cached is not None:
            splits[split] = cached
            continue
        splits[split] = parse_split(
            _read_bytes(img), _read_bytes(lbl), name=f"{spec.title} {split} ({img.parent})",
            images_name=str(img), labels_name=str(lbl),
        )  # fmt: skip
        _cache_put(key, splits[split])
    train, val = split_validation(splits["train"], val_size)
    return MnistData(spec, train, val, splits["test"], files[FILES["train"][0]].parent)


ProgressFn = Callable[[str, int, int], None]


def load_dataset(
    dataset: str = "mnist",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    val_size: int = 5000,
    download: bool = True,
    progress: ProgressFn | None = None,
) -> MnistData:
    """Load a data set, downloading it first (with progress) if it is missing and allowed."""
    spec = dataset_spec(dataset)
    root = resolve_data_dir(data_dir)
    files = find_files(root, spec)
    if files is None:
        if not download:
            raise DataError(missing_data_message(root, spec))
        download_dataset(spec.key, root, progress=progress)
        files = find_files(root, spec)
        if files is None:  # pragma: no cover - download_dataset raises first
            raise DataError(missing_data_message(root, spec))
    return load_from_files(files, spec, val_size)


# --------------------------------------------------------------------------- downloading


def _mirrors_and_resources(spec: DatasetSpec) -> tuple[list[str], list[tuple[str, str]]]:
    """torchvision's own mirror list and (file, md5) pairs for a data set."""
    from torchvision import datasets

    cls = datasets.MNIST if spec.key == "mnist" else datasets.FashionMNIST
    return list(cls.mirrors), list(cls.resources)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_dataset(
    dataset: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    progress: ProgressFn | None = None,
    timeout: float = 20.0,
) -> Path:
    """Download a data set's four files from torchvision's mirrors, verifying each MD5.

    Files land atomically in ``DATA_DIR/<Folder>/raw``; a file that fails its checksum is
    deleted and the next mirror is tried.
    """
    spec = dataset_spec(dataset)
    root = resolve_data_dir(data_dir)
    target = root / spec.folder / "raw"
    mirrors, resources = _mirrors_and_resources(spec)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"Cannot create {target}: {exc.strerror}; choose another --data-dir."
        ) from None
    for filename, md5 in resources:
        dest = target / filename
        if dest.is_file() and _md5(dest) == md5:
            continue
        last_error = "no mirror answered"
        for mirror in mirrors:
            try:
                _fetch(mirror + filename, dest, md5, filename, progress, timeout)
                break
            except DataError as exc:
                last_error = str(exc)
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                last_error = str(getattr(exc, "reason", exc))
        else:
            raise DataError(
                f"Could not download {spec.title} ({last_error}): {_where_to_put(root, spec)}"
            )
    return target


def _fetch(
    url: str, dest: Path, md5: str, label: str, progress: ProgressFn | None, timeout: float
) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "mnist-tui"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".download-", suffix=".part")
        tmp = Path(tmp_name)
        try:
            apply_umask(fd)  # a shared data folder stays readable by the team
            done = 0
            with os.fdopen(fd, "wb") as out:
                while block := response.read(1 << 16):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(label, done, total)
            if _md5(tmp) != md5:
                raise DataError(f"{label} from {url} failed its checksum")
            shutil.move(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
