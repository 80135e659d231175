"""Paths as people paste them: a file dragged into a terminal arrives quoted or with escaped
spaces and a space after it, a file manager's drag as a file:// address; a web address is
not a file. The same picture is opened, or one sentence says what to do."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from imagestyles import scan  # noqa: E402

from mnist_tui.engine.images import load_image  # noqa: E402
from mnist_tui.errors import ImageError  # noqa: E402
from mnist_tui.paths import meant_path  # noqa: E402


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    folder = tmp_path / "My Photos"
    folder.mkdir()
    path = folder / "digit seven.png"
    scan(7, 1).save(path)
    return path


@pytest.mark.parametrize(
    "pasted",
    [
        "'{p}' ",  # GNOME Terminal, Konsole: quoted, then a space
        '"{p}"',
        "{q}",  # iTerm2, Terminal.app: spaces escaped
        "{q} ",
        "file://{u}",  # a file manager's drag
    ],
)
def test_a_pasted_path_opens_the_file(photo: Path, pasted: str) -> None:
    text = pasted.format(
        p=photo, q=str(photo).replace(" ", "\\ "), u=str(photo).replace(" ", "%20")
    )
    assert meant_path(text) == str(photo)
    assert load_image(text).size == load_image(photo).size


def test_a_name_that_exists_as_typed_wins(tmp_path: Path) -> None:
    odd = tmp_path / "'quoted'.png"
    scan(1, 0).save(odd)
    assert meant_path(str(odd)) == str(odd)
    assert meant_path("no 'such' file") == "no 'such' file"  # left alone for the error


def test_a_web_address_is_one_sentence_saying_to_download_it() -> None:
    with pytest.raises(ImageError) as caught:
        load_image("https://example.com/digit.png")
    assert str(caught.value) == (
        "Cannot open image https://example.com/digit.png: it is a web address, and only files"
        " on this machine can be opened; download it first, for example with curl -O."
    )


def test_the_predict_box_hint_agrees(photo: Path) -> None:
    from mnist_tui.tui.screens.predict import path_hint

    assert path_hint(f"'{photo}' ") == "file exists"
    assert path_hint("http://example.com/x.png").startswith("a web address")
    assert path_hint(str(photo.parent / "nope.png")) == "no such file"
    assert path_hint(f"{photo}/") == "a file, not a folder: drop the slash"


def test_a_file_named_with_a_trailing_slash_is_refused(photo: Path) -> None:
    """`photo.png/` means a folder to the shell (`cat photo.png/`: Not a directory); pathlib
    would quietly drop the slash and open the file."""
    with pytest.raises(ImageError) as caught:
        load_image(f"{photo}/")
    assert str(caught.value) == (
        f"Cannot open image {photo}/: it ends with a slash, which means a folder, but it is a"
        " file; drop the slash."
    )
    assert load_image(str(photo)).size == load_image(photo).size
