"""The model store: a folder of safetensors checkpoints, each carrying its own metadata.

A checkpoint is one ``NAME.safetensors`` file: the weights (safetensors cannot run code when
loaded) and, in its header, a JSON document with the architecture, recipe, normalisation,
per-epoch history, accuracies, data set, creation time and versions. The header is read without
torch, so listing the store is instant. An unfinished run also has ``NAME.resume.pt``
(optimizer state and RNG), loaded with ``torch.load(weights_only=True)``. Every write goes to a
temporary file that is renamed into place, so a killed process never leaves a torn checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_tui.engine.archs import ARCH_INFO
from mnist_tui.engine.calibrate import Calibration
from mnist_tui.errors import CheckpointError, StoreError
from mnist_tui.paths import resolve_models_dir, shipped_models_dir

if TYPE_CHECKING:
    from torch import nn

FORMAT_VERSION = 1
SUFFIX = ".safetensors"
RESUME_SUFFIX = ".resume.pt"
META_KEY = "mnist_tui"
ACTIVE_FILE = "active.txt"
DEFAULT_NAME = "default"
MAX_HEADER = 16 << 20  # a real header is a few kB; refuse absurd sizes before allocating
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
    error: str | None = None

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
        return f"{self.name} · {self.arch} · {acc}{state}"


@dataclass
class LoadedModel:
    """A model ready to predict, with what the store knows about it."""

    model: nn.Module
    info: ModelInfo

    @property
    def temperature(self) -> float:
        """What the logits are divided by before the softmax (1 for an uncalibrated model)."""
        return self.info.calibration.temperature


def validate_name(name: str) -> str:
    """Return ``name`` if it is a usable model name, else raise a StoreError saying why."""
    if not NAME_RE.match(name) or name.endswith((SUFFIX, RESUME_SUFFIX)):
        raise StoreError(
            f"{name!r} is not a valid model name: use up to 64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit."
        )
    return name


def read_header(path: Path) -> dict[str, Any]:
    """Read a safetensors header (JSON) without torch; raise CheckpointError if malformed."""
    try:
        with open(path, "rb") as fh:
            raw_len = fh.read(8)
            if len(raw_len) < 8:
                raise CheckpointError(
                    f"{path.name} is empty or truncated; delete it or re-save it."
                )
            (length,) = struct.unpack("<Q", raw_len)
            if length > MAX_HEADER or length < 2:
                raise CheckpointError(
                    f"{path.name} is not a safetensors checkpoint (bad header);"
                    " delete or replace it."
                )
            body = fh.read(length)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if len(body) < length:
        raise CheckpointError(f"{path.name} is truncated; delete it or train it again.")
    try:
        header = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(
            f"{path.name} is not a safetensors checkpoint (unreadable header);"
            " delete or replace it."
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path.name} has a malformed header; delete or replace it.")
    end = 8 + length
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2):
            raise CheckpointError(f"{path.name} has a malformed header; delete or replace it.")
        if end + int(offsets[1]) > size:
            raise CheckpointError(f"{path.name} is truncated; delete it or train it again.")
    return header


def read_info(path: Path, *, shipped: bool = False) -> ModelInfo:
    """A checkpoint's metadata, read from its header only. Unusable files get ``error`` set."""
    name = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem
    info = ModelInfo(name=name, path=path, shipped=shipped)
    try:
        header = read_header(path)
        meta_raw = (header.get("__metadata__") or {}).get(META_KEY)
        if not meta_raw:
            raise CheckpointError(
                f"{path.name} has no mnist-tui metadata, so its architecture is unknown;"
                " it was not saved by mnist-tui."
            )
        try:
            meta = json.loads(meta_raw)
            if not isinstance(meta, dict):
                raise ValueError
        except ValueError:
            raise CheckpointError(
                f"{path.name} has malformed metadata; delete or re-save it."
            ) from None
        version = meta.get("format_version")
        if not isinstance(version, int):
            raise CheckpointError(f"{path.name} has malformed metadata; delete or re-save it.")
        if version > FORMAT_VERSION:
            raise CheckpointError(
                f"{path.name} was saved by a newer mnist-tui (format {version});"
                " upgrade mnist-tui to load it."
            )
        arch = meta.get("arch")
        if arch not in ARCH_INFO:
            raise CheckpointError(
                f"{path.name} is for an unknown architecture {arch!r};"
                " upgrade mnist-tui or delete it."
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
        info.extra = {k: v for k, v in meta.items() if k not in _KNOWN_META}
    except CheckpointError as exc:
        info.error = str(exc)
    except (TypeError, ValueError, AttributeError):
        info.error = f"{path.name} has malformed metadata; delete or re-save it."
    return info


_KNOWN_META = {
    "format_version", "arch", "dataset", "params", "val_acc", "test_acc", "test_loss", "created",
    "epochs_done", "epochs", "complete", "normalisation", "config", "history", "calibration",
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


def _write_temp(target: Path, data: bytes) -> Path:
    """Write ``data`` to a synced temporary file beside ``target`` and return its path."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
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
        for folder, shipped in ((self.root, False), (self.shipped, True)):
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
                out.append((path, shipped and folder != self.root))
        return out

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
        info = read_info(path, shipped=self.shipped is not None and path.parent == self.shipped)
        if info.error:
            raise CheckpointError(info.error)
        return info

    def load(self, name_or_path: str | os.PathLike[str], device: str = "cpu") -> LoadedModel:
        """Build the network and load its weights (safetensors: no code runs)."""
        info = self.info(name_or_path)
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from mnist_tui.engine.networks import build_model

        try:
            state = load_file(str(info.path), device="cpu")
        except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
            raise CheckpointError(
                f"{info.path.name} could not be read ({str(exc).splitlines()[0][:80]});"
                " delete it or train it again."
            ) from None
        model = build_model(info.arch)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError:
            raise CheckpointError(
                f"{info.path.name} holds weights that do not fit the {info.arch!r} architecture;"
                " it is damaged or from another network."
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
            return torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
            raise CheckpointError(
                f"The resume state of {name!r} is unreadable or unsafe ({type(exc).__name__});"
                " train it again from the start."
            ) from None

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

    def delete(self, name: str) -> None:
        """Remove a model (and its resume state); the shipped default cannot be deleted."""
        path = self.find(name)
        if self.shipped is not None and path.parent == self.shipped and path.parent != self.root:
            raise StoreError(f"{name!r} ships with mnist-tui and cannot be deleted.")
        was_active = self.active_name() == name  # asked before the file it checks is gone
        try:
            path.unlink()
            path.with_name(path.name[: -len(SUFFIX)] + RESUME_SUFFIX).unlink(missing_ok=True)
        except OSError as exc:
            raise _store_write_error(exc, self.root, name) from None
        if was_active:
            self.set_active(None)

    def rename(self, old: str, new: str) -> ModelInfo:
        """Rename a model; refuses to overwrite another."""
        src = self.find(old)
        dst = self.path_for(new)
        if dst.exists():
            raise StoreError(f"A model named {new!r} already exists; choose another name.")
        if src.parent != self.root:
            raise StoreError(f"{old!r} is not in the store {self.root}; it cannot be renamed.")
        was_active = self.active_name() == old  # asked before the file it checks is moved
        try:
            os.rename(src, dst)
            src_resume = src.with_name(old + RESUME_SUFFIX)
            if src_resume.exists():
                os.rename(src_resume, dst.with_name(new + RESUME_SUFFIX))
        except OSError as exc:
            raise _store_write_error(exc, self.root, old) from None
        if was_active:
            self.set_active(new)
        return read_info(dst)

    # ----------------------------------------------------------------- the active model

    def active_name(self) -> str | None:
        """The model the user made active, if it still exists."""
        try:
            name = (self.root / ACTIVE_FILE).read_text().strip()
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

    def default_model(self) -> str:
        """The model used when none is named: the active one, else the shipped default."""
        active = self.active_name()
        if active:
            return active
        for info in self.list():
            if info.name == DEFAULT_NAME and not info.error:
                return DEFAULT_NAME
        usable = [i for i in self.list() if not i.error and i.complete]
        if usable:
            return usable[0].name
        raise CheckpointError(
            "No model is available; train one with `mnist-tui train` or reinstall mnist-tui"
            " to restore the shipped default."
        )

    def unique_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3``... whichever is free."""
        name, n = base, 1
        while (self.root / (name + SUFFIX)).exists():
            n += 1
            name = f"{base}-{n}"
        return name


def default_run_name(arch: str) -> str:
    """A readable, sortable name for a new run: ``fast-20261122-0314``."""
    return f"{arch}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
