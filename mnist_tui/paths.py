"""Where data and models live. No torch here: the menu needs these before torch loads."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "mnist-tui"
DATA_ENV = "MNIST_TUI_DATA"
MODELS_ENV = "MNIST_TUI_MODELS"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def apply_umask(fd: int) -> None:
    """Give a file made by ``tempfile.mkstemp`` the mode a plain ``open()`` would have given it
    (0o666 less the umask). mkstemp makes every file 0600 whatever the umask, which on a store
    or data folder a team shares (umask 002, a group folder) hides each saved model and each
    download from everyone but its owner."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o666 & ~_umask())


def open_lock(path: Path) -> int:
    """Open (or make) a lock file for ``flock``. It is made 0o666 less the umask, so a team
    sharing the store (umask 002) can all lock it; one that cannot be opened for writing (only its
    maker may write it, or the file system is read-only) is opened read-only, which ``flock``
    accepts all the same."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:  # not ours to write, or a read-only file system
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            # No lock file to fall back on (a folder we may not write): the first error is the
            # one that says what is wrong ("permission denied", not "no such file").
            raise exc from None


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it in /proc."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it and put it back
    os.umask(mask)
    return mask


def user_data_root() -> Path:
    """The per-user folder for downloaded data and trained models (XDG on Linux)."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_NAME


def user_cache_dir() -> Path:
    """Where decompressed data sets are cached ($XDG_CACHE_HOME/mnist-tui on Linux)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_NAME
    if os.name == "nt":
        return user_data_root() / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_NAME


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--data-dir`, else ``$MNIST_TUI_DATA``, else the per-user data folder."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return user_data_root() / "data"


def resolve_models_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--models-dir`, else ``$MNIST_TUI_MODELS``, else ``./models`` if present, else per-user."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env).expanduser()
    local = Path.cwd() / "models"
    if local.is_dir():
        return local
    return user_data_root() / "models"


def shipped_models_dir() -> Path | None:
    """The folder holding the pre-trained default that ships with the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "pretrained", here.parent / "models"):
        if (candidate / "default.safetensors").is_file():
            return candidate
    return None


def meant_path(text: str) -> str:
    """The file a person meant by a path typed or pasted into a box. A file dragged into a
    terminal arrives quoted ('/home/me/My Photo.png') or with its spaces escaped
    (/home/me/My\\ Photo.png), often with a space after it; a file manager's drag arrives as a
    file:// address. The text itself wins whenever it names something."""
    import shlex
    from urllib.parse import unquote, urlsplit

    if not text or os.path.lexists(os.path.expanduser(text)):
        return text
    candidates = [text.strip()]
    try:
        words = shlex.split(text)
    except ValueError:  # an unmatched quote: the text is not shell-quoted
        words = []
    if len(words) == 1:
        candidates.append(words[0])
    for candidate in list(candidates):
        if candidate.startswith("file://"):
            candidates.append(unquote(urlsplit(candidate).path))
    for candidate in candidates:
        if candidate and os.path.lexists(os.path.expanduser(candidate)):
            return candidate
    return text


def file_named_as_folder(path: str) -> bool:
    """Whether ``path`` (``~`` expanded) ends with a slash but names a file: the shell refuses
    ``photo.png/`` (Not a directory), while pathlib would drop the slash and open the file."""
    return path.endswith(("/", os.sep)) and os.path.isfile(path.rstrip("/" + os.sep))


def is_web_address(text: str) -> bool:
    """Whether ``text`` is a web address rather than a path (this app opens files only)."""
    return text.strip().lower().startswith(("http://", "https://", "ftp://"))
