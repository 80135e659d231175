"""What happens when the UI meets a bug: the traceback goes to a log file, the user gets one line.

An exception in a screen's handler used to end the app with status 0 (``run_app`` ignored
Textual's return code), print a long traceback, and take a training run down with it. Textual
stops the message loop of the widget that raised, so the UI cannot safely carry on; instead the
app logs the traceback to a file, ends with status 1 and one line on stderr, and leaves a
training child to finish (``train --events`` trains on when nobody reads it).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from mnist_tui.paths import APP_NAME


def crash_log_path() -> Path:
    """Where tracebacks go: ``$XDG_STATE_HOME/mnist-tui/crash.log`` (~/.local/state on Linux)."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Logs"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / APP_NAME / "crash.log"


def log_exception(error: BaseException) -> Path | None:
    """Append the traceback of ``error`` to the crash log; returns its path (None if unwritable)."""
    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} mnist-tui UI error\n")
            log.write("".join(traceback.format_exception(error)))
    except OSError:
        return None
    return path


def one_line(error: BaseException, path: Path | None) -> str:
    """The sentence a user sees for an unexpected error."""
    where = f"details in {path}" if path else "the log could not be written"
    text = " ".join(str(error).split())[:80]
    return f"Something went wrong ({type(error).__name__}: {text}); {where}."
