"""The model store: a folder of safetensors checkpoints, each carrying its own metadata.

A checkpoint is one ``NAME.safetensors`` file: the weights (safetensors cannot run code when
loaded) and, in its header, a JSON document with the architecture, recipe, normalisation,
per-epoch history, accuracies, data set, creation time and versions. The header is read without
torch, so listing the store is instant. An unfinished run also has ``NAME.resume.pt``
(optimizer state and RNG), loaded with ``torch.load(weights_only=True)``. Every write goes to a
temporary file that is renamed into place, so a killed process never leaves a torn checkpoint.

What the store guarantees:

- It only deletes, renames or overwrites its own files, named by model name inside its folder;
  a path, or a name it does not hold, is refused. Shipped models are read-only.
- A name is claimed atomically (:meth:`ModelStore.claim`, a ``.NAME.claim`` file written under
  the store lock, :meth:`ModelStore.lock`) before a run starts and held until it has saved, so
  two runs never save under one name; default names get a ``-2``, ``-3``... suffix instead. A
  claim whose process has died is stale and taken over.
- A rename never replaces another model (a hard link, then unlink of the old name).
- Only regular files are read; a header is bounded in size and depth, holds only finite numbers,
  and anything malformed is "NAME is not a usable checkpoint: ..." for that file alone. Loading
  checks that weights and normalisation are finite and the std is above zero.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_tui.engine.archs import ARCH_INFO
from mnist_tui.engine.calibrate import Calibration
from mnist_tui.engine.config import learned_mirrors
from mnist_tui.engine.members import Member, members_of
from mnist_tui.errors import CheckpointError, StoreError
from mnist_tui.paths import apply_umask, open_lock, resolve_models_dir, shipped_models_dir

if TYPE_CHECKING:
    from torch import nn

FORMAT_VERSION = 1
SUFFIX = ".safetensors"
RESUME_SUFFIX = ".resume.pt"
META_KEY = "mnist_tui"
ACTIVE_FILE = "active.txt"
DEFAULT_NAME = "default"
MAX_HEADER = 16 << 20  # a real header is a few kB; refuse absurd sizes before allocating
MAX_DEPTH = 32  # real metadata nests 4 deep; json's own recursion limit is far too generous
LOCK_FILE = ".lock"
CLAIM_SUFFIX = ".claim"
# From a source checkout ./models is both the user's store and the shipped folder: these names
# in it are the shipped ones (the package ships only the default).
# The shipped pre-trained default of each data set.
DEFAULT_NAMES = {"mnist": DEFAULT_NAME, "fashion": "default-fashion"}
SHIPPED_NAMES = frozenset(DEFAULT_NAMES.values())
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class ModelInfo:
    """A checkpoint as the store lists it; ``error`` is set (one sentence) when it is unusable."""

    name: str
    path: Path
    arch: str = "?"
    dataset: str = "mnist"
    params: int = 0
    val_acc: float | None = None
    test_acc: float | None = None
    test_loss: float | None = None
    created: str = ""
    epochs_done: int = 0
    epochs: int = 0
    complete: bool = True
    shipped: bool = False
    mean: float = 0.1307
    std: float = 0.3081
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)  # T = 1 when never fitted
    members: list[Member] = field(default_factory=list)  # an ensemble's members; [] for one net
    error: str | None = None

    @property
    def arch_label(self) -> str:
        """The architecture as lists show it: "best", or "best ×3" for a 3-member ensemble."""
        return f"{self.arch} ×{len(self.members)}" if self.members else self.arch

    @property
    def mirrored(self) -> bool:
        """Whether it answers from a picture and its mirror image (engine/views.py): every
        network in it learned with random flips."""
        return learned_mirrors([m.config for m in self.members] or [self.config])

    @property
    def resumable(self) -> bool:
        """An unfinished run whose optimizer state is on disk."""
        return not self.complete and self.path.with_name(self.name + RESUME_SUFFIX).is_file()

    def summary(self) -> str:
        """One line for a status bar: name, architecture, test accuracy."""
        if self.error:
            return f"{self.name} (unusable)"
        acc = f"{self.test_acc:.2%} test" if self.test_acc is not None else "not tested"
        state = "" if self.complete else f", epoch {self.epochs_done}/{self.epochs}"
        return f"{self.name} · {self.arch_label} · {acc}{state}"


@dataclass
class LoadedModel:
    """A model ready to predict, with what the store knows about it."""

    model: nn.Module
    info: ModelInfo

    @property
    def temperature(self) -> float:
        """What the logits are divided by before the softmax (1 for an uncalibrated model)."""
        return self.info.calibration.temperature

    @property
    def classifier(self) -> nn.Module:
        """What answers: the network, or :class:`~mnist_tui.engine.views.Mirrored` around it
        for a model that learned with random flips. ``model`` stays the bare network (its
        weights, layers and members)."""
        from mnist_tui.engine.views import answering

        return answering(self.model, self.info.mirrored)


def validate_name(name: str) -> str:
    """Return ``name`` if it is a usable model name, else raise a StoreError saying why."""
    if not NAME_RE.match(name) or name.endswith((SUFFIX, RESUME_SUFFIX)):
        raise StoreError(
            f"{name!r} is not a valid model name: use up to 64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit."
        )
    return name


# What to do about a broken checkpoint the user named by its path outside the store.
NAMED_REMEDY = "pick a model mnist-tui saved instead (a name from `mnist-tui models`, or its file)"


def broken(
    path: Path, problem: str, remedy: str = "delete or replace it", *, anywhere: bool = False
) -> CheckpointError:
    """The one sentence for a checkpoint that cannot be used: the file, what is wrong with it,
    and the remedy for a file of the store. The problem is kept apart, and the remedy too where
    it suits any file (``anywhere``), for files named outside the store (``ModelStore.load``)."""
    return CheckpointError(
        f"{path.name} {problem}; {remedy}.", problem=problem, remedy=remedy if anywhere else None
    )


def unusable(path: Path, reason: str) -> CheckpointError:
    """The one sentence for a checkpoint that cannot be used, naming the file."""
    return broken(path, f"is not a usable checkpoint: {reason}")


def _reject_constant(token: str) -> Any:
    raise ValueError(f"it holds {token}, which is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"it holds {text}, which is not a finite number")
    return value


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def parse_json(text: str | bytes) -> Any:
    """Strict JSON: finite numbers only, nested at most MAX_DEPTH; ValueError says what is wrong."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("it is nested too deeply") from None
    if _too_deep(value):
        raise ValueError("it is nested too deeply")
    return value


def open_regular(path: Path) -> int:
    """Open a file for reading only if it is a regular file (a FIFO or device never blocks us)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise broken(
                path,
                "is not a regular file",
                "only checkpoint files are read, so move it out of the store",
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_header(path: Path) -> dict[str, Any]:
    """Read a safetensors header (JSON) without torch; raise CheckpointError if malformed."""
    try:
        fd = open_regular(path)
        with os.fdopen(fd, "rb") as fh:
            raw_len = fh.read(8)
            if len(raw_len) < 8:
                raise broken(path, "is empty or truncated", "delete it or re-save it")
            (length,) = struct.unpack("<Q", raw_len)
            if length > MAX_HEADER or length < 2:
                raise broken(path, "is not a safetensors checkpoint (bad header)")
            body = fh.read(length)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if len(body) < length:
        raise broken(path, "is truncated", "delete it or train it again")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise broken(path, "is not a safetensors checkpoint (unreadable header)") from None
    try:
        header = parse_json(text)
    except json.JSONDecodeError:
        raise broken(path, "is not a safetensors checkpoint (unreadable header)") from None
    except ValueError as exc:
        raise unusable(path, f"its header {_reason(exc)}") from None
    if not isinstance(header, dict):
        raise broken(path, "has a malformed header")
    data_len = size - 8 - length
    for key, entry in header.items():
        if key == "__metadata__":
            if not (isinstance(entry, dict) and all(isinstance(v, str) for v in entry.values())):
                raise unusable(path, "its metadata is not a table of strings")
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2):
            raise broken(path, "has a malformed header")
        if not all(type(o) is int for o in offsets) or not 0 <= offsets[0] <= offsets[1]:
            raise unusable(path, f"the data offsets of tensor {key[:40]!r} are not byte positions")
        if offsets[1] > data_len:
            raise broken(path, "is truncated", "delete it or train it again")
    return header


def _reason(exc: ValueError) -> str:
    text = str(exc)
    return text if text.startswith("it ") and len(text) < 120 else "is malformed"


def read_info(path: Path, *, shipped: bool = False) -> ModelInfo:
    """A checkpoint's metadata, read from its header only. Unusable files get ``error`` set."""
    info = _blank_info(path, shipped)
    try:
        _fill_info(info)
    except CheckpointError as exc:
        info.error = str(exc)
    return info


def load_info(path: Path, *, shipped: bool = False) -> ModelInfo:
    """:func:`read_info` for the one file a command asked for: an unusable file raises its
    CheckpointError (whose ``problem`` a face can reword) instead of setting ``error``."""
    info = _blank_info(path, shipped)
    _fill_info(info)
    return info


def _blank_info(path: Path, shipped: bool) -> ModelInfo:
    name = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem
    return ModelInfo(name=name, path=path, shipped=shipped)


def _fill_info(info: ModelInfo) -> None:
    """Fill ``info`` from its file's header, or raise a CheckpointError saying what is wrong."""
    path = info.path
    try:
        header = read_header(path)
        meta_raw = (header.get("__metadata__") or {}).get(META_KEY)
        if not meta_raw or not isinstance(meta_raw, str):
            raise broken(
                path,
                "has no mnist-tui metadata, so its architecture is unknown",
                "it was not saved by mnist-tui",
            )
        try:
            meta = parse_json(meta_raw)
        except json.JSONDecodeError:
            raise broken(path, "has malformed metadata", "delete or re-save it") from None
        except ValueError as exc:
            raise unusable(path, f"its metadata {_reason(exc).removeprefix('it ')}") from None
        if not isinstance(meta, dict):
            raise broken(path, "has malformed metadata", "delete or re-save it")
        version = meta.get("format_version")
        if not isinstance(version, int):
            raise broken(path, "has malformed metadata", "delete or re-save it")
        if version > FORMAT_VERSION:
            raise broken(
                path,
                f"was saved by a newer mnist-tui (format {version})",
                "upgrade mnist-tui to load it",
                anywhere=True,
            )
        arch = meta.get("arch")
        if arch not in ARCH_INFO:
            raise broken(
                path, f"is for an unknown architecture {arch!r}", "upgrade mnist-tui or delete it"
            )
        norm = meta.get("normalisation") or {}
        info.arch = arch
        info.dataset = str(meta.get("dataset", "mnist"))
        info.params = int(meta.get("params", ARCH_INFO[arch].params))
        info.val_acc = _opt_float(meta.get("val_acc"))
        info.test_acc = _opt_float(meta.get("test_acc"))
        info.test_loss = _opt_float(meta.get("test_loss"))
        info.created = str(meta.get("created", ""))
        info.epochs_done = int(meta.get("epochs_done", 0))
        info.epochs = int(meta.get("epochs", info.epochs_done))
        info.complete = bool(meta.get("complete", True))
        info.mean = float(norm.get("mean", 0.1307))
        info.std = float(norm.get("std", 0.3081))
        info.config = dict(meta.get("config") or {})
        info.history = list(meta.get("history") or [])
        info.calibration = Calibration.from_meta(meta.get("calibration"))
        info.members = members_of(meta.get("ensemble"))
        if any(m.arch not in ARCH_INFO for m in info.members):
            raise broken(
                path,
                "is an ensemble with a member of an unknown architecture",
                "upgrade mnist-tui or delete it",
            )
        info.extra = {k: v for k, v in meta.items() if k not in _KNOWN_META}
        if not all(isinstance(row, dict) for row in info.history):
            raise ValueError("history rows are not tables")
        if not (abs(info.mean) <= 1e3 and 1e-6 <= info.std <= 1e3):
            raise unusable(
                path, f"its normalisation (mean {info.mean:g}, std {info.std:g}) is not usable"
            )
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError):
        raise broken(path, "has malformed metadata", "delete or re-save it") from None


_KNOWN_META = {
    "format_version", "arch", "dataset", "params", "val_acc", "test_acc", "test_loss", "created",
    "epochs_done", "epochs", "complete", "normalisation", "config", "history", "calibration",
    "ensemble",
}  # fmt: skip


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _no_nan(v: Any) -> Any:
    """NaN (a figure that was not measured, such as validation without a split) as null."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _no_nan(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_no_nan(x) for x in v]
    return v


def build_metadata(
    *,
    arch: str,
    dataset: str,
    params: int,
    config: dict[str, Any],
    history: list[dict[str, float]],
    epochs_done: int,
    epochs: int,
    complete: bool,
    mean: float,
    std: float,
    val_acc: float | None = None,
    test_acc: float | None = None,
    test_loss: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The metadata document stored in a checkpoint's header."""
    import torch

    from mnist_tui import __version__

    return _no_nan(
        {
            "format_version": FORMAT_VERSION,
            "arch": arch,
            "dataset": dataset,
            "params": params,
            "config": config,
            "history": history,
            "epochs_done": epochs_done,
            "epochs": epochs,
            "complete": complete,
            "normalisation": {"mean": mean, "std": std},
            "val_acc": val_acc,
            "test_acc": test_acc,
            "test_loss": test_loss,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": {"mnist_tui": __version__, "torch": torch.__version__},
            **extra,
        }
    )


def rewrite_metadata(path: str | os.PathLike[str], **changes: Any) -> None:
    """Change some fields of a checkpoint's metadata, rewriting the header only: the tensor
    bytes after it stay byte-identical (safetensors offsets count from the header's end)."""
    path = Path(path)
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    meta = json.loads(header["__metadata__"][META_KEY])
    meta.update(_no_nan(changes))
    header["__metadata__"][META_KEY] = json.dumps(meta)
    body = json.dumps(header, separators=(",", ":")).encode()
    body += b" " * (-len(body) % 8)  # keep the tensors 8-byte aligned, as safetensors writes
    _atomic_write({path: struct.pack("<Q", len(body)) + body + raw[8 + length :]})


def _write_temp(target: Path, data: bytes) -> Path:
    """Write ``data`` to a synced temporary file beside ``target`` and return its path."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        apply_umask(fd)  # readable by a team sharing the store, as the umask allows
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _sweep_stale_temps(root: Path, name: str, older_than_s: float = 60.0) -> None:
    """Remove temporary files a killed save of ``name`` left behind (never a live one)."""
    import time

    now = time.time()
    for pattern in (f".{name}{SUFFIX}.*.tmp", f".{name}{RESUME_SUFFIX}.*.tmp"):
        for tmp in root.glob(pattern):
            try:
                if now - tmp.stat().st_mtime > older_than_s:
                    tmp.unlink()
            except OSError:
                pass


def _atomic_write(files: dict[Path, bytes]) -> None:
    """Write every file in full first, then rename each over its target; never a torn file.

    Staging all of them before the first rename means a full disk changes nothing at all.
    """
    temps: list[tuple[Path, Path]] = []
    try:
        for target, data in files.items():
            temps.append((_write_temp(target, data), target))
        for tmp, target in temps:
            os.replace(tmp, target)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
    try:  # make the renames themselves durable
        dfd = os.open(next(iter(files)).parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _store_write_error(exc: OSError, root: Path, what: str) -> StoreError:
    import errno

    if exc.errno == errno.ENOSPC:
        reason = "the disk is full; free some space and try again"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = f"{root} is not writable; use --models-dir DIR or set MNIST_TUI_MODELS"
    else:
        reason = f"{exc.strerror or exc}; check the folder and try again"
    return StoreError(f"Could not save {what}: {reason} (nothing already saved was changed).")


class ModelStore:
    """A folder of checkpoints, plus the shipped pre-trained default (read-only)."""

    def __init__(self, root: str | os.PathLike[str] | None = None, shipped: Path | None = None):
        self.root = resolve_models_dir(root)
        self.shipped = shipped if shipped is not None else shipped_models_dir()

    # ----------------------------------------------------------------- reading

    def _paths(self) -> list[tuple[Path, bool]]:
        seen: set[Path] = set()
        out: list[tuple[Path, bool]] = []
        for folder in (self.root, self.shipped):
            if folder is None or not folder.is_dir():
                continue
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for path in entries:
                if path.name.startswith(".") or not path.name.endswith(SUFFIX):
                    continue
                real = path.resolve()
                if real in seen:
                    continue
                seen.add(real)
                out.append((path, self.is_shipped(path)))
        return out

    def is_shipped(self, path: Path) -> bool:
        """Whether a checkpoint path is a shipped (read-only) model."""
        if self.shipped is None:
            return False
        try:
            folder, shipped, root = (p.resolve() for p in (path.parent, self.shipped, self.root))
        except (OSError, RuntimeError):
            return False
        if folder != shipped:
            return False
        return folder != root or path.name[: -len(SUFFIX)] in SHIPPED_NAMES

    def list(self) -> list[ModelInfo]:
        """Every checkpoint, newest first, the shipped default included; broken ones too, with
        their ``error`` set, so one bad file never hides the others."""
        infos: dict[str, ModelInfo] = {}
        for path, shipped in self._paths():
            info = read_info(path, shipped=shipped)
            infos.setdefault(info.name, info)  # the user's store shadows the shipped copy
        return sorted(infos.values(), key=lambda i: (i.created, i.name), reverse=True)

    def path_for(self, name: str) -> Path:
        """Where a model of this name is (or would be saved) in the user's store."""
        return self.root / (validate_name(name) + SUFFIX)

    def find(self, name_or_path: str | os.PathLike[str]) -> Path:
        """Resolve a store name or a checkpoint file path; raise CheckpointError if neither."""
        text = os.fspath(name_or_path)
        candidate = Path(text).expanduser()
        if NAME_RE.match(text) and not text.endswith((SUFFIX, ".pt", ".pth")):
            for path, _ in self._paths():
                if path.name == text + SUFFIX:
                    return path
        if candidate.is_file():
            return candidate
        if candidate.exists():
            raise CheckpointError(
                f"{candidate} is not a file; give a model name or a .safetensors file."
            )
        if os.sep in text or text.endswith((SUFFIX, ".pt", ".pth")):
            raise CheckpointError(
                f"{candidate} does not exist; give a model name or a .safetensors file."
            )
        names = ", ".join(i.name for i in self.list() if not i.error) or "none"
        raise CheckpointError(f"No model named {text!r}; the store ({self.root}) has: {names}.")

    def info(self, name_or_path: str | os.PathLike[str]) -> ModelInfo:
        """Metadata of one model (raises CheckpointError if it is unusable)."""
        path = self.find(name_or_path)
        if path.suffix in (".pt", ".pth"):
            raise CheckpointError(
                f"{path.name} is a pickle checkpoint; mnist-tui loads only .safetensors checkpoints"
                " (pickles can run code when loaded)."
            )
        try:
            return load_info(path, shipped=self.is_shipped(path))
        except CheckpointError as exc:
            raise self._as_named(path, exc) from None

    def holds(self, path: Path) -> bool:
        """Whether a file is one of the store's (its own folder or the shipped models')."""
        try:
            folder = path.parent.resolve()
            return any(
                root is not None and folder == root.resolve() for root in (self.root, self.shipped)
            )
        except (OSError, RuntimeError):
            return False

    def _as_named(self, path: Path, exc: CheckpointError) -> CheckpointError:
        """A fault of a file the user named outside the store, in its own words: the store's
        remedies (delete it, train it again) are not ours to give for somebody else's file."""
        if exc.problem is None or self.holds(path):
            return exc
        return CheckpointError(f"{path} {exc.problem}; {exc.remedy or NAMED_REMEDY}.")

    def load(self, name_or_path: str | os.PathLike[str], device: str = "cpu") -> LoadedModel:
        """Build the network and load its weights (safetensors: no code runs)."""
        info = self.info(name_or_path)
        try:
            return self._load(info, device)
        except CheckpointError as exc:
            raise self._as_named(info.path, exc) from None

    def _load(self, info: ModelInfo, device: str) -> LoadedModel:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from mnist_tui.engine.networks import build_model

        try:
            state = load_file(str(info.path), device="cpu")
        except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
            raise broken(
                info.path,
                f"could not be read ({str(exc).splitlines()[0][:80]})",
                "delete it or train it again",
            ) from None
        if not all(bool(t.isfinite().all()) for t in state.values() if t.is_floating_point()):
            raise unusable(
                info.path, "its weights hold NaN or infinite numbers, as a run that diverged leaves"
            )
        if info.members:
            from mnist_tui.engine.ensemble import build_ensemble

            model = build_ensemble(info.members)
            network = f"{len(info.members)}-member ensemble"
        else:
            model = build_model(info.arch)
            network = f"{info.arch!r} architecture"
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError:
            raise broken(
                info.path,
                f"holds weights that do not fit the {network}",
                "it is damaged or from another network",
            ) from None
        model.eval()
        if device != "cpu":
            from mnist_tui.engine.train import resolve_device

            model.to(resolve_device(device))
        return LoadedModel(model, info)

    def load_resume_state(self, name: str) -> dict[str, Any]:
        """The optimizer/RNG state of an unfinished run, loaded without unpickling code."""
        import pickle

        import torch

        path = self.root / (validate_name(name) + RESUME_SUFFIX)
        if not path.is_file():
            raise CheckpointError(
                f"{name!r} has no resume state; it finished or was not saved here."
            )
        try:
            fd = open_regular(path)
            os.close(fd)
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
            raise CheckpointError(
                f"The resume state of {name!r} is unreadable or unsafe ({type(exc).__name__});"
                " train it again from the start."
            ) from None
        if not _resume_state_is_whole(state):
            raise CheckpointError(
                f"The resume state of {name!r} is not one mnist-tui wrote (wrong structure);"
                " train it again from the start."
            )
        return state

    # ----------------------------------------------------------------- writing

    def save(
        self,
        name: str,
        model: nn.Module,
        metadata: dict[str, Any],
        resume_state: dict[str, Any] | None = None,
    ) -> ModelInfo:
        """Save atomically; with ``resume_state`` the run can be continued by ``--resume``."""
        import io

        import torch
        from safetensors.torch import save as serialize

        path = self.path_for(name)
        self._refuse_shipped(path, "overwritten")
        holder = self._claim_holder(name, clean=False)
        if holder is not None and holder != os.getpid():
            raise StoreError(
                f"{name!r} is being trained by another run (process {holder}); choose another"
                " name or let that run finish (nothing was saved)."
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _store_write_error(exc, self.root, name) from None
        tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        # Serialised in memory (a few MB at most) so that a full disk surfaces as an OSError
        # from our own write, not as a writer-specific error halfway through a file.
        files: dict[Path, bytes] = {}
        resume_path = path.with_name(name + RESUME_SUFFIX)
        if resume_state is not None:
            buffer = io.BytesIO()
            torch.save(resume_state, buffer)
            files[resume_path] = buffer.getvalue()
        files[path] = serialize(tensors, metadata={META_KEY: json.dumps(metadata)})
        _sweep_stale_temps(self.root, name)
        try:
            _atomic_write(files)
            if resume_state is None:
                resume_path.unlink(missing_ok=True)
        except OSError as exc:
            raise _store_write_error(exc, self.root, name) from None
        return read_info(path)

    def _owned(self, name: str, action: str) -> Path:
        """The store's own file for model ``name``; anything else is refused with one sentence."""
        text = os.fspath(name)
        if not NAME_RE.match(text) or text.endswith((SUFFIX, RESUME_SUFFIX, ".pt", ".pth")):
            raise StoreError(
                f"{text!r} is not a model name: only models in the store ({self.root}) can be"
                f" {action}d, by name; see `mnist-tui models`."
            )
        path = self.root / (text + SUFFIX)
        if not os.path.lexists(path):
            for found, _ in self._paths():
                if found.name == path.name:
                    self._refuse_shipped(found, f"{action}d")
            raise StoreError(
                f"No model named {text!r} in the store ({self.root}); nothing was {action}d."
            )
        self._refuse_shipped(path, f"{action}d")
        return path

    def _refuse_shipped(self, path: Path, done: str) -> None:
        if self.is_shipped(path):
            raise StoreError(
                f"{path.name[: -len(SUFFIX)]!r} ships with mnist-tui and is read-only; it cannot"
                f" be {done}."
            )

    def _refuse_claimed(self, name: str, what: str) -> None:
        holder = self._claim_holder(name, clean=True)
        if holder is not None:
            raise StoreError(
                f"{name!r} is being trained right now (process {holder}); stop that run or let it"
                f" finish before it is {what}."
            )

    def delete(self, name: str) -> None:
        """Remove a model of the store (and its resume state) by name; never a path, never a
        shipped model, never a model a running training holds."""
        with self.lock():
            path = self._owned(name, "delete")
            self._refuse_claimed(name, "deleted")
            was_active = self.active_name() == name  # asked before the file it checks is gone
            _run_files(self.root, name)  # the run's log and state go too; refuses a run going
            try:
                path.unlink()
                path.with_name(name + RESUME_SUFFIX).unlink(missing_ok=True)
            except OSError as exc:
                raise _store_write_error(exc, self.root, name) from None
            if was_active:
                self.set_active(None)

    def rename(self, old: str, new: str) -> ModelInfo:
        """Rename a model; atomic, and never replaces another model (even one saved meanwhile
        by another process: the new name is made as a hard link, which cannot overwrite)."""
        validate_name(new)
        with self.lock():
            src = self._owned(old, "rename")
            dst = self.root / (new + SUFFIX)
            self._refuse_claimed(old, "renamed")
            self._refuse_claimed(new, f"used for {old!r}")
            if os.path.lexists(dst):
                raise StoreError(f"A model named {new!r} already exists; choose another name.")
            was_active = self.active_name() == old  # asked before the file it checks is moved
            _run_files(self.root, old, new)  # the run's log and state move too; refuses a run
            try:
                _move_no_replace(src, dst)
                src_resume = src.with_name(old + RESUME_SUFFIX)
                if src_resume.exists():
                    os.replace(src_resume, dst.with_name(new + RESUME_SUFFIX))
            except FileExistsError:
                raise StoreError(
                    f"A model named {new!r} already exists; choose another name."
                ) from None
            except OSError as exc:
                raise _store_write_error(exc, self.root, old) from None
            if was_active:
                self.set_active(new)
        return read_info(dst)

    # ----------------------------------------------------------------- claims and the lock

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store-wide lock (``flock`` on ``ROOT/.lock``) for a short check-and-change.

        Re-entrant within a thread; other threads and processes wait. Claims, deletes and
        renames take it; hold it only for file operations, never across training.
        """
        key = str(self.root.resolve())
        held: set[str] = getattr(_LOCAL, "held", set())
        _LOCAL.held = held
        if key in held:
            yield
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = open_lock(self.root / LOCK_FILE)
        except OSError as exc:
            raise _store_write_error(exc, self.root, "to the store") from None
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:
                    pass  # no locks on this file system: O_EXCL claims and links still hold
            held.add(key)
            yield
        finally:
            held.discard(key)
            os.close(fd)  # closing releases the flock

    def _claim_path(self, name: str) -> Path:
        return self.root / f".{name}{CLAIM_SUFFIX}"

    def _claim_holder(self, name: str, *, clean: bool) -> int | None:
        """The pid of the live process holding a claim on ``name``, else None; with ``clean``
        (only under the lock) a dead process's claim is removed."""
        path = self._claim_path(name)
        try:
            text = _read_small(path)
        except OSError:
            return None
        pid, _, start = text.strip().partition(" ")
        if pid.isdigit() and _alive(int(pid), start):
            return int(pid)
        if clean:
            path.unlink(missing_ok=True)
        return None

    def claim(self, name: str, *, resume: bool = False, unique: bool = False) -> NameClaim:
        """Claim a model name for a run, atomically, until the returned claim is released.

        Raises StoreError if another live run holds the name, or (unless ``resume``) a model of
        that name exists. With ``unique`` a taken name gets the first free ``-2``, ``-3``...
        suffix instead (default names). Use as a context manager or call ``release()``.
        """
        validate_name(name)
        with self.lock():
            base, n = name, 1
            while True:
                path = self.root / (name + SUFFIX)
                holder = self._claim_holder(name, clean=True)
                exists = os.path.lexists(path) and not resume
                if not unique or (holder is None and not exists):
                    break
                n += 1
                name = validate_name(f"{base}-{n}")
            self._refuse_shipped(path, "overwritten")
            if holder is not None:
                raise StoreError(
                    f"{name!r} is being trained by another run (process {holder}); choose"
                    " another --name or wait for that run to finish."
                )
            if exists:
                raise StoreError(
                    f"A model named {name!r} already exists; choose another --name or delete it"
                    " first."
                )
            claim_path = self._claim_path(name)
            try:
                fd = os.open(claim_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                with os.fdopen(fd, "w") as fh:
                    fh.write(f"{os.getpid()} {_process_start(os.getpid())}\n")
            except OSError as exc:
                raise _store_write_error(exc, self.root, name) from None
        return NameClaim(self, name, claim_path)

    # ----------------------------------------------------------------- the active model

    def active_name(self) -> str | None:
        """The model the user made active, if it still exists."""
        try:
            name = _read_small(self.root / ACTIVE_FILE).strip()
        except OSError:
            return None
        return name if name and (self.root / (name + SUFFIX)).is_file() else None

    def set_active(self, name: str | None) -> None:
        """Make a model the default for predict, weights and evaluate (None = shipped default)."""
        target = self.root / ACTIVE_FILE
        try:
            if name is None:
                target.unlink(missing_ok=True)
                return
            self.find(name)
            self.root.mkdir(parents=True, exist_ok=True)
            _atomic_write({target: (name + "\n").encode()})
        except OSError as exc:
            raise _store_write_error(exc, self.root, "the active model") from None

    def default_model(self, dataset: str | None = None) -> str:
        """The model used when none is named: the active one, else the shipped default.

        With ``dataset`` (the app or command was given ``--dataset``), a model of that data set:
        the active one if it is, else that data set's shipped default, else its newest finished
        model; a Fashion-MNIST session never silently answers with a digit model."""
        active = self.active_name()
        usable = [i for i in self.list() if not i.error and i.complete]
        if dataset is None:
            if active:
                return active
            dataset = "mnist"
        elif active and any(i.name == active and i.dataset == dataset for i in usable):
            return active
        shipped = DEFAULT_NAMES.get(dataset)
        for info in usable:
            if info.name == shipped and info.dataset == dataset:
                return info.name
        own = [i for i in usable if i.dataset == dataset]
        if own:
            return own[0].name
        raise CheckpointError(
            f"No {dataset} model is available; train one with `mnist-tui train --dataset"
            f" {dataset}` or reinstall mnist-tui to restore the shipped defaults."
            if dataset != "mnist"
            else "No model is available; train one with `mnist-tui train` or reinstall mnist-tui"
            " to restore the shipped default."
        )

    def unique_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3``... whichever is free."""
        name, n = base, 1
        while (self.root / (name + SUFFIX)).exists():
            n += 1
            name = f"{base}-{n}"
        return name


def _run_files(root: Path, name: str, new: str | None = None) -> None:
    """A model's run log and state go with it: removed on delete, moved on rename (StoreError
    if its run is queued or training)."""
    from mnist_tui.engine.jobs import Runs

    runs = Runs(root)
    if new is None:
        runs.forget(name)
    else:
        runs.rename(name, new)


@dataclass
class NameClaim:
    """A model name held for one run; ``release()`` (or leaving the ``with``) frees it."""

    store: ModelStore
    name: str
    path: Path

    def release(self) -> None:
        """Free the name (only our own claim file is removed)."""
        try:
            if _read_small(self.path).split()[0] == str(os.getpid()):
                self.path.unlink()
        except (OSError, IndexError):
            pass

    def __enter__(self) -> NameClaim:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


_LOCAL = threading.local()

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: renames still never replace (hard links)
    fcntl = None  # type: ignore[assignment]


def _read_small(path: Path, limit: int = 4096) -> str:
    """The start of a small text file of the store; OSError unless it is a regular file."""
    try:
        fd = open_regular(path)
    except CheckpointError:
        raise OSError(f"{path.name} is not a regular file") from None
    with os.fdopen(fd, "rb") as fh:
        return fh.read(limit).decode("utf-8", "replace")


def _process_start(pid: int) -> str:
    """When a process started (clock ticks since boot, Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(pid: int, start: str) -> bool:
    """Whether the process that wrote a claim is still running."""
    if os.name == "nt":  # os.kill would terminate it there; a claim is only freed by its run
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    except OSError:
        return False
    now = _process_start(pid)
    return not (start and now and now != start)


def _move_no_replace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``, failing with FileExistsError if ``dst`` exists, atomically."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except (OSError, NotImplementedError):
        # No hard links here (FAT, some network shares): the store lock still serialises us.
        if os.path.lexists(dst):
            raise FileExistsError(dst) from None
        os.rename(src, dst)
        return
    os.unlink(src)


def _resume_state_is_whole(state: Any) -> bool:
    """A resume state has the parts training reads back, of the right kinds."""
    import torch

    if not isinstance(state, dict):
        return False
    kinds = {"model": dict, "optimizer": dict, "generator": torch.Tensor,
             "torch_rng": torch.Tensor, "epochs_done": int}  # fmt: skip
    return (
        all(isinstance(state.get(k), t) for k, t in kinds.items())
        and all(isinstance(state.get(k, {}), (dict, list)) for k in ("scheduler", "ema", "history"))
        and isinstance(state.get("losses"), (torch.Tensor, type(None)))
    )


def default_run_name(arch: str) -> str:
    """A readable, sortable name for a new run: ``fast-20261122-0314``."""
    return f"{arch}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
