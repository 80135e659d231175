"""The CLI as scripts use it: JSON outputs, exit statuses, and store management."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
from datagen import synthetic_digits

from mnist_tui.cli import main
from mnist_tui.engine.archs import ARCH_INFO


@pytest.fixture(autouse=True)
def _keep_signal_handlers():  # noqa: ANN202 - `train` installs its own Ctrl+C handler
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


TRAIN = ("--epochs", "1", "--batch-size", "64", "--val-size", "200", "--threads", "1")


def test_train_json_prints_one_object(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "train", "--data-dir", str(data_dir), "--models-dir", str(tmp_path), *TRAIN,
        "--json", "--no-download", "--name", "cli", "--activate",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)  # exactly one JSON document, nothing else on stdout
    assert result["name"] == "cli" and result["epochs_done"] == 1 and not result["cancelled"]
    assert 0.5 < result["test_acc"] <= 1.0
    assert Path(result["path"]) == tmp_path / "cli.safetensors"
    assert (tmp_path / "active.txt").read_text().strip() == "cli"
    code, out, _ = run(capsys, "models", "--models-dir", str(tmp_path), "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert any(r["shipped"] and r["name"] == "default" for r in rows)  # always available
    (listed,) = [r for r in rows if not r["shipped"]]
    assert listed["name"] == "cli" and listed["active"] and listed["error"] is None
    assert listed["test_acc"] == pytest.approx(result["test_acc"])


def test_train_plain_prints_progress_and_a_sentence(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "train", "--data-dir", str(data_dir), "--models-dir", str(tmp_path), *TRAIN,
        "--name", "plain", "--no-download",
    )  # fmt: skip
    assert code == 0
    assert out.startswith("Saved plain: ") and out.strip().endswith("test accuracy.")
    assert "epoch 1/1: train loss" in err


def test_training_on_every_image_shows_no_validation_figures(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    """--val-size 0: no "nan%" anywhere; the listing shows "-" and the JSON says null."""
    code, out, err = run(
        capsys, "train", "--data-dir", str(data_dir), "--models-dir", str(tmp_path), *TRAIN,
        "--val-size", "0", "--ema", "0.9", "--name", "all", "--no-download",
    )  # fmt: skip
    assert code == 0, err
    assert "no validation split" in err and "nan" not in (out + err).lower()
    code, out, _ = run(capsys, "models", "--models-dir", str(tmp_path))
    (line,) = [ln for ln in out.splitlines() if ln.strip().startswith("all ")]
    assert "nan" not in line.lower() and " - " in line
    code, out, _ = run(capsys, "models", "--models-dir", str(tmp_path), "--json")
    (row,) = [json.loads(r) for r in out.splitlines() if json.loads(r)["name"] == "all"]
    assert row["val_acc"] is None and 0.5 < row["test_acc"] <= 1.0


def test_evaluate_json(capsys: pytest.CaptureFixture[str], data_dir: Path, store_dir: Path) -> None:
    code, out, _ = run(
        capsys, "evaluate", "--data-dir", str(data_dir), "--models-dir", str(store_dir), "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert result["model"] == "tiny"
    assert 0 <= result["accuracy"] <= 1 and len(result["per_class"]) == 10
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 300
    assert result["accuracy"] == pytest.approx(np.trace(confusion) / 300)


def test_evaluate_plain(
    capsys: pytest.CaptureFixture[str], data_dir: Path, store_dir: Path
) -> None:
    code, out, _ = run(
        capsys, "evaluate", "--data-dir", str(data_dir), "--models-dir", str(store_dir)
    )
    assert code == 0
    assert "tiny on the MNIST test set (300 images)" in out
    assert "confusion (rows: true, columns: predicted)" in out


@pytest.fixture
def digit_pngs(tmp_path: Path) -> list[Path]:
    from PIL import Image

    images, labels = synthetic_digits(3, seed=5)
    paths = []
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        path = tmp_path / f"digit{i}-{label}.png"
        Image.fromarray(np.kron(image, np.ones((4, 4), np.uint8))).save(path)
        paths.append(path)
    return paths


def test_predict_json_lines(
    capsys: pytest.CaptureFixture[str], store_dir: Path, digit_pngs: list[Path], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.png"
    paths = [str(p) for p in digit_pngs]
    code, out, _ = run(capsys, "predict", "--models-dir", str(store_dir), "--json", *paths)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["path"] for line in lines] == paths
    for line in lines:
        assert {"path", "digit", "confidence", "probabilities"} <= set(line)
        assert line["digit"] in range(10)
        assert len(line["probabilities"]) == 10
        assert sum(line["probabilities"]) == pytest.approx(1.0, abs=1e-4)
        assert line["confidence"] == pytest.approx(max(line["probabilities"]), abs=1e-6)
    code, out, _ = run(
        capsys, "predict", "--models-dir", str(store_dir), "--json", paths[0], str(missing)
    )
    assert code == 1
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["path"] == paths[0] and "digit" in first
    assert set(second) == {"path", "error"} and second["path"] == str(missing)
    assert "\n" not in second["error"] and second["error"].endswith(".")


def test_predict_plain(
    capsys: pytest.CaptureFixture[str], store_dir: Path, digit_pngs: list[Path]
) -> None:
    code, out, _ = run(
        capsys, "predict", "--models-dir", str(store_dir), "--show", str(digit_pngs[0])
    )
    assert code == 0
    assert out.startswith(f"{digit_pngs[0]}: ")


@pytest.mark.parametrize("ascii_flag", [False, True])
def test_weights_grid(
    capsys: pytest.CaptureFixture[str], store_dir: Path, ascii_flag: bool
) -> None:
    args = ["weights", "--models-dir", str(store_dir)] + (["--ascii"] if ascii_flag else [])
    code, out, _ = run(capsys, *args)
    assert code == 0
    header, *grid = out.splitlines()
    assert "tiny" in header and "32 filters of 6×6" in header
    assert len(grid) >= 3
    art = "".join(grid)
    if ascii_flag:
        assert "▀" not in art and "▄" not in art
    assert art.strip()


def test_models_lists_and_marks_broken_files(
    capsys: pytest.CaptureFixture[str], store_dir: Path
) -> None:
    (store_dir / "broken.safetensors").write_bytes(b"\x00" * 40)
    code, out, _ = run(capsys, "models", "--models-dir", str(store_dir))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"store: {store_dir}"
    (tiny,) = [line for line in lines if " tiny " in line]
    assert tiny.startswith("*") and "fast" in tiny and f"{ARCH_INFO['fast'].params:,}" in tiny
    (broken,) = [line for line in lines if "broken" in line]
    assert "unusable:" in broken
    code, out, _ = run(capsys, "models", "--models-dir", str(store_dir), "--json")
    errors = {json.loads(line)["name"]: json.loads(line)["error"] for line in out.splitlines()}
    assert errors["tiny"] is None and errors["broken"]


def test_models_activate_rename_delete(capsys: pytest.CaptureFixture[str], store_dir: Path) -> None:
    (store_dir / "second.safetensors").write_bytes((store_dir / "tiny.safetensors").read_bytes())
    s = ("--models-dir", str(store_dir))
    assert run(capsys, "models", *s, "activate", "second")[1] == "second is now the active model.\n"
    assert (store_dir / "active.txt").read_text().strip() == "second"
    assert run(capsys, "models", *s, "rename", "second", "two")[1] == "Renamed second to two.\n"
    assert (store_dir / "active.txt").read_text().strip() == "two"
    assert sorted(p.name for p in store_dir.glob("*.safetensors")) == [
        "tiny.safetensors", "two.safetensors",
    ]  # fmt: skip
    assert run(capsys, "models", *s, "delete", "two")[1] == "Deleted two.\n"
    assert [p.name for p in store_dir.glob("*.safetensors")] == ["tiny.safetensors"]
    code, out, _ = run(capsys, "models", *s)
    assert code == 0 and "two" not in out


@pytest.mark.parametrize(
    "argv",
    [[], ["train"], ["evaluate"], ["predict"], ["weights"], ["models"], ["models", "rename"],
     ["tui"]],
)  # fmt: skip
def test_help_of_every_command(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv, "--help")
    assert code == 0
    assert out.startswith(f"usage: mnist-tui{' ' if argv else ''}{' '.join(argv)}")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("mnist-tui ")


def test_options_before_the_command_count_as_much_as_after(
    capsys: pytest.CaptureFixture[str], store_dir: Path, digit_pngs: list[Path]
) -> None:
    """`mnist-tui --models-dir X predict …` used to fall back to the per-user store: the
    command's own unset copy of the option overwrote the one given first."""
    path = str(digit_pngs[0])
    before = run(capsys, "--models-dir", str(store_dir), "predict", "--json", path)
    after = run(capsys, "predict", "--models-dir", str(store_dir), "--json", path)
    assert before == after and before[0] == 0
    code, out, _ = run(capsys, "--models-dir", str(store_dir), "models")
    assert code == 0 and out.splitlines()[0] == f"store: {store_dir}"
    # A data set given first reaches the command too: tests/engine/test_items.py.


@pytest.mark.parametrize("place", ["before", "after"])
def test_every_models_action_takes_the_store_before_or_after_it(
    capsys: pytest.CaptureFixture[str], store_dir: Path, place: str
) -> None:
    """`mnist-tui models rename a b --models-dir D` was refused ("unrecognized arguments"),
    where `export` and `ensemble` took the option after the action."""
    (store_dir / "second.safetensors").write_bytes((store_dir / "tiny.safetensors").read_bytes())
    s = ["--models-dir", str(store_dir)]

    def models(*action: str) -> tuple[int, str, str]:
        return run(capsys, "models", *(s if place == "before" else []), *action,
                   *(s if place == "after" else []))  # fmt: skip

    assert models("list")[1].splitlines()[0] == f"store: {store_dir}"
    assert models("activate", "second")[1] == "second is now the active model.\n"
    assert models("rename", "second", "two")[1] == "Renamed second to two.\n"
    assert models("delete", "two")[1] == "Deleted two.\n"
    assert sorted(p.name for p in store_dir.glob("*.safetensors")) == ["tiny.safetensors"]


def test_a_store_made_under_a_group_umask_can_be_locked_by_the_whole_group(
    tmp_path: Path,
) -> None:
    """Teammates sharing a store each take its locks: made under umask 002, they are 0664
    (they were 0644, so a second user could neither train nor rename there)."""
    import os
    import stat

    from mnist_tui.engine.jobs import Runs
    from mnist_tui.engine.store import ModelStore

    root = tmp_path / "team-store"
    before = os.umask(0o002)
    try:
        with ModelStore(root).lock():
            pass
        with Runs(root).lock():
            pass
    finally:
        os.umask(before)
    for lock in (".lock", ".runs.lock"):
        assert stat.S_IMODE(os.stat(root / lock).st_mode) == 0o664, lock
