"""The render package loads its art on first use; every public name is the function or value
its module defines, whichever submodules were imported first."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import mnist_tui.render as render


def test_every_public_name_is_what_its_module_defines() -> None:
    for info in pkgutil.iter_modules(render.__path__):
        importlib.import_module(f"mnist_tui.render.{info.name}")  # sets render.<module name>
    for name in render.__all__:
        value = getattr(render, name)
        assert not isinstance(value, types.ModuleType), name
        source = importlib.import_module(f"mnist_tui.render.{render._SOURCES[name]}")
        assert value is getattr(source, name)


def test_choosing_a_colour_depth_imports_no_numpy() -> None:
    code = "import sys; from mnist_tui.render import use_depth, resolve_depth; " \
           "use_depth(resolve_depth('256')); print('numpy' in sys.modules)"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
