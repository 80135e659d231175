"""Every mistake a user can make ends as one line on stderr and a non-zero status."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest
from datagen import write_dataset

from mnist_tui.cli import main
from mnist_tui.engine import data as data_mod


@pytest.fixture(autouse=True)
def _keep_signal_handlers():  # noqa: ANN202 - `train` installs its own Ctrl+C handler
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr("urllib.request.urlopen", refuse)
    monkeypatch.setattr(
        data_mod,
        "_mirrors_and_resources",
        lambda spec: (
            ["http://mirror.invalid/"],
            [(n + ".gz", "0" * 32) for n in data_mod.ALL_FILE_NAMES],
        ),
    )


def user_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI, check it failed the way a user error must, and return the one line."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code not in (0, None)
    assert "Traceback" not in out + err
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("mnist-tui: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    if argv[0] != "train":  # only training prints progress ("Loading mnist data") first
        assert len(lines) == 1, err
    assert errors[0].endswith("."), err
    assert "internal error" not in err
    return errors[0]


def test_unknown_model(capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path) -> None:
    line = user_error(capsys, "weights", "--models-dir", str(store_dir), "--model", "ghost")
    assert "ghost" in line and "tiny" in line


def test_bad_model_path(
    capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nope" / "model.safetensors"
    line = user_error(capsys, "predict", "--models-dir", str(store_dir), "--model", str(missing),
                      str(tmp_path / "x.png"))  # fmt: skip
    assert str(missing) in line and "does not exist" in line
    line = user_error(capsys, "weights", "--models-dir", str(store_dir), "--model", str(tmp_path))
    assert "not a file" in line


def test_pickle_model_is_refused(
    capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path
) -> None:
    import torch

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):  # noqa: ANN204
            return (os.system, (f"touch {marker}",))

    torch.save({"state": Evil()}, tmp_path / "evil.pt")
    for command in ("weights", "evaluate"):
        line = user_error(capsys, command, "--models-dir", str(store_dir),
                          "--model", str(tmp_path / "evil.pt"))  # fmt: skip
        assert "pickle" in line
    assert not marker.exists()


def test_hostile_resume_state_is_refused(
    capsys: pytest.CaptureFixture[str], store_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    import torch

    from mnist_tui.engine.networks import build_model
    from mnist_tui.engine.store import ModelStore, build_metadata

    store = ModelStore(store_dir, shipped=Path(os.devnull) / "none")
    meta = build_metadata(
        arch="fast", dataset="mnist", params=1, config={"arch": "fast", "epochs": 3}, history=[],
        epochs_done=1, epochs=3, complete=False, mean=0.1307, std=0.3081,
    )  # fmt: skip
    store.save("half", build_model("fast"), meta, resume_state={"epochs_done": 1})
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):  # noqa: ANN204
            return (os.system, (f"touch {marker}",))

    torch.save({"model": Evil()}, store_dir / "half.resume.pt")
    line = user_error(capsys, "train", "--resume", "half", "--models-dir", str(store_dir),
                      "--data-dir", str(data_dir), "--no-download")  # fmt: skip
    assert "resume state" in line and "half" in line
    assert not marker.exists()


def test_unknown_arch(capsys: pytest.CaptureFixture[str]) -> None:
    line = user_error(capsys, "train", "--arch", "resnet")
    assert "resnet" in line and "fast" in line and "--help" in line


@pytest.mark.parametrize(
    "argv",
    [["train", "--epochs", "many"], ["frobnicate"], ["predict"], ["models", "rename", "a"],
     ["train", "--optimizer", "lion"], ["weights", "--scale", "x"]],
)  # fmt: skip
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    user_error(capsys, *argv)


@pytest.mark.parametrize(
    "option,value,words",
    [("--epochs", "0", "epochs"), ("--batch-size", "0", "batch size"), ("--lr", "-1", "learning"),
     ("--val-size", "-5", "validation"), ("--threads", "-1", "threads")],
)  # fmt: skip
def test_invalid_training_values(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    tmp_path: Path,
    option: str,
    value: str,
    words: str,
) -> None:
    line = user_error(capsys, "train", "--data-dir", str(data_dir), "--models-dir",
                      str(tmp_path), option, value)  # fmt: skip
    assert words in line
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_validation_larger_than_train(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    line = user_error(capsys, "train", "--data-dir", str(data_dir), "--models-dir", str(tmp_path),
                      "--val-size", "5000", "--threads", "1")  # fmt: skip
    assert "--val-size" in line


def test_corrupt_data(capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    data_mod_path = root / "MNIST" / "raw"
    write_dataset(root, n_train=100, n_test=20)
    (data_mod_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"not idx at all"))
    line = user_error(capsys, "evaluate", "--data-dir", str(root), "--models-dir", str(store_dir))
    assert "magic number" in line
    (data_mod_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bbroken")
    line = user_error(capsys, "train", "--data-dir", str(root), "--models-dir", str(tmp_path / "m"),
                      "--threads", "1", "--val-size", "10")  # fmt: skip
    assert "gzip" in line


def test_missing_data_no_download(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = user_error(capsys, "train", "--data-dir", str(tmp_path / "none"), "--models-dir",
                      str(tmp_path / "m"), "--no-download")  # fmt: skip
    assert "--data-dir" in line and "MNIST_TUI_DATA" in line
    assert not (tmp_path / "m").exists()


def test_missing_data_network_down(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store_dir: Path
) -> None:
    line = user_error(capsys, "evaluate", "--data-dir", str(tmp_path / "d"),
                      "--models-dir", str(store_dir))  # fmt: skip
    assert "Could not download" in line and "unreachable" in line
    assert "train-images-idx3-ubyte" in line


def test_store_conflicts(
    capsys: pytest.CaptureFixture[str], store_dir: Path, data_dir: Path
) -> None:
    s = ("--models-dir", str(store_dir))
    assert "already exists" in user_error(capsys, "train", *s, "--name", "tiny",
                                          "--data-dir", str(data_dir))  # fmt: skip
    assert "nothing to resume" in user_error(capsys, "train", *s, "--resume", "tiny",
                                             "--data-dir", str(data_dir))  # fmt: skip
    assert "not a valid model name" in user_error(capsys, "train", *s, "--name", "../x",
                                                  "--data-dir", str(data_dir))  # fmt: skip
    assert "ghost" in user_error(capsys, "models", *s, "activate", "ghost")
    assert "ghost" in user_error(capsys, "models", *s, "delete", "ghost")
    assert "not a valid model name" in user_error(capsys, "models", *s, "rename", "tiny", "a/b")
    assert (store_dir / "tiny.safetensors").is_file()


def test_broken_checkpoint(capsys: pytest.CaptureFixture[str], store_dir: Path) -> None:
    blob = (store_dir / "tiny.safetensors").read_bytes()
    (store_dir / "cut.safetensors").write_bytes(blob[: len(blob) - 1000])
    line = user_error(capsys, "weights", "--models-dir", str(store_dir), "--model", "cut")
    assert "cut.safetensors" in line and "truncated" in line


def test_empty_store_says_how_to_get_a_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mnist_tui.engine.store.shipped_models_dir", lambda: None)
    line = user_error(capsys, "weights", "--models-dir", str(tmp_path))
    assert "mnist-tui train" in line


def test_errors_in_a_real_process(store_dir: Path, tmp_path: Path) -> None:
    """The installed entry point, as a shell sees it: one line, no traceback."""
    for argv in (
        ["weights", "--models-dir", str(store_dir), "--model", str(tmp_path / "none.safetensors")],
        ["train", "--arch", "resnet"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "mnist_tui", *argv], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("mnist-tui: ")
