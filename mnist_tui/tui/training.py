"""Training in a child process, so the UI keeps answering keys while torch uses every core.

The child is the CLI itself (``python -m mnist_tui train --events ...``): it prints one JSON
object per line for each engine event and a final ``{"kind": "done", ...}``; a user error ends
it with one ``mnist-tui: <sentence>`` line on stderr. SIGINT asks it to stop after the current
batch and keep the last completed epoch. No torch is imported here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

from mnist_tui.engine.config import TrainConfig

NICENESS = 5  # a little below the UI, so keys are answered while training saturates the CPU
EXIT_INTERRUPTED = 130


def train_command(
    config: TrainConfig,
    *,
    data_dir: str,
    models_dir: str,
    name: str | None = None,
    resume: str | None = None,
    download: bool = True,
) -> list[str]:
    """The child's command line for a config (or for resuming ``resume``)."""
    cmd = [sys.executable, "-m", "mnist_tui", "train", "--events"]
    cmd += ["--data-dir", data_dir, "--models-dir", models_dir, "--device", config.device]
    cmd += ["--threads", str(config.threads)]
    if resume:
        return [*cmd, "--resume", resume, *([] if download else ["--no-download"])]
    cmd += [
        "--arch", config.arch, "--dataset", config.dataset,
        "--epochs", str(config.epochs), "--batch-size", str(config.batch_size),
        "--optimizer", config.optimizer, "--lr", repr(config.lr),
        "--scheduler", config.scheduler, "--augment" if config.augment else "--no-augment",
        "--label-smoothing", repr(config.label_smoothing),
        "--weight-decay", repr(config.weight_decay), "--ema", repr(config.ema),
        "--seed", str(config.seed), "--val-size", str(config.val_size),
    ]  # fmt: skip
    if name:
        cmd += ["--name", name]
    if not download:
        cmd.append("--no-download")
    return cmd


def _error_sentence(stderr: str, returncode: int) -> str | None:
    """The child's one-sentence error, or a sentence for an unexpected end."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = next((ln for ln in reversed(lines) if ln.startswith("mnist-tui: ")), None)
    if said:
        return said.removeprefix("mnist-tui: ")
    if returncode == 0:
        return None
    if returncode < 0:
        return f"Training was ended by signal {-returncode}; completed epochs are in the store."
    return f"Training ended unexpectedly (exit status {returncode}); see `mnist-tui train`."


class TrainingProcess:
    """One training child process: start it, read its events, stop or kill it."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.stopping = False
        self._stderr: Any = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The child's process id (None before start)."""
        return self.proc.pid if self.proc else None

    @property
    def running(self) -> bool:
        """Whether the child is still alive."""
        return self.proc is not None and self.proc.poll() is None

    def start(
        self,
        config: TrainConfig,
        name: str | None,
        services: Any,
        *,
        resume: str | None = None,
        download: bool = True,
    ) -> None:
        """Spawn the child (returns at once; read progress with :meth:`events`)."""
        cmd = train_command(
            config, data_dir=str(services.resolved_data_dir),
            models_dir=str(services.store().root), name=name, resume=resume, download=download,
        )  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("MNIST_TUI_DEBUG", None)  # a traceback would not be one sentence
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self.stopping = False
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
            text=True, encoding="utf-8", errors="replace", bufsize=1, env=env,
        )  # fmt: skip
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, NICENESS)

    def events(self) -> Iterator[dict[str, Any]]:
        """Each event as a dict, ending with ``{"kind": "exit", "returncode", "error"}``.

        Blocking: call from a thread worker. Lines that are not JSON objects are skipped.
        """
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        for line in proc.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and "kind" in event:
                yield event
        returncode = proc.wait()
        stderr = ""
        if self._stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                self._stderr.seek(0)
                stderr = self._stderr.read()
                self._stderr.close()
        yield {
            "kind": "exit",
            "returncode": returncode,
            "error": _error_sentence(stderr, returncode),
        }

    def stop(self) -> bool:
        """Ask the child to stop after this batch, keeping the last completed epoch (SIGINT).

        Returns False if there was nothing to stop. A second call sends nothing more: a second
        SIGINT would abort the child without saving.
        """
        with self._lock:
            if not self.running or self.proc is None:
                return False
            if not self.stopping:
                self.stopping = True
                with contextlib.suppress(OSError):
                    self.proc.send_signal(signal.SIGINT)
            return True

    def kill(self) -> None:
        """End the child at once (completed epochs are already saved)."""
        if self.running and self.proc is not None:
            with contextlib.suppress(OSError):
                self.proc.kill()

    def shutdown(self, timeout: float = 1.0) -> None:
        """Stop the child, wait up to ``timeout`` seconds, then kill it; reaps it either way."""
        if self.proc is None:
            return
        if self.stop():
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2.0)
