"""Shared fixtures: small IDX data sets the tests write, and a tiny trained model store.

Nothing here needs the real MNIST or a network connection. Tests that want the real data use
the ``real_data_dir`` fixture, which skips unless ``MNIST_TUI_DATA`` points at it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from datagen import (  # noqa: F401 - re-exported for tests that load this file by path
    IMAGES_MAGIC,
    LABELS_MAGIC,
    idx_bytes,
    synthetic_digits,
    write_dataset,
)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the decompressed-data cache of every test (and CLI child) out of ~/.cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    # The synthetic "digits" below are crossed bars, which the not-a-digit detector rightly
    # refuses; tests of the detector (tests/engine/test_reject.py) switch it back on.
    os.environ["MNIST_TUI_DETECTOR"] = "off"


@pytest.fixture(autouse=True)
def _truecolor_utf8_terminal(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202
    """Every test sees the same terminal, a UTF-8 truecolor one, whatever runs the suite (the
    app and the CLI read TERM/COLORTERM/NO_COLOR/LANG); tests of other depths ask for them."""
    from mnist_tui.render import use_depth

    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.setenv("LANG", "C.UTF-8")
    for name in ("NO_COLOR", "TEXTUAL_COLOR_SYSTEM", "LC_ALL", "LC_CTYPE"):
        monkeypatch.delenv(name, raising=False)
    use_depth("truecolor")
    yield
    use_depth("truecolor")


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


SHIPPED_MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="session")
def shipped():  # noqa: ANN201
    """The shipped default model (what a fresh install answers with): the stroke-font and
    photographed digits need a model that really reads MNIST."""
    from mnist_tui.engine.store import ModelStore

    store = ModelStore(SHIPPED_MODELS)
    if not store.list():
        pytest.skip("the shipped default model is not in models/")
    return store.load(store.default_model())
