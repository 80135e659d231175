"""Calibration: the temperature fit, ECE, the store's calibration metadata, old checkpoints."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from procs import last_json_line

from mnist_tui.engine.calibrate import (
    Calibration,
    calibration_for_run,
    expected_calibration_error,
    fit_temperature,
    reliability,
    softmax,
)


def _sampled(n: int, temperature: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits, and labels drawn from softmax(logits / temperature): calibrated at that T."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=(n, 10))
    probs = softmax(logits, temperature)
    labels = np.array([rng.choice(10, p=p) for p in probs])
    return logits, labels


def test_fit_recovers_the_temperature_that_made_the_labels() -> None:
    logits, labels = _sampled(4000, 0.5)
    assert fit_temperature(logits, labels) == pytest.approx(0.5, rel=0.08)


def test_temperature_scaling_cuts_ece_and_keeps_every_answer() -> None:
    logits, labels = _sampled(4000, 0.5, seed=1)
    before = expected_calibration_error(softmax(logits), labels)
    t = fit_temperature(logits, labels)
    after = expected_calibration_error(softmax(logits, t), labels)
    assert before > 0.05 and after < 0.03
    assert (softmax(logits, t).argmax(1) == logits.argmax(1)).all()


def test_reliability_bins_add_up_and_ece_is_the_weighted_gap() -> None:
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]])
    labels = np.array([0, 0, 0, 1])
    rel = reliability(probs, labels, bins=10)
    assert sum(rel.counts) == 4
    # top bin: conf 0.95, acc 1.0 (gap 0.05); the 0.5-0.6 bin: conf 0.55, acc 0.5 (gap 0.05)
    assert rel.ece == pytest.approx(0.05)
    assert json.dumps(rel.to_dict())  # empty bins are null, not NaN


def test_a_run_without_validation_takes_its_recipe_temperature_only_for_that_recipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mnist_tui.engine import calibrate

    monkeypatch.setitem(
        calibrate.RECIPE_TEMPERATURES, "best",
        {"temperature": 0.5, "fitted_on": "recipe run", "settings": {"label_smoothing": 0.1}},
    )  # fmt: skip
    assert calibration_for_run({"arch": "best", "label_smoothing": 0.1}, None, None) == (
        Calibration(0.5, "recipe run")
    )
    assert not calibration_for_run({"arch": "best", "label_smoothing": 0.0}, None, None).calibrated
    assert not calibration_for_run({"arch": "fast"}, None, None).calibrated


def test_trained_model_is_calibrated_on_its_validation_split(store) -> None:  # noqa: ANN001
    info = store.info("tiny")
    assert info.calibration.calibrated
    assert info.calibration.fitted_on == "validation split, 200 images"
    assert 0.05 < info.calibration.temperature < 20


def _strip_calibration(path: Path) -> None:
    """Rewrite a checkpoint's header as an older mnist-tui wrote it: no calibration."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["mnist_tui"])
    meta.pop("calibration", None)
    header["__metadata__"]["mnist_tui"] = json.dumps(meta)
    body = json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    path.write_bytes(struct.pack("<Q", len(body)) + body + raw[8 + n :])


def test_old_checkpoint_without_calibration_loads_at_temperature_one(store) -> None:  # noqa: ANN001
    from datagen import synthetic_digits

    from mnist_tui.engine.predict import predict_image

    _strip_calibration(store.path_for("tiny"))
    loaded = store.load("tiny")
    assert loaded.temperature == 1.0 and not loaded.info.calibration.calibrated
    assert loaded.info.calibration.describe() == "uncalibrated (T=1)"
    pred = predict_image(loaded, synthetic_digits(1, seed=3)[0][0])
    assert pred.found and not pred.calibrated and pred.to_dict()["temperature"] == 1.0


def test_a_validation_split_without_mistakes_does_not_push_every_answer_to_100_percent() -> None:
    from mnist_tui.engine.calibrate import FIT_T_MIN

    logits = np.eye(10)[np.arange(200) % 10] * 5.0  # every answer right, by a margin
    labels = np.arange(200) % 10
    t = fit_temperature(logits, labels)
    assert t == pytest.approx(FIT_T_MIN, rel=0.01)
    assert softmax(logits, t).max() < 1.0


def test_the_temperature_search_finds_scipys_minimum() -> None:
    from scipy.optimize import minimize_scalar

    from mnist_tui.engine.calibrate import FIT_T_MAX, FIT_T_MIN, _nll, fit_temperature

    rng = np.random.default_rng(1)
    for scale in (0.5, 3.0, 9.0):
        z = rng.normal(size=(2000, 10)) * scale
        y = np.where(rng.random(2000) < 0.85, z.argmax(1), rng.integers(0, 10, 2000))
        ref = minimize_scalar(
            lambda v, z=z, y=y: _nll(z, y, float(np.exp(v))), method="bounded",
            bounds=(np.log(FIT_T_MIN), np.log(FIT_T_MAX)), options={"xatol": 1e-6},
        )  # fmt: skip
        assert fit_temperature(z, y) == pytest.approx(float(np.exp(ref.x)), rel=1e-4)


def test_a_whole_run_never_imports_scipy_optimize(tmp_path: Path, data_dir: Path) -> None:
    """scipy.optimize costs 0.5 s of a few-second `fast` run; calibration does without it."""

    code = (
        "import json, sys\n"
        "from mnist_tui.engine.config import TrainConfig\n"
        "from mnist_tui.engine.runs import run_training\n"
        "from mnist_tui.engine.store import ModelStore\n"
        f"store = ModelStore({str(tmp_path / 'm')!r})\n"
        "cfg = TrainConfig(arch='fast', epochs=1, batch_size=64, val_size=200, threads=1)\n"
        f"out = run_training(cfg, store=store, data_dir={str(data_dir)!r}, download=False)\n"
        "assert out.info.calibration.calibrated\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('scipy.optimize',"
        " 'torch._dynamo')))))\n"
    )
    assert last_json_line(code) == []
