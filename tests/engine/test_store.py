"""The model store: round trips, management, and every broken or hostile checkpoint."""

from __future__ import annotations

import errno
import json
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mnist_tui.engine import store as store_mod
from mnist_tui.engine.archs import ARCH_INFO
from mnist_tui.engine.networks import build_model, count_params
from mnist_tui.engine.store import (
    FORMAT_VERSION,
    META_KEY,
    ModelStore,
    build_metadata,
    validate_name,
)
from mnist_tui.errors import CheckpointError, StoreError

NO_SHIPPED = Path(os.devnull) / "none"


def assert_one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith("."), message
    assert "Traceback" not in message


def _meta(arch: str = "fast", **changes: object) -> dict:
    meta = build_metadata(
        arch=arch, dataset="mnist", params=123, config={"arch": arch, "epochs": 2},
        history=[{"epoch": 1, "val_acc": 0.5}], epochs_done=2, epochs=2, complete=True,
        mean=0.1307, std=0.3081, val_acc=0.5, test_acc=0.6, test_loss=1.25,
    )  # fmt: skip
    meta.update(changes)
    return meta


def _write_safetensors(path: Path, tensors: dict[str, torch.Tensor], meta: object) -> None:
    from safetensors.torch import save_file

    header = {} if meta is None else {META_KEY: meta if isinstance(meta, str) else json.dumps(meta)}
    save_file(tensors, str(path), metadata=header)


def _assert_rest_of_store_works(store: ModelStore) -> None:
    infos = {i.name: i for i in store.list()}
    assert infos["tiny"].error is None
    loaded = store.load("tiny")
    assert loaded.model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


# --------------------------------------------------------------------------- round trip


def test_trained_model_keeps_its_metadata(store: ModelStore) -> None:
    (info,) = store.list()
    assert info.name == "tiny" and info.error is None
    assert info.arch == "fast" and info.dataset == "mnist"
    assert info.params == ARCH_INFO["fast"].params
    assert info.config["epochs"] == 2 and info.config["batch_size"] == 64
    assert [row["epoch"] for row in info.history] == [1, 2]
    assert info.epochs_done == info.epochs == 2 and info.complete
    assert 0.0 <= info.val_acc <= 1.0 and 0.0 <= info.test_acc <= 1.0
    assert (info.mean, info.std) == (0.1307, 0.3081)
    assert info.created.startswith("20") and "T" in info.created
    assert set(info.extra["versions"]) == {"mnist_tui", "torch"}
    assert len(info.extra["per_class"]) == 10
    assert store.active_name() == "tiny"
    assert store.default_model() == "tiny"


def test_save_load_round_trip_keeps_weights(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    torch.manual_seed(1)
    model = build_model("classic")
    meta = _meta("classic", params=count_params(model), custom="kept")
    info = store.save("round-trip", model, meta)
    assert info.error is None and info.test_acc == 0.6 and info.extra["custom"] == "kept"
    loaded = store.load("round-trip")
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value), key
    # by path, too
    assert store.load(str(tmp_path / "round-trip.safetensors")).info.name == "round-trip"
    assert not loaded.model.training


def test_listing_does_not_import_torch(store_dir: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from mnist_tui.engine.store import ModelStore;"
        f"s = ModelStore({str(store_dir)!r}, shipped=Path('/nonexistent'));"
        "infos = s.list(); s.info('tiny');"
        "print(len(infos), infos[0].name, 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["1", "tiny", "False"]


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    model = build_model("fast")
    store.save("a", model, _meta(), resume_state={"epochs_done": 1, "x": torch.ones(3)})
    store.save("a", model, _meta())  # finishing drops the resume state
    store.set_active("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.safetensors", "active.txt"]


def test_resume_state_round_trip(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, shipped=NO_SHIPPED)
    state = {"epochs_done": 1, "model": {"w": torch.arange(4.0)}, "history": [{"epoch": 1}],
             "optimizer": {}, "generator": torch.zeros(2), "torch_rng": torch.zeros(2)}  # fmt: skip
    store.save("part", build_model("fast"), _meta(complete=False, epochs_done=1, epochs=3), state)
    info = store.info("part")
    assert not info.complete and info.resumable
    back = store.load_resume_state("part")
    assert back["epochs_done"] == 1 and torch.equal(back["model"]["w"], torch.arange(4.0))


# --------------------------------------------------------------------------- management


def test_rename_delete_and_active(store: ModelStore) -> None:
    store.save("other", build_model("fast"), _meta())
    store.set_active("tiny")
    store.rename("tiny", "renamed")
    assert store.active_name() == "renamed"  # the active mark follows the rename
    assert {i.name for i in store.list()} == {"renamed", "other"}
    assert store.load("renamed").info.arch == "fast"
    with pytest.raises(StoreError) as err:
        store.rename("renamed", "other")
    assert_one_sentence(str(err.value))
    assert "already exists" in str(err.value)
    store.delete("renamed")
    assert store.active_name() is None
    assert not (store.root / "active.txt").exists()  # a new "renamed" would not become active
    assert [i.name for i in store.list()] == ["other"]
    with pytest.raises(CheckpointError) as err:
        store.load("renamed")
    assert_one_sentence(str(err.value))
    assert "other" in str(err.value)  # it says what the store does have
    with pytest.raises(CheckpointError):
        store.set_active("renamed")


@pytest.mark.parametrize(
    "name", ["", ".hidden", "a/b", "../escape", "x" * 65, "sp ace", "m.safetensors", "n.resume.pt"]
)
def test_invalid_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(StoreError) as err:
        validate_name(name)
    assert_one_sentence(str(err.value))
    with pytest.raises(StoreError):
        ModelStore(tmp_path, shipped=NO_SHIPPED).save(name, build_model("fast"), _meta())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["a", "fast-20260101-1200", "my_model.v2", "X" * 64])
def test_valid_names_are_accepted(name: str) -> None:
    assert validate_name(name) == name


def test_shipped_default_is_read_only(tmp_path: Path, store_dir: Path) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "default.safetensors").write_bytes((store_dir / "tiny.safetensors").read_bytes())
    store = ModelStore(tmp_path / "user", shipped=shipped)
    assert store.default_model() == "default"
    (info,) = store.list()
    assert info.shipped
    with pytest.raises(StoreError) as err:
        store.delete("default")
    assert_one_sentence(str(err.value))
    assert (shipped / "default.safetensors").is_file()


# --------------------------------------------------------------------------- hostile files


class _Evil:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (f"touch {self.marker}",))


def _evil_pickle(path: Path, marker: Path) -> Path:
    torch.save({"model": _Evil(marker)}, path)
    return path


def test_crafted_pickle_really_is_hostile(tmp_path: Path) -> None:
    # the control: loading the file the unsafe way does run its code
    marker = tmp_path / "pwned"
    path = _evil_pickle(tmp_path / "evil.pt", marker)
    torch.load(path, weights_only=False)
    assert marker.exists()
    marker.unlink()
    with open(tmp_path / "evil.pkl", "wb") as fh:
        pickle.dump(_Evil(marker), fh)


def test_pickle_checkpoint_is_refused(store: ModelStore, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = _evil_pickle(tmp_path / "evil.pt", marker)
    for attempt in (
        lambda: store.load(evil),
        lambda: store.load(str(evil)),
        lambda: store.info(evil),
    ):
        with pytest.raises(CheckpointError) as err:
            attempt()
        assert_one_sentence(str(err.value))
        assert "pickle" in str(err.value)
    assert not marker.exists()
    _assert_rest_of_store_works(store)


def test_hostile_resume_state_is_refused(store: ModelStore, tmp_path: Path) -> None:
    store.save("part", build_model("fast"), _meta(complete=False, epochs_done=1, epochs=3), {})
    marker = tmp_path / "pwned"
    _evil_pickle(store.root / "part.resume.pt", marker)
    with pytest.raises(CheckpointError) as err:
        store.load_resume_state("part")
    assert_one_sentence(str(err.value))
    assert not marker.exists()
    from mnist_tui.engine.config import TrainConfig
    from mnist_tui.engine.runs import prepare

    with pytest.raises(CheckpointError):
        prepare(TrainConfig(), store, None, "part")
    assert not marker.exists()
    _assert_rest_of_store_works(store)


def _fast_weights() -> dict[str, torch.Tensor]:
    return {k: v.contiguous() for k, v in build_model("fast").state_dict().items()}


def _broken_files(tmp_path: Path, good: Path) -> dict[str, tuple[Path, str]]:
    """name -> (a broken checkpoint in the store, a word its error must contain)."""
    cases: dict[str, tuple[Path, str]] = {}
    blob = good.read_bytes()
    cases["truncated"] = (tmp_path / "truncated.safetensors", "truncated")
    cases["truncated"][0].write_bytes(blob[: len(blob) // 2])
    cases["header-only"] = (tmp_path / "headonly.safetensors", "truncated")
    (head_len,) = struct.unpack("<Q", blob[:8])
    cases["header-only"][0].write_bytes(blob[: 8 + head_len])
    cases["empty"] = (tmp_path / "empty.safetensors", "empty")
    cases["empty"][0].write_bytes(b"")
    cases["random"] = (tmp_path / "random.safetensors", "not a safetensors")
    cases["random"][0].write_bytes(os.urandom(5000))
    cases["json-garbage"] = (tmp_path / "garbage.safetensors", "not a safetensors")
    cases["json-garbage"][0].write_bytes(struct.pack("<Q", 6) + b"{nope}")

    classic = {k: v.contiguous() for k, v in build_model("classic").state_dict().items()}
    cases["other-arch"] = (tmp_path / "otherarch.safetensors", "do not fit")
    _write_safetensors(cases["other-arch"][0], classic, _meta("fast"))
    shrunk = dict(_fast_weights())
    shrunk["1.weight"] = torch.zeros(8, 1, 5, 5)  # same names, one wrong shape
    cases["other-shape"] = (tmp_path / "othershape.safetensors", "do not fit")
    _write_safetensors(cases["other-shape"][0], shrunk, _meta("fast"))

    cases["no-metadata"] = (tmp_path / "nometa.safetensors", "no mnist-tui metadata")
    _write_safetensors(cases["no-metadata"][0], _fast_weights(), None)
    cases["bad-json"] = (tmp_path / "badjson.safetensors", "malformed metadata")
    _write_safetensors(cases["bad-json"][0], _fast_weights(), '{"arch": "fast",')
    cases["json-list"] = (tmp_path / "jsonlist.safetensors", "malformed metadata")
    _write_safetensors(cases["json-list"][0], _fast_weights(), "[1, 2]")
    cases["bad-field"] = (tmp_path / "badfield.safetensors", "malformed metadata")
    _write_safetensors(cases["bad-field"][0], _fast_weights(), _meta(normalisation=[1, 2]))
    cases["no-version"] = (tmp_path / "noversion.safetensors", "malformed metadata")
    _write_safetensors(cases["no-version"][0], _fast_weights(), _meta(format_version=None))
    cases["newer"] = (tmp_path / "newer.safetensors", "newer mnist-tui")
    _write_safetensors(cases["newer"][0], _fast_weights(), _meta(format_version=FORMAT_VERSION + 1))
    cases["unknown-arch"] = (tmp_path / "unknownarch.safetensors", "unknown architecture")
    _write_safetensors(cases["unknown-arch"][0], _fast_weights(), _meta("transformer"))
    return cases


def test_broken_checkpoints_are_refused_and_the_rest_still_works(store: ModelStore) -> None:
    cases = _broken_files(store.root, store.root / "tiny.safetensors")
    listed = {i.name: i for i in store.list()}
    for case, (path, word) in cases.items():
        name = path.name[: -len(".safetensors")]
        with pytest.raises(CheckpointError) as err:
            store.load(name)
        message = str(err.value)
        assert_one_sentence(message)
        assert path.name in message, case
        assert word in message, (case, message)
        with pytest.raises(CheckpointError):
            store.load(path)  # by path, too
        info = listed[name]
        if word == "do not fit":  # the header is fine; only loading finds out
            assert info.error is None
        else:
            assert info.error and word in info.error, case
    _assert_rest_of_store_works(store)
    assert store.default_model() == "tiny"


def test_a_broken_file_named_outside_the_store_is_not_ours_to_delete(
    store: ModelStore, tmp_path: Path
) -> None:
    """`--model ~/Downloads/x.safetensors`: the sentence names the whole path and never tells the
    user to delete, retrain or move a file that is not the store's; the store's own files keep
    those remedies (the test above)."""
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    cases = _broken_files(elsewhere, store.root / "tiny.safetensors")
    before = {p.name: p.read_bytes() for p in elsewhere.iterdir()}
    for case, (path, word) in cases.items():
        with pytest.raises(CheckpointError) as err:
            store.load(path)
        message = str(err.value)
        assert_one_sentence(message)
        assert word in message, (case, message)
        assert str(path) in message, (case, message)
        for remedy in ("delete", "train it again", "re-save", "move it out"):
            assert remedy not in message, (case, message)
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before  # nothing touched
    _assert_rest_of_store_works(store)


# --------------------------------------------------------------------------- failing disks


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EIO])
@pytest.mark.parametrize("where", ["os.replace", "_write_temp"])
def test_failed_save_keeps_the_old_model(
    store: ModelStore, monkeypatch: pytest.MonkeyPatch, code: int, where: str
) -> None:
    before = {p.name: p.read_bytes() for p in store.root.iterdir()}

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    if where == "os.replace":
        monkeypatch.setattr(store_mod.os, "replace", fail)
    else:
        monkeypatch.setattr(store_mod, "_write_temp", fail)
    with pytest.raises(StoreError) as err:
        store.save("tiny", build_model("fast"), _meta(), resume_state={"epochs_done": 1})
    message = str(err.value)
    assert_one_sentence(message)
    assert {errno.ENOSPC: "disk is full", errno.EROFS: "not writable"}.get(code, "") in message
    assert "nothing already saved was changed" in message
    monkeypatch.undo()
    after = {p.name: p.read_bytes() for p in store.root.iterdir()}
    assert after == before  # byte-identical, and no temporary files left
    _assert_rest_of_store_works(store)


@pytest.fixture
def small_disk(tmp_path: Path):  # noqa: ANN201
    """A 160 kB tmpfs (room for one tiny model, not two); skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_real_full_disk_keeps_the_old_model(small_disk: Path, store_dir: Path) -> None:
    store = ModelStore(small_disk / "models", shipped=NO_SHIPPED)
    store.root.mkdir()
    (store.root / "tiny.safetensors").write_bytes((store_dir / "tiny.safetensors").read_bytes())
    before = (store.root / "tiny.safetensors").read_bytes()
    with pytest.raises(StoreError) as err:
        store.save("tiny", build_model("fast"), _meta())
    assert_one_sentence(str(err.value))
    assert "disk is full" in str(err.value)
    assert (store.root / "tiny.safetensors").read_bytes() == before
    assert [p.name for p in store.root.iterdir()] == ["tiny.safetensors"]
    _assert_rest_of_store_works(store)
    fresh = ModelStore(small_disk / "fresh", shipped=NO_SHIPPED)
    fresh.root.mkdir()  # a store that has never been locked: no lock file to fall back on
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for where in (store, fresh):
        with pytest.raises(StoreError) as err:
            where.save("other", build_model("fast"), _meta())
        assert "not writable" in str(err.value) and "--models-dir" in str(err.value)
        with pytest.raises(StoreError) as err:  # a run's start: its claim takes the lock
            where.claim("other")
        assert "not writable" in str(err.value) and "--models-dir" in str(err.value)
    with pytest.raises(StoreError):
        store.set_active("tiny")
    _assert_rest_of_store_works(store)


def test_a_fashion_session_gets_a_fashion_model_never_a_digit_one(store_dir: Path) -> None:
    import json as _json

    from safetensors.torch import load_file, save_file

    from mnist_tui.engine.store import META_KEY, ModelStore, read_header

    shipped = store_dir.parent / "shipped"
    shipped.mkdir()
    src = store_dir / "tiny.safetensors"
    meta = _json.loads(read_header(src)["__metadata__"][META_KEY])
    save_file(load_file(str(src)), str(shipped / "default.safetensors"),
              metadata={META_KEY: _json.dumps(meta)})  # fmt: skip
    fashion = {**meta, "dataset": "fashion"}
    save_file(load_file(str(src)), str(shipped / "default-fashion.safetensors"),
              metadata={META_KEY: _json.dumps(fashion)})  # fmt: skip
    store = ModelStore(store_dir, shipped=shipped)
    assert store.default_model() == "tiny"  # the active model, as before
    assert store.default_model("mnist") == "tiny"
    assert store.default_model("fashion") == "default-fashion"  # tiny is a digit model
    assert store.info("default-fashion").shipped
    store.set_active(None)
    assert store.default_model() == "default"
    (shipped / "default-fashion.safetensors").unlink()
    with pytest.raises(CheckpointError, match="No fashion model is available"):
        store.default_model("fashion")


def test_both_shipped_defaults_are_listed_and_usable(tmp_path: Path) -> None:
    """A fresh install: digits and clothes each have a calibrated pre-trained model."""
    from mnist_tui.engine.store import ModelStore

    store = ModelStore(tmp_path / "empty")
    infos = {i.name: i for i in store.list()}
    digits = infos["default"]
    # Five seeds of the `best` recipe, as `mnist-tui train --arch best --ensemble 5` trains them.
    assert digits.dataset == "mnist" and [m.seed for m in digits.members] == [0, 1, 2, 3, 4]
    assert {m.arch for m in digits.members} == {"best"} and digits.calibration.calibrated
    fashion = infos["default-fashion"]
    assert fashion.shipped and fashion.dataset == "fashion" and fashion.complete
    assert fashion.calibration.calibrated and fashion.test_acc and fashion.test_acc > 0.9
    assert fashion.config["arch"] == "wide" and fashion.config["dataset"] == "fashion"
    assert store.default_model("fashion") == "default-fashion"
    assert store.default_model() == "default"
    loaded = store.load("default-fashion")
    assert loaded.info.name == "default-fashion"
    # Clothes were learned with flips, so the Fashion default answers from the picture and
    # its mirror image (engine/views.py); digits never are.
    from mnist_tui.engine.views import Mirrored

    assert isinstance(loaded.classifier, Mirrored) and not digits.mirrored


@pytest.mark.parametrize(
    ("umask", "mode"), [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)], ids=["002", "022", "077"]
)
def test_a_saved_model_has_the_mode_the_umask_gives_new_files(
    store: ModelStore, umask: int, mode: int
) -> None:
    """A team sharing a store (umask 002, a group folder) can load each other's models; a
    private umask keeps them private. mkstemp alone made every model 0600."""
    import stat

    from mnist_tui.engine.store import read_header

    loaded = store.load("tiny")
    meta = json.loads(read_header(store.path_for("tiny"))["__metadata__"][META_KEY])
    before = os.umask(umask)
    try:
        store.save("shared", loaded.model, meta)
        store.rename("shared", "shared-renamed")
    finally:
        os.umask(before)
    assert stat.S_IMODE(os.stat(store.path_for("shared-renamed")).st_mode) == mode
