"""`predict -` reads the picture from standard input, as `ssh server mnist-tui predict - < a.jpg`
does with a photo on the user's own machine: no copy to the server first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from imagestyles import number, photo_lined_jpeg  # noqa: E402


def predict(tmp_path: Path, *args: str, stdin: bytes | None) -> subprocess.CompletedProcess:
    """A whole `mnist-tui predict` process with ``stdin`` piped in (None: no pipe at all)."""
    command = [sys.executable, "-m", "mnist_tui", "predict", "--models-dir", str(tmp_path), *args]
    return subprocess.run(
        command,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.usefixtures("shipped")
def test_a_piped_photo_answers_like_the_same_file(tmp_path: Path) -> None:
    photo = tmp_path / "seven.jpg"
    photo.write_bytes(photo_lined_jpeg(7, seed=2))
    year = tmp_path / "year.png"
    number("2026").save(year)
    named = predict(tmp_path, "--json", str(photo), stdin=None)
    piped = predict(tmp_path, "--json", "-", stdin=photo.read_bytes())
    assert piped.returncode == 0, piped.stderr
    by_path, by_pipe = json.loads(named.stdout), json.loads(piped.stdout)
    assert by_pipe["path"] == "-" and by_pipe["digit"] == by_path["digit"] == 7
    assert by_pipe["probabilities"] == by_path["probabilities"]
    # Plain output, and a number, from a pipe.
    out = predict(tmp_path, "-", stdin=year.read_bytes())
    assert out.returncode == 0 and out.stdout.decode().startswith("-: 2026 (4 digits")


@pytest.mark.usefixtures("shipped")
def test_nothing_piped_or_dash_twice_is_one_sentence(tmp_path: Path) -> None:
    empty = predict(tmp_path, "-", stdin=b"")
    assert empty.returncode == 1 and not empty.stdout
    assert empty.stderr.decode() == (
        "mnist-tui: Cannot open image from standard input: nothing was piped in; pipe a picture"
        " in: mnist-tui predict - < a.jpg.\n"
    )
    photo = photo_lined_jpeg(3, seed=1)
    twice = predict(tmp_path, "--json", "-", "-", stdin=photo)
    first, second = (json.loads(line) for line in twice.stdout.decode().splitlines())
    assert twice.returncode == 1 and first["digit"] == 3
    assert second == {
        "path": "-",
        "error": "Cannot open image from standard input twice: give - once per command.",
    }
    junk = predict(tmp_path, "-", stdin=b"hello, not a picture\n")
    assert junk.returncode == 1 and "not a picture in a format" in junk.stderr.decode()
    assert "Traceback" not in empty.stderr.decode() + twice.stderr.decode()
