"""Ensembles: several models stored and used as one (train --ensemble, models ensemble)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_tui.cli import main
from mnist_tui.engine.ensemble import Ensemble
from mnist_tui.engine.store import ModelStore


def _store(root: Path) -> ModelStore:
    return ModelStore(root, shipped=Path(os.devnull) / "none")


@pytest.fixture(scope="module")
def ensemble_store(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A store made by `train --ensemble 2`: members ens-m1, ens-m2 and the ensemble ens."""
    root = tmp_path_factory.mktemp("ens")
    code = main([
        "train", "--ensemble", "2", "--name", "ens", "--epochs", "1", "--batch-size", "64",
        "--val-size", "200", "--threads", "1", "--seed", "3", "--no-download",
        "--data-dir", str(data_dir), "--models-dir", str(root),
    ])  # fmt: skip
    assert code == 0
    return root


def test_train_ensemble_saves_members_and_one_model_that_averages_them(
    ensemble_store: Path, data_dir: Path
) -> None:
    store = _store(ensemble_store)
    names = {i.name for i in store.list()}
    assert {"ens", "ens-m1", "ens-m2"} <= names
    info = store.info("ens")
    assert [m.name for m in info.members] == ["ens-m1", "ens-m2"]
    assert [m.seed for m in info.members] == [3, 4]  # seeds S, S+1
    assert info.arch_label == "fast ×2" and info.test_acc is not None
    assert info.calibration.calibrated
    # Its curves are the members' averaged, epoch by epoch (Compare and Models draw them).
    m1h, m2h = store.info("ens-m1").history, store.info("ens-m2").history
    assert [r["epoch"] for r in info.history] == [1]
    mean_loss = (m1h[0]["train_loss"] + m2h[0]["train_loss"]) / 2
    assert info.history[0]["train_loss"] == pytest.approx(mean_loss)
    # Its answer is the mean of the members' probabilities, image by image.
    ens = store.load("ens")
    m1, m2 = store.load("ens-m1"), store.load("ens-m2")
    assert isinstance(ens.model, Ensemble)
    x = torch.rand(5, 1, 28, 28)
    with torch.inference_mode():
        mean = (m1.model(x).softmax(1) + m2.model(x).softmax(1)) / 2
        assert torch.allclose(ens.model(x).softmax(1), mean, atol=1e-5)
    assert info.params == m1.info.params + m2.info.params


def test_every_cli_face_takes_an_ensemble(
    ensemble_store: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    common = ["--models-dir", str(ensemble_store), "--model", "ens", "--data-dir", str(data_dir)]
    assert main(["evaluate", "--json", "--no-download", *common]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert 0 <= ev["accuracy"] <= 1 and ev["ece"] is not None
    img = tmp_path / "seven.png"
    pixels = np.zeros((28, 28), np.uint8)
    pixels[6:22, 12:15] = 255
    Image.fromarray(pixels).save(img)
    assert main(["predict", "--json", str(img), *common]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert abs(sum(answer["probabilities"]) - 1) < 1e-3
    assert main(["weights", "--ascii", *common[:4]]) == 0
    assert "fast ×2, member 1" in capsys.readouterr().out
    assert main(["models", "--models-dir", str(ensemble_store)]) == 0
    assert "fast ×2" in capsys.readouterr().out


def test_models_ensemble_combines_finished_models_and_refuses_bad_sets(
    ensemble_store: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    root = tmp_path / "store"
    shutil.copytree(ensemble_store, root)
    where = ["--models-dir", str(root), "--data-dir", str(data_dir), "--no-download"]
    assert main(["models", "ensemble", "pair", "ens-m2", "ens-m1", *where]) == 0
    assert "Saved pair: 2-member ensemble" in capsys.readouterr().out
    assert [m.name for m in _store(root).info("pair").members] == ["ens-m2", "ens-m1"]
    # Each refusal comes before any data is read: a folder without MNIST changes nothing.
    where = ["--models-dir", str(root), "--data-dir", str(tmp_path / "no-data"), "--no-download"]
    for args, words in (
        (["pair2", "ens-m1"], "needs 2 to 16"),
        (["pair2", "ens"], "name more models"),  # an ensemble alone: only a copy of it
        (["pair2", "ens-m1", "ens-m1"], "once"),
        (["pair3", "ens", "ens-m1"], "member twice"),
        (["pair", "ens-m1", "ens-m2"], "already exists"),
    ):
        assert main(["models", "ensemble", *args, *where]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err
        assert err.count("\n") == 1  # one sentence


def test_an_ensemble_given_as_a_member_adds_its_members(
    ensemble_store: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Growing a shipped ensemble by more seeds: `models ensemble big ens extra` holds ens's two
    networks and the extra one, flat, and answers with the mean of the three."""
    import shutil

    root = tmp_path / "store"
    shutil.copytree(ensemble_store, root)
    where = ["--models-dir", str(root), "--data-dir", str(data_dir), "--no-download"]
    assert main([
        "train", "--name", "extra", "--epochs", "1", "--batch-size", "64", "--val-size", "200",
        "--threads", "1", "--seed", "9", *where,
    ]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["models", "ensemble", "big", "ens", "extra", *where]) == 0
    assert "Saved big: 3-member ensemble" in capsys.readouterr().out
    store = _store(root)
    info = store.info("big")
    assert [m.name for m in info.members] == ["ens-m1", "ens-m2", "extra"]
    assert info.arch_label == "fast ×3"
    assert info.calibration.fitted_on.count("mean of the members") == 1  # not nested
    big = store.load("big").model
    parts = [store.load(n).model for n in ("ens-m1", "ens-m2", "extra")]
    x = torch.rand(4, 1, 28, 28)
    with torch.inference_mode():
        mean = sum(p(x).softmax(1) for p in parts) / 3
        assert torch.allclose(big(x).softmax(1), mean, atol=1e-5)


def test_an_ensemble_walks_one_member_at_a_time_in_activations(ensemble_store: Path) -> None:
    from mnist_tui.engine.inspect import activations

    ens = _store(ensemble_store).load("ens")
    m2 = _store(ensemble_store).load("ens-m2")
    pixels = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    info = ens.info
    second = activations(ens.model, pixels, info.mean, info.std, info.members[1].temperature, 1)
    alone = activations(m2.model, pixels, info.mean, info.std, m2.temperature)
    assert [layer.name for layer in second] == [layer.name for layer in alone]
    assert np.allclose(second[-1].values, alone[-1].values, atol=1e-5)


def test_a_damaged_ensemble_header_is_one_sentence(ensemble_store: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    path = ensemble_store / "ens.safetensors"
    from mnist_tui.engine.store import META_KEY, read_header

    meta = json.loads(read_header(path)["__metadata__"][META_KEY])
    meta["ensemble"] = meta["ensemble"][:1]  # one member: not an ensemble
    bad = tmp_path / "bad.safetensors"
    save_file(load_file(str(path)), str(bad), metadata={META_KEY: json.dumps(meta)})
    info = _store(tmp_path).list()[0]
    assert info.error and "malformed metadata" in info.error
