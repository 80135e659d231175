"""Runs that belong to the store: detached run processes, their logs, their state, and a queue.

Files in the store, beside each model's checkpoint:

- ``NAME.log.jsonl``: the run's events (:mod:`mnist_tui.engine.events`), one JSON line each.
  Batch progress is thinned to one line per ``LOG_BATCH_EVERY_S`` and the log is compacted when
  it passes ``MAX_LOG_BYTES``, so no log grows without bound.
- ``NAME.run.json``: the run's state (queued, running, finished, stopped, failed), its process
  id and that process's start time (so a recycled pid never reads as our run), and its config.
- ``NAME.run.stop``: present when someone asked the run to stop.
- ``.queue.json``: names of queued runs, in order. There is no daemon: each run process starts
  the next queued run as it ends, and starting a run when none is training starts it at once.
- ``.runs.lock``: an ``fcntl.flock`` lock held for every change to the above and for claiming a
  name, so two processes never give two runs the same name or lose a queue entry.

No torch here: the TUI and `mnist-tui runs` use this module without the engine's heavy parts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mnist_tui.engine.events import (
    ENDINGS,
    BatchProgress,
    EpochEnd,
    Event,
    EventError,
    RunFailed,
    parse_event,
    parse_lines,
    to_json,
)
from mnist_tui.errors import StoreError
from mnist_tui.paths import open_lock

LOG_SUFFIX = ".log.jsonl"
STATE_SUFFIX = ".run.json"
STOP_SUFFIX = ".run.stop"
QUEUE_FILE = ".queue.json"
LOCK_FILE = ".runs.lock"
LOG_BATCH_EVERY_S = 0.5  # batch progress written to the log at most this often
MAX_LOG_BYTES = 1_000_000  # past this the log is compacted (every other batch line dropped)
NICENESS = 5  # a little below the UI, so keys are answered while training saturates the CPU
ACTIVE = ("queued", "running")
SIDE_SUFFIXES = (LOG_SUFFIX, STATE_SUFFIX, STOP_SUFFIX)


def _proc_start(pid: int) -> str | None:
    """The kernel's start time of a live process (Linux), None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if not Path("/proc/self/stat").exists():  # no /proc: fall back to a signal probe
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return None
            except PermissionError:
                return "?"
            return "?"
        return None
    rest = stat[stat.rfind(")") + 2 :].split()
    if not rest or rest[0] in ("Z", "X"):
        return None
    return rest[19]  # field 22 of /proc/PID/stat: start time in clock ticks since boot


def pid_alive(pid: int | None, started: str | None = None) -> bool:
    """Whether ``pid`` is a live process (and the same one, when its start time is known)."""
    if not pid or pid <= 0:
        return False
    now = _proc_start(pid)
    if now is None:
        return False
    return started in (None, "?") or now == "?" or now == started


@dataclass
class RunState:
    """What the store knows of a run: read from NAME.run.json, liveness checked."""

    name: str
    status: str  # queued, running, finished, stopped, failed, crashed
    config: dict[str, Any] = field(default_factory=dict)
    pid: int | None = None
    proc_start: str | None = None
    submitted: float = 0.0
    started: float | None = None
    ended: float | None = None
    message: str = ""
    resume: bool = False
    data_dir: str | None = None
    download: bool = True
    stopping: bool = False
    position: int | None = None  # 1-based place in the queue

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, as `runs --json` prints it."""
        return asdict(self)


class Runs:
    """The runs of one model store: start (or queue), list, follow, stop, reorder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()

    # ----------------------------------------------------------------- paths and the lock

    def log_path(self, name: str) -> Path:
        """The run's event log."""
        return self.root / (name + LOG_SUFFIX)

    def state_path(self, name: str) -> Path:
        """The run's state file."""
        return self.root / (name + STATE_SUFFIX)

    def stop_path(self, name: str) -> Path:
        """The run's stop request."""
        return self.root / (name + STOP_SUFFIX)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's run lock (blocking; every holder is brief)."""
        import fcntl

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = open_lock(self.root / LOCK_FILE)
        except OSError as exc:
            raise StoreError(
                f"Could not use the store {self.root}: {exc.strerror or exc}; check the folder."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # ----------------------------------------------------------------- state files

    def _write_state(self, state: RunState) -> None:
        data = {k: v for k, v in asdict(state).items() if k not in ("position", "stopping")}
        target = self.state_path(state.name)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, target)

    def _read_state(self, name: str) -> RunState | None:
        try:
            data = json.loads(self.state_path(name).read_text())
            state = RunState(
                **{k: v for k, v in data.items() if k in RunState.__dataclass_fields__}
            )
        except (OSError, ValueError, TypeError):
            return None
        if state.status == "running" and not pid_alive(state.pid, state.proc_start):
            state.status = "crashed"  # a dead pid never reads as running
            state.message = state.message or "the run process ended without a result"
        state.stopping = state.status == "running" and self.stop_path(name).exists()
        return state

    def _queue(self) -> list[str]:
        try:
            names = json.loads((self.root / QUEUE_FILE).read_text())
        except (OSError, ValueError):
            return []
        return [n for n in names if isinstance(n, str)]

    def _write_queue(self, names: list[str]) -> None:
        target = self.root / QUEUE_FILE
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(names))
        os.replace(tmp, target)

    # ----------------------------------------------------------------- reading

    def get(self, name: str) -> RunState | None:
        """One run's state (None if the store has no run of that name)."""
        state = self._read_state(name)
        if state is not None and state.status == "queued":
            queue = self._queue()
            state.position = queue.index(name) + 1 if name in queue else None
        return state

    def list(self) -> list[RunState]:
        """Running runs, then the queue in order, then ended runs, newest first."""
        try:
            names = [p.name[: -len(STATE_SUFFIX)] for p in self.root.glob("*" + STATE_SUFFIX)]
        except OSError:
            return []
        states = [s for s in (self.get(n) for n in names) if s is not None]
        running = [s for s in states if s.status == "running"]
        queued = sorted((s for s in states if s.status == "queued"),
                        key=lambda s: s.position or 1_000_000)  # fmt: skip
        ended = sorted((s for s in states if not s.active),
                       key=lambda s: s.ended or s.submitted, reverse=True)  # fmt: skip
        return running + queued + ended

    def running(self) -> list[RunState]:
        """Runs training now (their processes alive)."""
        return [s for s in self.list() if s.status == "running"]

    def is_active(self, name: str) -> bool:
        """Whether a run of this name is queued or running."""
        state = self._read_state(name)
        return state is not None and state.active

    def epochs_done(self, name: str) -> int:
        """The last epoch the run's log reports as ended (read from its tail: cheap)."""
        try:
            with open(self.log_path(name), "rb") as fh:
                fh.seek(0, 2)
                fh.seek(max(0, fh.tell() - 8192))
                tail = fh.read().decode("utf-8", "replace")
        except OSError:
            return 0
        for line in reversed(tail.splitlines()):
            if line.startswith('{"kind":"epoch"'):
                try:
                    event = parse_event(line)
                except EventError:
                    continue
                if isinstance(event, EpochEnd):
                    return event.epoch
        return 0

    def read_log(self, name: str) -> tuple[list[Event], list[str]]:
        """Every event in the run's log, and a note for each line skipped."""
        try:
            text = self.log_path(name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return [], []
        return parse_lines(text.splitlines())

    # ----------------------------------------------------------------- claiming names

    def _taken(self, name: str, checkpoint_exists: Callable[[str], bool]) -> bool:
        return checkpoint_exists(name) or self.is_active(name)

    def claim(
        self,
        name: str,
        config: dict[str, Any],
        checkpoint_exists: Callable[[str], bool],
        *,
        resume: bool = False,
    ) -> None:
        """Claim ``name`` for a run this process trains now (raise StoreError if taken).

        The one call that makes two runs of one name impossible, across processes.
        """
        with self.lock():
            state = self._read_state(name)
            if resume:
                if state is not None and state.active and state.pid != os.getpid():
                    raise StoreError(f"{name!r} is already being trained; stop it first.")
                self._reopen_log(name)
            elif self._taken(name, checkpoint_exists) and not (
                state is not None and state.status == "running" and state.pid == os.getpid()
            ):
                raise StoreError(
                    f"A model named {name!r} already exists or is being trained;"
                    " choose another --name or delete it first."
                )
            self.stop_path(name).unlink(missing_ok=True)
            now = time.time()
            self._write_state(
                RunState(
                    name,
                    "running",
                    config,
                    os.getpid(),
                    _proc_start(os.getpid()),
                    submitted=state.submitted if state else now,
                    started=now,
                    resume=resume,
                    data_dir=state.data_dir if state else None,
                    download=state.download if state else True,
                )  # fmt: skip
            )

    def _reopen_log(self, name: str) -> None:
        """A resumed run goes on in its log: drop the earlier ending, so followers keep going."""
        path = self.log_path(name)
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        kept = [ln for ln in lines if not ln.startswith(('{"kind":"done"', '{"kind":"failed"'))]
        if len(kept) == len(lines):
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text("".join(ln + "\n" for ln in kept), encoding="utf-8")
        os.replace(tmp, path)

    def unique_name(self, base: str, checkpoint_exists: Callable[[str], bool]) -> str:
        """``base`` or ``base-2``... free of checkpoints and of queued or running runs."""
        name, n = base, 1
        while self._taken(name, checkpoint_exists):
            n += 1
            name = f"{base}-{n}"
        return name

    # ----------------------------------------------------------------- starting and the queue

    def submit(
        self,
        config: dict[str, Any],
        name: str,
        *,
        checkpoint_exists: Callable[[str], bool],
        data_dir: str | None,
        resume: bool = False,
        download: bool = True,
        spawn: bool = True,
    ) -> RunState:
        """Queue a run under ``name``, and start it at once when no run is training.

        Raises StoreError when the name is taken (or, for a resume, already active).
        """
        with self.lock():
            if resume:
                if self.is_active(name):
                    raise StoreError(f"{name!r} is already queued or training.")
                self._reopen_log(name)
            elif self._taken(name, checkpoint_exists):
                raise StoreError(
                    f"A model named {name!r} already exists or is queued;"
                    " choose another name or delete it first."
                )
            self.stop_path(name).unlink(missing_ok=True)
            self._write_state(
                RunState(
                    name,
                    "queued",
                    config,
                    submitted=time.time(),
                    resume=resume,
                    data_dir=data_dir,
                    download=download,
                )  # fmt: skip
            )
            self._write_queue([*[n for n in self._queue() if n != name], name])
            if spawn:
                self._start_next_locked()
        return self.get(name) or RunState(name, "queued", config)

    def start_next(self) -> RunState | None:
        """Start the first queued run when none is training (what a run does as it ends)."""
        with self.lock():
            return self._start_next_locked()

    def _start_next_locked(self) -> RunState | None:
        if any(s.status == "running" for s in self._all_states()):
            return None
        queue = self._queue()
        while queue:
            name = queue.pop(0)
            self._write_queue(queue)
            state = self._read_state(name)
            if state is None or state.status != "queued":
                continue
            try:
                pid, start = self._spawn(state)
            except OSError as exc:
                state.status, state.message = "failed", f"could not start: {exc.strerror or exc}"
                state.ended = time.time()
                self._write_state(state)
                continue
            state.status, state.pid, state.proc_start = "running", pid, start
            state.started = time.time()
            self._write_state(state)
            return state
        return None

    def _all_states(self) -> list[RunState]:
        try:
            names = [p.name[: -len(STATE_SUFFIX)] for p in self.root.glob("*" + STATE_SUFFIX)]
        except OSError:
            return []
        return [s for s in (self._read_state(n) for n in names) if s is not None]

    def _spawn(self, state: RunState) -> tuple[int, str | None]:
        """Start a run process in its own session, detached from any terminal."""
        import subprocess

        cmd = [sys.executable, "-m", "mnist_tui", "train", "--run", state.name,
               "--models-dir", str(self.root)]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("MNIST_TUI_DEBUG", None)
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True, env=env, cwd=str(self.root),
        )  # fmt: skip
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, proc.pid, NICENESS)
        _reap_in_background(proc)
        return proc.pid, _proc_start(proc.pid)

    def finish(self, name: str, status: str, message: str = "") -> None:
        """Mark this process's run as ended, then start the next queued run."""
        with self.lock():
            state = self._read_state(name)
            if state is not None and state.pid == os.getpid():
                state.status, state.message, state.ended = status, message, time.time()
                self._write_state(state)
            self.stop_path(name).unlink(missing_ok=True)
            self._start_next_locked()

    # ----------------------------------------------------------------- stopping and editing

    def stop(self, name: str) -> str:
        """Stop a running run (it keeps its last completed epoch) or cancel a queued one.

        Works from any process. Returns the sentence to show; raises StoreError if there is
        nothing to stop.
        """
        with self.lock():
            state = self._read_state(name)
            if state is None or not state.active:
                raise StoreError(f"No run named {name!r} is queued or training.")
            if state.status == "queued":
                self._write_queue([n for n in self._queue() if n != name])
                self.state_path(name).unlink(missing_ok=True)
                return f"Cancelled the queued run {name}."
            first = not self.stop_path(name).exists()
            self.stop_path(name).touch()
        if first and state.pid:
            with contextlib.suppress(OSError):
                os.kill(state.pid, signal.SIGTERM)  # the run's stop flag: ends after this batch
        return f"Stopping {name} after this batch; its last completed epoch is kept."

    def stop_all(self) -> None:
        """Cancel every queued run, then stop the running ones."""
        states = self.list()
        for s in sorted(states, key=lambda s: s.status != "queued"):
            if s.active:
                with contextlib.suppress(StoreError):
                    self.stop(s.name)

    def move(self, name: str, delta: int) -> int:
        """Move a queued run ``delta`` places (negative: sooner); returns its new position."""
        with self.lock():
            queue = self._queue()
            if name not in queue:
                raise StoreError(f"{name!r} is not in the queue.")
            i = queue.index(name)
            j = max(0, min(len(queue) - 1, i + delta))
            queue.insert(j, queue.pop(i))
            self._write_queue(queue)
            return j + 1

    def stop_requested(self, name: str) -> bool:
        """Whether someone asked this run to stop (polled by the run between batches)."""
        return self.stop_path(name).exists()

    def forget(self, name: str) -> None:
        """Remove an ended run's log and state (with its model); refuses an active run."""
        with self.lock():
            if self.is_active(name):
                raise StoreError(f"{name!r} is queued or training; stop it first.")
            for suffix in SIDE_SUFFIXES:
                (self.root / (name + suffix)).unlink(missing_ok=True)

    def remove_if_empty(self) -> None:
        """Remove the store folder when only the locks, claims and queue are left in it."""
        from mnist_tui.engine.store import CLAIM_SUFFIX
        from mnist_tui.engine.store import LOCK_FILE as STORE_LOCK

        def bookkeeping(p: Path) -> bool:
            return p.name in (LOCK_FILE, QUEUE_FILE, STORE_LOCK) or p.name.endswith(CLAIM_SUFFIX)

        with contextlib.suppress(OSError):
            if all(bookkeeping(p) for p in self.root.iterdir()):
                for p in self.root.iterdir():
                    p.unlink()
                self.root.rmdir()

    def rename(self, old: str, new: str) -> None:
        """Move an ended run's log and state along with its model; refuses an active run."""
        with self.lock():
            if self.is_active(old):
                raise StoreError(f"{old!r} is queued or training; stop it first.")
            for suffix in SIDE_SUFFIXES:
                src = self.root / (old + suffix)
                if src.exists():
                    os.replace(src, self.root / (new + suffix))
            state = self._read_state(new)
            if state is not None:
                state.name = new
                self._write_state(state)

    # ----------------------------------------------------------------- following a run

    def follow(
        self,
        name: str,
        *,
        cancelled: Callable[[], bool] = lambda: False,
        poll_s: float = 0.2,
    ) -> Iterator[Event | None]:
        """The run's events from the start of its log, then live until it ends.

        Yields ``None`` when the log was compacted and has been read again from the start
        (the reader rebuilds what it shows). Ends after the run's final event, or with a
        :class:`RunFailed` when the run process is gone without one.
        """
        path = self.log_path(name)
        offset, inode, partial = 0, None, ""
        quiet_since = time.monotonic()
        while not cancelled():
            try:
                st = path.stat()
            except OSError:
                st = None
            if st is not None and (st.st_ino != inode or st.st_size < offset):
                if inode is not None:
                    yield None  # compacted: start again
                offset, inode, partial = 0, st.st_ino, ""
            got = False
            if st is not None and st.st_size > offset:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    fh.seek(offset)
                    chunk = fh.read()
                    offset = fh.tell()
                lines = (partial + chunk).split("\n")
                partial = lines.pop()
                events, _notes = parse_lines(lines)
                for event in events:
                    yield event
                    if isinstance(event, ENDINGS):
                        return
                got = bool(lines)
            if got:
                quiet_since = time.monotonic()
                continue
            state = self._read_state(name)
            if state is None or state.status not in ACTIVE:
                if time.monotonic() - quiet_since > 2 * poll_s:  # read once more after the end
                    if state is None and st is None:
                        text = "The run was cancelled before it started."
                    elif state is None or state.status in ("crashed", "running"):
                        text = (
                            "The run ended without a result (killed or crashed);"
                            " its completed epochs are in the store."
                        )
                    else:
                        text = f"The run {state.status}: {state.message or 'no result'}."
                    yield RunFailed(text)
                    return
            time.sleep(poll_s)


def _reap_in_background(proc: Any) -> None:
    """Wait for a run process we started, so it never lingers as a zombie while we live."""
    import threading

    threading.Thread(target=proc.wait, daemon=True, name=f"reap-{proc.pid}").start()


class RunLog:
    """Writes a run's events to its log: batch lines thinned, the file compacted when large."""

    def __init__(self, path: Path, *, every_s: float = LOG_BATCH_EVERY_S,
                 max_bytes: int = MAX_LOG_BYTES) -> None:  # fmt: skip
        self.path = path
        self.every_s = every_s
        self.max_bytes = max_bytes
        self._last_batch = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def __call__(self, event: Event) -> None:
        if isinstance(event, BatchProgress):
            now = time.monotonic()
            last_of_epoch = event.batch == event.batches
            if now - self._last_batch < self.every_s and not last_of_epoch:
                return
            self._last_batch = now
        self._fh.write(to_json(event) + "\n")
        self._fh.flush()
        if not isinstance(event, BatchProgress):
            with contextlib.suppress(OSError):
                os.fsync(self._fh.fileno())
        if self._fh.tell() > self.max_bytes:
            self._compact()

    def _compact(self) -> None:
        """Keep every non-batch line and every other batch line; replace the file atomically."""
        self._fh.close()
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        kept: list[str] = []
        n = 0
        for line in lines:
            if line.startswith('{"kind":"batch"'):
                n += 1
                if n % 2:
                    continue
            kept.append(line)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text("\n".join(kept) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        """Flush and close the log."""
        with contextlib.suppress(OSError):
            self._fh.close()


def submit_run(
    store: Any,
    config: Any,
    *,
    name: str | None = None,
    resume: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    spawn: bool = True,
) -> RunState:
    """Start a detached run of ``config`` in ``store`` (or queue it behind a running one).

    ``name`` None picks ``ARCH-DATE-TIME``; ``resume`` continues a stopped model. Raises a
    one-sentence StoreError/ConfigError/CheckpointError for a name taken or a run not resumable.
    """
    from mnist_tui.engine.store import default_run_name, validate_name
    from mnist_tui.paths import resolve_data_dir

    runs = Runs(store.root)

    def exists(n: str) -> bool:
        return bool(store.path_for(n).exists())

    if resume:
        info = store.info(resume)
        if not info.resumable:
            raise StoreError(
                f"{info.name!r} cannot be resumed: it finished or has no resume state."
            )
        name = info.name
        config = type(config).from_dict(info.config).resumed_with(config)
    config.validate()
    if name:
        validate_name(name)
    else:
        name = runs.unique_name(default_run_name(config.arch), exists)
    return runs.submit(
        config.to_dict(), name, checkpoint_exists=exists,
        data_dir=str(resolve_data_dir(data_dir).absolute()), resume=bool(resume),
        download=download, spawn=spawn,
    )  # fmt: skip
