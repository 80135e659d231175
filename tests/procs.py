"""Running a snippet in a fresh interpreter: what a whole process imports or prints cannot be
seen from inside a test process that has already imported everything."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def last_json_line(code: str, timeout: float = 300) -> Any:
    """Run ``code`` with this interpreter; it must succeed, and its last line of output is JSON."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])
