"""Start-up: time until `mnist-tui` has painted its menu in a real pseudo-terminal, and the time
of `mnist-tui --help`, against a baseline in the same run that imports torch first (what an app
that loads its engine at start-up would cost).

    python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time

MENU_TEXT = "Browse the data set"
ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]|\x1b\][^\x07]*\x07")

OURS = [sys.executable, "-m", "mnist_tui"]
BASELINE = [sys.executable, "-c", "import torch, torchvision, sys; sys.argv[0] = 'mnist-tui';"
            " from mnist_tui.cli import main; raise SystemExit(main())"]  # fmt: skip


def time_to_text(cmd: list[str], text: str, cols: int = 80, rows: int = 24,
                 timeout: float = 30.0) -> float:  # fmt: skip
    """Seconds from spawning ``cmd`` in a pty until ``text`` is on its screen."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, close_fds=True)  # fmt: skip
    os.close(slave)
    buf = b""
    found = None
    try:
        while time.perf_counter() - t0 < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                buf += chunk
                plain = ANSI.sub(b"", buf).decode("utf-8", "replace")
                if text in plain:
                    found = time.perf_counter() - t0
                    break
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        os.close(master)
    if found is None:
        raise RuntimeError(f"{text!r} never appeared; output tail: {buf[-400:]!r}")
    return found


def time_cmd(cmd: list[str]) -> float:
    """Wall seconds of a command that exits by itself."""
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, list[float]] = {k: [] for k in ("menu", "menu_base", "help", "help_base")}
    for _ in range(args.runs):
        results["menu"].append(time_to_text(OURS, MENU_TEXT))
        results["menu_base"].append(time_to_text(BASELINE, MENU_TEXT))
        results["help"].append(time_cmd([*OURS, "--help"]))
        results["help_base"].append(time_cmd([*BASELINE, "--help"]))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"menu painted:  ours {med['menu']:.3f} s   baseline (torch first)"
          f" {med['menu_base']:.3f} s"
          f"   {med['menu_base'] / med['menu']:.1f}x")  # fmt: skip
    print(f"--help:        ours {med['help']:.3f} s   baseline (torch first)"
          f" {med['help_base']:.3f} s"
          f"   {med['help_base'] / med['help']:.1f}x")  # fmt: skip
    print(f"(medians of {args.runs}; all runs: " + ", ".join(
        f"{k}={[round(x, 3) for x in v]}" for k, v in results.items()) + ")")  # fmt: skip


if __name__ == "__main__":
    main()
