"""A whole training job as the faces run it: load data, train, test, save to the store.

Both the CLI and the TUI call :func:`run_training`; it reports through events and stops
between batches when ``should_stop`` says so, keeping the last completed epoch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from mnist_tui.engine.calibrate import Calibration, calibrate_run
from mnist_tui.engine.config import TrainConfig, learned_mirrors
from mnist_tui.engine.data import MnistData, load_dataset
from mnist_tui.engine.evaluate import Evaluation, evaluate
from mnist_tui.engine.events import DownloadProgress, RunFailed, RunFinished, RunStarted, Status
from mnist_tui.engine.jobs import RunLog, Runs
from mnist_tui.engine.store import ModelInfo, ModelStore, build_metadata, default_run_name
from mnist_tui.engine.train import EventFn, TrainResult, check_machine, near_chance, train
from mnist_tui.engine.views import answering
from mnist_tui.errors import CheckpointError, ConfigError, MnistTuiError, StoreError


@dataclass
class RunOutcome:
    """What a training job left behind, and the sentence to tell the user."""

    name: str | None
    info: ModelInfo | None
    result: TrainResult
    test: Evaluation | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The final metrics `train --json` prints."""
        r = self.result
        return {
            "name": self.name,
            "arch": r.config.arch,
            "dataset": r.config.dataset,
            "epochs_done": r.epochs_done,
            "epochs": r.config.epochs,
            "cancelled": r.cancelled,
            "val_acc": r.val_acc,
            "test_acc": self.test.accuracy if self.test else None,
            "test_loss": self.test.loss if self.test else None,
            "train_seconds": round(r.elapsed_s, 3),
            "images_per_s": round(r.images_per_s, 1),
            "used_ema": r.used_ema,
            "path": str(self.info.path) if self.info else None,
            "message": self.message,
        }

    def to_event(self) -> RunFinished:
        """The run's final event, as the log and `train --events` carry it."""
        known = {f.name for f in fields(RunFinished)}
        return RunFinished(**{k: v for k, v in self.to_dict().items() if k in known})


def _metadata(
    result: TrainResult,
    data: MnistData,
    complete: bool,
    test: Evaluation | None,
    calibration: Calibration | None = None,
) -> dict[str, Any]:
    from mnist_tui.engine.networks import count_params

    cfg = result.config
    return build_metadata(
        arch=cfg.arch,
        dataset=cfg.dataset,
        params=count_params(result.model),
        config=cfg.to_dict(),
        history=result.history,
        epochs_done=result.epochs_done,
        epochs=cfg.epochs,
        complete=complete,
        mean=data.spec.mean,
        std=data.spec.std,
        val_acc=result.val_acc,
        test_acc=test.accuracy if test else None,
        test_loss=test.loss if test else None,
        used_ema=result.used_ema,
        train_seconds=round(result.elapsed_s, 3),
        images_per_s=round(result.images_per_s, 1),
        per_class=test.per_class if test else None,
        **({"calibration": calibration.to_dict()} if calibration else {}),
    )


def prepare(
    cfg: TrainConfig, store: ModelStore, name: str | None, resume: str | None
) -> tuple[TrainConfig, str, dict[str, Any] | None]:
    """Settle the config, the model name and any resume state before any heavy work."""
    if resume:
        info = store.info(resume)
        if info.complete:
            raise ConfigError(
                f"{info.name!r} already finished all {info.epochs} epochs;"
                " there is nothing to resume."
            )
        state = store.load_resume_state(info.name)
        try:
            stored = TrainConfig.from_dict(info.config)
            cfg = stored.resumed_with(cfg).validate()
        except (TypeError, ValueError, ConfigError) as exc:  # a stored value of the wrong type
            detail = f" ({str(exc).rstrip('.')})" if isinstance(exc, ConfigError) else ""
            raise CheckpointError(
                f"The training config stored in {info.name!r} is malformed{detail}, so it cannot"
                " be resumed; train it again from the start."
            ) from None
        return cfg, info.name, state
    cfg.validate()
    runs = Runs(store.root)
    if name:
        if store.path_for(name).exists():
            raise StoreError(
                f"A model named {name!r} already exists; choose another --name or delete it first."
            )
        return cfg, name, None
    return cfg, runs.unique_name(default_run_name(cfg.arch), _exists(store)), None


def _exists(store: ModelStore) -> Callable[[str], bool]:
    return lambda name: store.path_for(name).exists()


def run_training(
    cfg: TrainConfig,
    *,
    store: ModelStore,
    data_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
    resume: str | None = None,
    on_event: EventFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    download: bool = True,
    data: MnistData | None = None,
    detached: bool = False,
) -> RunOutcome:
    """Train, evaluate on the test set, and save to the store under ``name``.

    The run claims its name in the store and writes its events to the store's log for it
    (:mod:`mnist_tui.engine.jobs`), so any face can follow or stop it. ``detached`` runs keep
    the log of a failure for the faces that follow them.

    Every completed epoch of a multi-epoch run is saved as a resumable checkpoint, so a stop,
    a Ctrl+C or even a kill loses at most the epoch in progress.
    """
    unique = not name and not resume  # a default name gets a suffix rather than a clash
    cfg, name, resume_state = prepare(cfg, store, name, resume)
    runs = Runs(store.root)
    store_was_there = runs.root.is_dir()
    # Two claims, both across processes: the store's holds the model name until the run has
    # saved (two runs never save under one name; a default name gets a suffix), and the run's
    # records its state and log so that every face can follow or stop it.
    with store.claim(name, resume=resume is not None, unique=unique) as claim:
        return _run_claimed(
            cfg, store, runs, claim.name, resume, resume_state, on_event, should_stop,
            data_dir, download, data, detached, store_was_there,
        )  # fmt: skip


def _run_claimed(
    cfg: TrainConfig,
    store: ModelStore,
    runs: Runs,
    name: str,
    resume: str | None,
    resume_state: dict[str, Any] | None,
    on_event: EventFn | None,
    should_stop: Callable[[], bool] | None,
    data_dir: str | os.PathLike[str] | None,
    download: bool,
    data: MnistData | None,
    detached: bool,
    store_was_there: bool,
) -> RunOutcome:
    """The run under a claimed name: its state and log, training, and how it ended."""
    # The one call that makes a name this run's across processes (a lock file in the store).
    runs.claim(name, cfg.to_dict(), _exists(store), resume=resume is not None)
    log = RunLog(runs.log_path(name))
    done = len((resume_state or {}).get("history", []))
    log(RunStarted(name, os.getpid(), cfg.to_dict(), epochs_done=done, started=time.time()))

    def emit(event: Any) -> None:
        log(event)
        if on_event is not None:
            on_event(event)

    def stop_asked() -> bool:
        return bool(should_stop and should_stop()) or runs.stop_requested(name)

    try:
        outcome = _train_and_save(
            cfg, store, name, resume_state, emit, stop_asked, data_dir, download, data
        )
    except MnistTuiError as exc:
        log(RunFailed(str(exc)))
        log.close()
        runs.finish(name, "failed", str(exc))
        if not detached and not store.path_for(name).exists():
            # The user read the sentence already; leave no trace of a run that never trained.
            runs.forget(name)
            if not store_was_there:
                runs.remove_if_empty()
        raise
    except BaseException as exc:
        text = "interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__
        log(RunFailed(f"The run ended early ({text}); its completed epochs are in the store."))
        log.close()
        runs.finish(name, "failed", text)
        raise
    emit(outcome.to_event())
    log.close()
    runs.finish(name, "stopped" if outcome.result.cancelled else "finished", outcome.message)
    return outcome


def _train_and_save(
    cfg: TrainConfig,
    store: ModelStore,
    name: str,
    resume_state: dict[str, Any] | None,
    emit: Callable[[Any], None],
    should_stop: Callable[[], bool],
    data_dir: str | os.PathLike[str] | None,
    download: bool,
    data: MnistData | None,
) -> RunOutcome:
    check_machine(cfg)
    if data is None:
        emit(Status(f"Loading {cfg.dataset} data"))
        data = load_dataset(
            cfg.dataset, data_dir, val_size=cfg.val_size, download=download,
            progress=lambda f, d, t: emit(DownloadProgress(f, d, t)),
        )  # fmt: skip
    emit(Status(f"Training {cfg.arch} as {name}"))

    def save_partial(partial: TrainResult) -> None:
        store.save(name, partial.model, _metadata(partial, data, False, None), partial.resume_state)

    result = train(
        cfg, data, on_event=emit, should_stop=should_stop, resume_state=resume_state,
        on_epoch_saved=save_partial,
    )  # fmt: skip
    if result.cancelled:
        if result.epochs_done == 0:
            return RunOutcome(
                None, None, result, None, "Stopped before the first epoch ended; nothing was saved."
            )
        info = store.save(
            name, result.model, _metadata(result, data, False, None), result.resume_state
        )
        return RunOutcome(
            name, info, result, None,
            f"Stopped: kept {name} at epoch {result.epochs_done} of {cfg.epochs}"
            f" (resume with: mnist-tui train --resume {name}).",
        )  # fmt: skip
    emit(Status("Calibrating on the validation split" if len(data.val) else "Calibrating"))
    # A network that learned with random flips answers from the picture and its mirror
    # image (engine/views.py): calibrated and tested as it will answer.
    answers = answering(result.model, learned_mirrors([cfg.to_dict()]))
    calibration = calibrate_run(answers, cfg.to_dict(), data)
    emit(Status("Evaluating on the test set"))
    test = evaluate(
        answers, data.test, data.spec.mean, data.spec.std, worst=0,
        temperature=calibration.temperature,
    )  # fmt: skip
    meta = _metadata(result, data, True, test, calibration)
    message = f"Saved {name}: {test.accuracy:.2%} test accuracy."
    if near_chance(test.accuracy):  # a run that learned nothing is not a normal run
        meta["near_chance"] = True
        message += (
            " That is near chance (10%): the model learned next to nothing; check the data"
            " or try a smaller --lr."
        )
    info = store.save(name, result.model, meta)
    return RunOutcome(name, info, result, test, message)
