"""Property test: generated malformed checkpoint headers never produce an internal error. Each is
"not usable" (one sentence naming the file) for that file only; every good model still lists
and loads."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_tui.engine.store import META_KEY, ModelStore
from mnist_tui.errors import MnistTuiError

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
# Literal text a careless or hostile writer puts where a number belongs.
odd_numbers = st.sampled_from(
    ["Infinity", "-Infinity", "NaN", "1e999", "-1e999", "1" * 5000, "0.0", "-1", "2e308"]
)


def _good_header(store_dir: Path) -> tuple[dict, dict, bytes]:
    blob = (store_dir / "tiny.safetensors").read_bytes()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + length])
    meta = json.loads(header["__metadata__"][META_KEY])
    return header, meta, blob[8 + length :]


@st.composite
def malformed_files(draw: st.DrawFn, header: dict, meta: dict, body: bytes) -> bytes:
    header = json.loads(json.dumps(header))
    meta = json.loads(json.dumps(meta))
    kind = draw(st.sampled_from(["meta-field", "norm", "tensor", "header-key", "text", "length"]))
    placeholder = '"@@ODD@@"'
    if kind == "meta-field":  # any metadata field gets any JSON value (or an odd number)
        key = draw(st.sampled_from([*meta, "history", "config", "extra"]))
        meta[key] = draw(st.one_of(json_values, st.just("@@ODD@@")))
    elif kind == "norm":
        odd = st.one_of(json_values, st.just("@@ODD@@"))
        meta["normalisation"] = {"mean": draw(odd), "std": draw(odd)}
    elif kind == "tensor":  # a tensor entry's dtype, shape or offsets
        name = draw(st.sampled_from([k for k in header if k != "__metadata__"]))
        field = draw(st.sampled_from(["dtype", "shape", "data_offsets"]))
        header[name][field] = draw(
            st.one_of(json_values, st.just("@@ODD@@"),
                      st.lists(st.one_of(st.integers(-5, 2**66), st.just("@@ODD@@")), max_size=3))
        )  # fmt: skip
    elif kind == "header-key":
        header[draw(st.text(max_size=5))] = draw(json_values)
    header["__metadata__"] = {META_KEY: json.dumps(meta).replace(placeholder, draw(odd_numbers))}
    text = json.dumps(header).replace(placeholder, draw(odd_numbers))
    text = text.replace(json.dumps(placeholder)[1:-1], draw(odd_numbers))
    if kind == "text":  # cut, splice or nest the JSON text itself
        depth = draw(st.sampled_from([0, 40, 5000]))
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "[" * depth + draw(st.text(max_size=5)) + "]" * depth + text[at:]
    raw = text.encode("utf-8", "surrogatepass")
    length = len(raw)
    if kind == "length":
        length = draw(st.one_of(st.integers(0, 2**64 - 1), st.integers(0, len(raw) + 10)))
    return (
        struct.pack("<Q", length)
        + raw
        + body[: draw(st.integers(0, len(body)))] * (1 if draw(st.booleans()) else 0)
        + (body if kind != "length" else b"")
    )


@pytest.fixture(scope="module")
def good(_trained_store: Path) -> tuple[dict, dict, bytes]:
    return _good_header(_trained_store)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_malformed_checkpoint_headers_are_only_ever_a_user_error(
    data: st.DataObject,
    good: tuple[dict, dict, bytes],
    _trained_store: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("store")
    (root / "odd.safetensors").write_bytes(data.draw(malformed_files(*good)))
    store = ModelStore(root, shipped=_trained_store)  # "tiny" is the good model beside it
    infos = {i.name: i for i in store.list()}
    assert infos["tiny"].error is None
    odd = infos["odd"]
    if odd.error:
        assert "\n" not in odd.error and odd.error.endswith(".") and "odd.safetensors" in odd.error
    try:
        loaded = store.load("odd")
    except MnistTuiError as exc:
        message = str(exc)
        assert "\n" not in message and message.endswith(".") and "odd" in message, message
    else:  # a change the loader can live with: then it really is usable
        assert loaded.info.error is None and loaded.info.std > 0
    assert store.default_model() in {"tiny", "odd"}
