"""`models export` and `compare` on the command line (in-process: fast)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mnist_tui.cli import main


def test_models_export_csv_and_json(
    store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "export", "tiny", "--csv", "--models-dir", str(store_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch,train_loss,train_acc,val_loss,val_acc,lr,elapsed_s")
    assert [ln.split(",")[0] for ln in lines[1:]] == ["1", "2"]
    out = tmp_path / "tiny.json"
    assert main(["models", "export", "tiny", "--json", "-o", str(out),
                 "--models-dir", str(store_dir)]) == 0  # fmt: skip
    assert "Wrote 2 epochs of tiny" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert [r["epoch"] for r in doc["history"]] == [1, 2]
    assert doc["status"] == "finished" and doc["best_epoch"] in (1, 2)


def test_compare_marks_what_differs(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(store_dir / "tiny.safetensors", store_dir / "twin.safetensors")
    assert main(["compare", "tiny", "twin", "--models-dir", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "best epoch" in out and "test acc" in out and "train time" in out
    assert "* differs" not in out  # a copy: nothing differs
    assert main(["compare", "tiny", "--models-dir", str(store_dir)]) == 2
    assert "Compare needs 2 to 8" in capsys.readouterr().err
