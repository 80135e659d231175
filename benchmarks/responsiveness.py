"""Key-to-repaint latency of the TUI while training saturates the cores, and peak training memory.

Ours: the TUI in a pseudo-terminal while a training child process (as the Train screen starts it:
`mnist-tui train --events`, niceness +5) uses every core. Baseline, in the same run: the same TUI
with the same training run in a thread of the UI process (what a thread worker would do). Each
press of Down moves the menu's highlight, so the app must repaint; we time from writing the key
to the first byte of the repaint, and report p50/p95 over many presses.

    python benchmarks/responsiveness.py --data-dir ../shared/data [--presses 150]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import ANSI, MENU_TEXT  # noqa: E402

THREAD_BASELINE = r"""
import sys, threading
from mnist_tui.engine.config import recipe
from mnist_tui.engine.runs import run_training
from mnist_tui.engine.store import ModelStore
from mnist_tui.tui.app import create_app
data_dir, store_dir = sys.argv[1], sys.argv[2]
cfg = recipe("best").with_(epochs=1)
stop = threading.Event()
threading.Thread(target=lambda: run_training(cfg, store=ModelStore(store_dir), data_dir=data_dir,
                 should_stop=stop.is_set), daemon=True).start()
app = create_app(data_dir=data_dir, models_dir=store_dir, warm_up=False)
app.run()
stop.set()
"""


def spawn_in_pty(cmd: list[str], cols: int = 80, rows: int = 24) -> tuple[subprocess.Popen, int]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, close_fds=True)  # fmt: skip
    os.close(slave)
    return proc, master


def drain(master: int, seconds: float) -> bytes:
    end = time.perf_counter() + seconds
    buf = b""
    while (left := end - time.perf_counter()) > 0:
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            buf += os.read(master, 65536)
    return buf


def wait_for(master: int, text: str, timeout: float = 60.0) -> None:
    buf = b""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        buf += drain(master, 0.05)
        if text in ANSI.sub(b"", buf).decode("utf-8", "replace"):
            return
    raise RuntimeError(f"{text!r} never appeared")


def press_latencies(master: int, presses: int, gap: float = 0.12) -> list[float]:
    """Milliseconds from writing Down/Up to the first repaint byte, per press."""
    out = []
    for i in range(presses):
        drain(master, gap)
        key = b"\x1b[B" if (i // 5) % 2 == 0 else b"\x1b[A"
        t0 = time.perf_counter()
        os.write(master, key)
        ready, _, _ = select.select([master], [], [], 2.0)
        if ready:
            os.read(master, 65536)
            out.append((time.perf_counter() - t0) * 1000)
        else:
            out.append(2000.0)
    return out


def measure(cmd: list[str], presses: int, trainer: list[str] | None) -> list[float]:
    proc, master = spawn_in_pty(cmd)
    child = None
    try:
        wait_for(master, MENU_TEXT)
        if trainer:
            child = subprocess.Popen(trainer, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)  # fmt: skip
            try:
                os.setpriority(os.PRIO_PROCESS, child.pid, 5)
            except OSError:
                pass
            for line in child.stdout:  # wait until batches are flowing
                if '"kind": "batch"' in line:
                    break
        else:
            drain(master, 8.0)  # the in-process thread imports torch and loads data first
        return press_latencies(master, presses)
    finally:
        if child:
            child.kill()
            child.wait()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def peak_training_memory(data_dir: str, store: str) -> float:
    """Peak RSS (MB) of one `best` training epoch run as a child process."""
    code = (
        "import resource, sys\nfrom mnist_tui.cli import main\nmain(sys.argv[1:])\n"
        "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code, "train", "--arch", "best", "--epochs", "1",
                          "--data-dir", data_dir, "--models-dir", store, "--json"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    kb = next(int(line.split()[1]) for line in out.stderr.splitlines() if line.startswith("MAXRSS"))
    return kb / 1024


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--presses", type=int, default=150)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-only", action="store_true")
    args = parser.parse_args()
    data_dir = str(Path(args.data_dir).resolve())
    if args.memory_only:
        with tempfile.TemporaryDirectory() as store:
            mb = peak_training_memory(data_dir, store)
        print(f"peak memory of one `best` training epoch: {mb:.0f} MB")
        return
    with tempfile.TemporaryDirectory() as store:
        tui = [sys.executable, "-m", "mnist_tui", "--data-dir", data_dir, "--models-dir", store]
        trainer = [sys.executable, "-m", "mnist_tui", "train", "--events", "--arch", "best",
                   "--epochs", "1", "--data-dir", data_dir, "--models-dir", store]  # fmt: skip
        idle = measure(tui, args.presses // 3, None)
        ours = measure(tui, args.presses, trainer)
        base = measure([sys.executable, "-c", THREAD_BASELINE, data_dir, store], args.presses, None)
        for name, lat in (("idle", idle), ("ours (child process)", ours),
                          ("baseline (thread)", base)):  # fmt: skip
            print(f"{name:<22} p50 {pct(lat, 50):6.1f} ms   p95 {pct(lat, 95):6.1f} ms"
                  f"   max {max(lat):7.1f} ms   ({len(lat)} presses)")  # fmt: skip
        print(json.dumps({"idle": idle, "ours": ours, "baseline": base}), file=sys.stderr)
        if not args.skip_memory:
            print(f"peak memory of one `best` training epoch: "
                  f"{peak_training_memory(data_dir, store):.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
