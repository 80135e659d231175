"""Issue #14, as a careless or unlucky user meets it: nothing outside the store is touched, no
model is silently lost, no corrupted data or checkpoint is silently used, and every bad input is
one sentence, never an internal error."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from datagen import synthetic_digits

from mnist_tui.cli import main
from mnist_tui.engine import store as store_mod

NO_SHIPPED = Path(os.devnull) / "none"


@pytest.fixture(autouse=True)
def _keep_signal_handlers():  # noqa: ANN202 - `train` installs its own handlers
    sigs = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    saved = {s: signal.getsignal(s) for s in sigs}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def user_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI; it must fail with exactly one sentence on stderr, never an internal error."""
    code, out, err = run(capsys, *argv)
    assert code not in (0, None), (out, err)
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("mnist-tui: ")]
    assert len(lines) == 1 and err.splitlines()[-1] == lines[0], err
    assert lines[0].endswith("."), err
    return lines[0]


def _tensors_of(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


def _write_checkpoint(path: Path, tensors: dict, meta: dict) -> None:
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata={store_mod.META_KEY: json.dumps(meta)})


def _raw_checkpoint(path: Path, header: bytes, body: bytes = b"") -> None:
    path.write_bytes(struct.pack("<Q", len(header)) + header + body)


# --------------------------------------------------------------------------- damage outside


def test_models_delete_refuses_a_file_outside_the_store(
    capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    elsewhere = tmp_path / "elsewhere.safetensors"
    elsewhere.write_bytes((store_dir / "tiny.safetensors").read_bytes())
    line = user_error(capsys, "models", "--models-dir", str(store_dir), "delete", "notes.txt")
    assert "notes.txt" in line
    line = user_error(capsys, "models", "--models-dir", str(store_dir), "delete", str(elsewhere))
    assert "store" in line
    assert notes.read_text() == "my notes" and elsewhere.is_file()
    assert (store_dir / "tiny.safetensors").is_file()


def test_models_delete_and_rename_refuse_the_shipped_default_in_a_source_checkout(
    capsys: pytest.CaptureFixture[str], store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From a source checkout ./models is both the user's store and the shipped folder.
    shipped = store_dir / "default.safetensors"
    shipped.write_bytes((store_dir / "tiny.safetensors").read_bytes())
    monkeypatch.setattr(store_mod, "shipped_models_dir", lambda: store_dir)
    for argv in (["delete", "default"], ["rename", "default", "mine"]):
        line = user_error(capsys, "models", "--models-dir", str(store_dir), *argv)
        assert "ships with mnist-tui" in line
    assert shipped.is_file() and not (store_dir / "mine.safetensors").exists()
    code, out, _ = run(capsys, "models", "--models-dir", str(store_dir))
    assert code == 0 and "(shipped)" in out
    # the user's own models in the same folder stay theirs to manage
    assert run(capsys, "models", "--models-dir", str(store_dir), "delete", "tiny")[0] == 0


# --------------------------------------------------------------------------- corrupt models


@pytest.mark.parametrize("damage", ["nan-weights", "inf-weights", "std-zero", "std-nan"])
def test_predict_refuses_a_checkpoint_with_unusable_numbers(
    capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path, damage: str
) -> None:
    import torch

    from mnist_tui.engine.store import ModelStore

    info = ModelStore(store_dir, shipped=NO_SHIPPED).info("tiny")
    meta = json.loads(json.dumps({**info.extra, **_meta_of(info)}))
    tensors = _tensors_of(info.path)
    first = next(k for k, t in tensors.items() if t.is_floating_point() and t.dim() > 1)
    if damage == "nan-weights":
        tensors[first] = torch.full_like(tensors[first], float("nan"))
    elif damage == "inf-weights":
        tensors[first][0] = float("inf")
    else:
        meta["normalisation"]["std"] = 0.0 if damage == "std-zero" else 1e999
    bad = store_dir / "bad.safetensors"
    _write_checkpoint(bad, tensors, meta)
    if damage == "std-nan":  # json.dumps wrote Infinity; the file still says so
        assert b"Infinity" in bad.read_bytes()
    image = tmp_path / "digit.png"
    _save_digit(image)
    line = user_error(capsys, "predict", "--models-dir", str(store_dir), "--model", "bad",
                      str(image))  # fmt: skip
    assert "bad.safetensors" in line
    assert "nan%" not in line


def _meta_of(info) -> dict:  # noqa: ANN001
    return {
        "format_version": 1, "arch": info.arch, "dataset": info.dataset, "params": info.params,
        "config": info.config, "history": info.history, "epochs_done": info.epochs_done,
        "epochs": info.epochs, "complete": info.complete,
        "normalisation": {"mean": info.mean, "std": info.std}, "val_acc": info.val_acc,
        "test_acc": info.test_acc, "test_loss": info.test_loss, "created": info.created,
    }  # fmt: skip


def _save_digit(path: Path) -> None:
    from PIL import Image

    images, _ = synthetic_digits(1, seed=3)
    Image.fromarray(np.kron(images[0], np.ones((4, 4), np.uint8))).save(path)


def _bad_headers(store_dir: Path) -> dict[str, Path]:
    """One file per way a header can be malformed beyond the first hardening round."""
    good = (store_dir / "tiny.safetensors").read_bytes()
    (length,) = struct.unpack("<Q", good[:8])
    header = json.loads(good[8 : 8 + length])
    body = good[8 + length :]
    files: dict[str, Path] = {}

    def put(name: str, head: bytes) -> None:
        files[name] = store_dir / f"{name}.safetensors"
        _raw_checkpoint(files[name], head, body)

    meta = json.loads(header["__metadata__"][store_mod.META_KEY])
    put("inf-meta", json.dumps({**header, "__metadata__": {store_mod.META_KEY: json.dumps(
        {**meta, "test_acc": float("inf")})}}).encode())  # fmt: skip
    key = next(k for k in header if k != "__metadata__")
    offsets = json.dumps({**header, key: {**header[key], "data_offsets": [0, "X"]}})
    put("inf-offset", offsets.replace('"X"', "Infinity").encode())
    put("huge-offset", json.dumps({**header, key: {**header[key], "data_offsets": [0, 1e300]}})
        .encode())  # fmt: skip
    deep = "[" * 100_000 + "]" * 100_000
    put("deep-meta", json.dumps({**header, "__metadata__": {store_mod.META_KEY: deep}}).encode())
    put("deep-header", ('{"a": ' + deep + "}").encode())
    fifo = store_dir / "fifo.safetensors"
    os.mkfifo(fifo)
    files["fifo"] = fifo
    return files


def test_one_malformed_checkpoint_never_hides_the_good_models(
    capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path
) -> None:
    bad = _bad_headers(store_dir)
    code, out, err = run(capsys, "models", "--models-dir", str(store_dir))
    assert code == 0 and "internal error" not in err, err
    lines = out.splitlines()
    assert any(line.split()[:2] == ["*", "tiny"] for line in lines), out
    for name in bad:
        (line,) = [line for line in lines if line.split()[:1] == [name]]
        assert "not a usable checkpoint" in line or "not a regular file" in line, line
    image = tmp_path / "digit.png"
    _save_digit(image)
    code, out, err = run(capsys, "predict", "--models-dir", str(store_dir), str(image))
    assert code == 0 and out.startswith(str(image)), err
    for name in bad:
        line = user_error(capsys, "predict", "--models-dir", str(store_dir), "--model", name,
                          str(image))  # fmt: skip
        assert f"{name}.safetensors" in line


def test_models_does_not_hang_on_a_fifo_in_the_store(store_dir: Path) -> None:
    os.mkfifo(store_dir / "x.safetensors")
    (store_dir / "active.txt").unlink()
    os.mkfifo(store_dir / "active.txt")
    done = subprocess.run(
        [sys.executable, "-m", "mnist_tui", "models", "--models-dir", str(store_dir)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "tiny" in done.stdout and "not a regular file" in done.stdout


# --------------------------------------------------------------------------- unbounded work


@pytest.mark.parametrize(
    "argv,words",
    [
        (["weights", "--scale", "2000"], "--scale"),
        (["weights", "--scale", str(10**20)], "--scale"),
        (["weights", "--scale", "0"], "--scale"),
        (["evaluate", "--worst", "-1"], "--worst"),
        (["evaluate", "--worst", str(10**20)], "--worst"),
        (["train", "--batch-size", "1000000"], "batch size"),
        (["train", "--batch-size", "4096"], "batch size"),
        (["train", "--epochs", str(10**20)], "epochs"),
    ],
)
def test_sizes_beyond_the_bounds_are_refused_at_once(
    capsys: pytest.CaptureFixture[str], store_dir: Path, argv: list[str], words: str
) -> None:
    t0 = time.monotonic()
    line = user_error(capsys, *argv, "--models-dir", str(store_dir), "--no-download"
                      if argv[0] != "weights" else "--ascii")  # fmt: skip
    assert words in line
    assert time.monotonic() - t0 < 5


# --------------------------------------------------------------------------- odd names


def test_predict_prints_one_line_per_image_whatever_the_file_name(
    capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path
) -> None:
    odd = tmp_path / "two\nlines\x1b[31m.png"
    _save_digit(odd)
    missing = tmp_path / "gone\nmissing.png"
    code, out, err = run(capsys, "predict", "--models-dir", str(store_dir), str(odd), str(missing))
    assert code == 1
    (line,) = out.splitlines()
    assert "two\\nlines\\x1b[31m.png: " in line
    (problem,) = err.splitlines()
    assert "missing.png" in problem


def test_resume_of_a_wrongly_structured_resume_file_is_one_sentence(
    capsys: pytest.CaptureFixture[str], store_dir: Path, data_dir: Path
) -> None:
    import torch

    from mnist_tui.engine.networks import build_model
    from mnist_tui.engine.store import ModelStore, build_metadata

    store = ModelStore(store_dir, shipped=NO_SHIPPED)
    meta = build_metadata(
        arch="fast", dataset="mnist", params=1, config={"arch": "fast", "epochs": 3,
        "batch_size": 32, "val_size": 200, "threads": 1}, history=[], epochs_done=1, epochs=3,
        complete=False, mean=0.1307, std=0.3081,
    )  # fmt: skip
    for state in ({"epochs_done": 1}, {"epochs_done": "x", "model": 3}, [1, 2], {"model": {}}):
        store.save("half", build_model("fast"), meta, resume_state={"epochs_done": 1})
        torch.save(state, store_dir / "half.resume.pt")
        line = user_error(capsys, "train", "--resume", "half", "--models-dir", str(store_dir),
                          "--data-dir", str(data_dir), "--no-download")  # fmt: skip
        assert "half" in line and "resume" in line
    # a stored training config of the wrong types is one sentence too
    bad = {**meta, "config": {"arch": "fast", "epochs": "many", "lr": [1]}}
    whole = {"epochs_done": 1, "model": {}, "optimizer": {}, "generator": torch.zeros(1),
             "torch_rng": torch.zeros(1)}  # fmt: skip
    store.save("half", build_model("fast"), bad, resume_state=whole)
    line = user_error(capsys, "train", "--resume", "half", "--models-dir", str(store_dir),
                      "--data-dir", str(data_dir), "--no-download")  # fmt: skip
    assert "half" in line and "config" in line
    # a whole-looking state that does not fit the network is one sentence as well
    store.save("half", build_model("fast"), meta, resume_state=whole)
    line = user_error(capsys, "train", "--resume", "half", "--models-dir", str(store_dir),
                      "--data-dir", str(data_dir), "--no-download")  # fmt: skip
    assert "resume state" in line


# --------------------------------------------------------------------------- signals


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_a_dropped_ssh_session_keeps_the_last_epoch(data_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mnist_tui", "train", "--data-dir", str(data_dir),
         "--models-dir", str(root), "--name", "hup", "--epochs", "50", "--batch-size", "32",
         "--val-size", "200", "--threads", "1", "--no-download", "--events"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in proc.stdout:
        if json.loads(line).get("kind") == "epoch":
            break
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "hang-up" in err
    done = json.loads(out.splitlines()[-1])
    assert done["kind"] == "done" and done["cancelled"] and done["epochs_done"] >= 1
    assert "resume with" in done["message"]
    from mnist_tui.engine.store import ModelStore

    info = ModelStore(root, shipped=NO_SHIPPED).info("hup")
    assert not info.complete and info.resumable and info.epochs_done >= 1


# --------------------------------------------------------------------------- concurrent runs


@pytest.mark.slow  # two trainings side by side: ~13 s on the shared machine
def test_two_trains_with_the_same_name_never_both_say_saved(data_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    argv = [sys.executable, "-m", "mnist_tui", "train", "--data-dir", str(data_dir),
            "--models-dir", str(root), "--name", "same", "--epochs", "1", "--batch-size", "64",
            "--val-size", "200", "--threads", "1", "--no-download", "--seed"]  # fmt: skip
    procs = [subprocess.Popen([*argv, str(seed)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in (1, 2)]  # fmt: skip
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    saved = [r for r in results if r[0] == 0]
    assert len(saved) == 1, results
    assert saved[0][1].startswith("Saved same:")
    ((code, out, err),) = [r for r in results if r[0] != 0]
    assert out == "" and code == 2
    assert err.splitlines()[-1].startswith("mnist-tui: ") and "'same'" in err.splitlines()[-1]
    assert "internal error" not in err
    from mnist_tui.engine.store import ModelStore

    (info,) = ModelStore(root, shipped=NO_SHIPPED).list()
    winner = 1 if results[0][0] == 0 else 2
    assert info.name == "same" and info.config["seed"] == winner  # the one that said so
