"""`--color` for the art commands: the depth decides the escapes and the glyphs, piped output is
plain ASCII unless a depth is asked for, and `mnist-tui --color X tui` reaches the app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mnist_tui.cli import build_parser, main


def _weights(capsys: pytest.CaptureFixture[str], store_dir: Path, *extra: str) -> str:
    code = main(["weights", "--models-dir", str(store_dir), *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_piped_weights_are_ascii_without_escapes(capsys, store_dir: Path) -> None:
    out = _weights(capsys, store_dir)  # capsys is not a terminal
    assert "\x1b[" not in out and "▀" not in out
    assert set(out) & set("=-+*#")


def test_color_256_emits_only_xterm_colour_numbers(capsys, store_dir: Path) -> None:
    out = _weights(capsys, store_dir, "--color", "256")
    assert "▀" in out
    colours = re.findall(r"\x1b\[[0-9;]*m", out)
    assert any(";5;" in c for c in colours)
    assert not any(";2;" in c for c in colours), "no 24-bit colour reaches a 256-colour terminal"


def test_color_16_draws_signed_shades(capsys, store_dir: Path) -> None:
    out = _weights(capsys, store_dir, "--color", "16")
    assert "▀" not in out and set(out) & set("░▒▓█")
    assert "\x1b[94m" in out or "94;" in out  # bright blue ink
    assert "\x1b[33m" in out or "33;" in out  # yellow (orange) ink


def test_color_none_and_truecolor(capsys, store_dir: Path) -> None:
    assert "\x1b[" not in _weights(capsys, store_dir, "--color", "none")
    assert ";2;" in _weights(capsys, store_dir, "--color", "truecolor")


def test_color_reaches_the_tui_from_either_place() -> None:
    parser = build_parser()
    assert parser.parse_args(["--color", "256", "tui"]).color == "256"
    assert parser.parse_args(["tui", "--color", "16"]).color == "16"
    assert parser.parse_args(["--color", "none"]).color == "none"
    assert not hasattr(parser.parse_args(["tui"]), "color")
