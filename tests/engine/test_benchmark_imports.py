"""Every name a benchmark imports from mnist_tui exists: a renamed engine function must not leave
a script in benchmarks/ broken until the next person runs it (mnist_format_refusals.py was, after
`probabilities_batch` became `uncalibrated_probabilities_batch`)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[2] / "benchmarks").glob("*.py"))


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mnist_tui")
        for alias in node.names
    ]


@pytest.mark.parametrize("script", BENCHMARKS, ids=[p.name for p in BENCHMARKS])
def test_a_benchmarks_engine_imports_exist(script: Path) -> None:
    missing = []
    for module, name in _imports(script):
        found = importlib.import_module(module)
        if not hasattr(found, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{module}.{name}")
    assert not missing, f"{script.name} imports names that no longer exist: {missing}"


def test_the_benchmarks_are_found() -> None:
    assert len(BENCHMARKS) >= 10 and any(p.name == "time_to_99.py" for p in BENCHMARKS)
