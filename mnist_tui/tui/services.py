"""What the TUI asks of the engine, in one object the app factory builds (and tests replace).

Methods that touch torch or disk are blocking: call them from thread workers, never from the
UI thread. Loaded models and data sets are cached, so switching screens is instant.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_tui.paths import resolve_data_dir

if TYPE_CHECKING:
    from mnist_tui.engine.data import MnistData
    from mnist_tui.engine.store import LoadedModel, ModelInfo, ModelStore


@dataclass
class Services:
    """Where data and models are, and cached access to them."""

    data_dir: str | os.PathLike[str] | None = None
    models_dir: str | os.PathLike[str] | None = None
    dataset: str = "mnist"
    device: str = "cpu"
    model: str | None = None  # the model named on the command line, if any
    val_size: int | None = None  # training: None = the recipe's; data views: 5000
    download: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _models: dict[str, Any] = field(default_factory=dict, repr=False)
    _data: dict[str, Any] = field(default_factory=dict, repr=False)
    _store: Any = field(default=None, repr=False)

    # ---------------------------------------------------------------- cheap (no torch)

    @property
    def resolved_data_dir(self) -> Path:
        """The data folder in use."""
        return resolve_data_dir(self.data_dir)

    def store(self) -> ModelStore:
        """The model store (reading it needs no torch)."""
        if self._store is None:
            from mnist_tui.engine.store import ModelStore

            self._store = ModelStore(self.models_dir)
        return self._store

    def data_available(self, dataset: str | None = None) -> bool:
        """Whether the data set's files are on disk."""
        from mnist_tui.engine.data import is_available

        return is_available(self.data_dir, dataset or self.dataset)

    def active_model_name(self) -> str:
        """The model screens use unless the user picks another (raises CheckpointError)."""
        # Only a session given another data set asks for a model of it; MNIST keeps the active one.
        return self.model or self.store().default_model(
            None if self.dataset == "mnist" else self.dataset
        )

    def active_info(self) -> ModelInfo:
        """Metadata of the active model, read from its header (no torch)."""
        return self.store().info(self.active_model_name())

    def set_active_model(self, name: str) -> None:
        """Make ``name`` the active model for this session and in the store."""
        self.store().set_active(name)
        self.model = name

    # ---------------------------------------------------------------- blocking (workers only)

    def load_model(self, name: str | None = None) -> LoadedModel:
        """Load a model (cached by name and file time)."""
        store = self.store()
        name = name or self.active_model_name()
        path = store.find(name)
        key = f"{path}:{path.stat().st_mtime_ns}"
        with self._lock:
            if key not in self._models:
                self._models[key] = store.load(name, device=self.device)
            return self._models[key]

    def load_data(self, dataset: str | None = None, progress: Any = None) -> MnistData:
        """Load a data set once per session (downloading it if allowed and missing)."""
        from mnist_tui.engine.data import load_dataset

        key = dataset or self.dataset
        with self._lock:
            if key not in self._data:
                val_size = 5000 if self.val_size is None else self.val_size
                self._data[key] = load_dataset(
                    key, self.data_dir, val_size=val_size, download=self.download,
                    progress=progress,
                )  # fmt: skip
            return self._data[key]

    def forget_model(self, name: str) -> None:
        """Drop cached copies after a delete or rename."""
        with self._lock:
            self._models = {k: v for k, v in self._models.items() if v.info.name != name}

    def warm_up(self) -> None:
        """Import torch and the engine in the background so the first real action is quick."""
        import mnist_tui.engine.networks  # noqa: F401
        import mnist_tui.engine.predict  # noqa: F401
