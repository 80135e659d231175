"""A short soak (benchmarks/soak.py) on the synthetic data set: resize and switch screens while a
real child run trains; the app must not crash, the model must be saved, memory must stay flat.

Slow (about a minute), not in the default run: ``pytest -m slow tests/tui/test_soak.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def _soak_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("mnist_tui_soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_short_soak_passes(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    soak = _soak_module()
    argv = ["--data-dir", str(data_dir), "--epochs", "15", "--val-size", "200"]
    argv += ["--interval", "0.2", "--warmup", "0", "--timeout", "300"]
    code = soak.main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS" in out
    assert "Saved " in out
