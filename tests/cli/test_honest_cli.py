"""The CLI's honest answers: ECE in evaluate, calibration in models, refusals and --why in
predict."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from datagen import synthetic_digits
from PIL import Image

from mnist_tui.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_evaluate_reports_ece_and_a_reliability_diagram(
    capsys: pytest.CaptureFixture[str], data_dir: Path, store_dir: Path
) -> None:
    common = ("--data-dir", str(data_dir), "--models-dir", str(store_dir), "--no-download")
    code, out, err = run(capsys, "evaluate", *common, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert 0 <= result["ece"] <= 1 and 0 <= result["ece_uncalibrated"] <= 1
    assert result["temperature"] != 1.0  # the tiny model was calibrated on its validation split
    rel = result["reliability"]
    assert rel["bins"] == 15 and sum(rel["counts"]) == result["count"] == 300
    code, out, err = run(capsys, "evaluate", *common)
    assert code == 0, err
    assert "calibration: T=" in out and "ECE" in out
    assert "reliability: ECE" in out and "|" in out  # ASCII when not a terminal


def test_models_says_which_are_calibrated(
    capsys: pytest.CaptureFixture[str], store_dir: Path
) -> None:
    from test_calibrate import _strip_calibration

    code, out, _ = run(capsys, "models", "--models-dir", str(store_dir))
    (line,) = [x for x in out.splitlines() if " tiny " in x]
    assert " T=" in line and "uncalibrated" not in line
    _strip_calibration(store_dir / "tiny.safetensors")
    code, out, _ = run(capsys, "models", "--models-dir", str(store_dir))
    (line,) = [x for x in out.splitlines() if " tiny " in x]
    assert line.rstrip().endswith("uncalibrated (T=1)")
    code, out, _ = run(capsys, "models", "--models-dir", str(store_dir), "--json")
    (row,) = [json.loads(x) for x in out.splitlines() if '"tiny"' in x]
    assert row["calibration"] == {"temperature": 1.0, "fitted_on": ""}


def test_predict_show_why_draws_the_saliency_map(
    capsys: pytest.CaptureFixture[str], store_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "d.png"
    Image.fromarray(synthetic_digits(1, seed=4)[0][0]).resize((112, 112)).save(path)
    code, out, err = run(capsys, "predict", "--models-dir", str(store_dir), "--show", str(path))
    assert code == 0, err
    assert "why " not in out and "for it" not in out
    code, out, err = run(
        capsys, "predict", "--models-dir", str(store_dir), "--show", "--why", str(path)
    )
    assert code == 0, err
    assert "why " in out and "# for it, = against" in out and "#" in out


def test_predict_refuses_a_letter_with_null_digit_and_a_guess(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mnist_tui.engine import nondigits

    monkeypatch.delenv("MNIST_TUI_DETECTOR", raising=False)
    letter = tmp_path / "letter.png"
    nondigits.generate("hand letter", nondigits.TRAIN_SEEDS + 1).save(letter)
    code, out, err = run(capsys, "predict", "--model", "default", "--json", str(letter))
    assert code == 0, err
    result = json.loads(out)
    assert result["digit"] is None and result["confidence"] is None
    assert result["guess"]["digit"] in range(10) and 0 < result["guess"]["confidence"] <= 1
    assert result["calibrated"] is True
    code, out, err = run(capsys, "predict", "--model", "default", str(letter))
    assert "not a digit (looks most like" in out and "guess)" in out
