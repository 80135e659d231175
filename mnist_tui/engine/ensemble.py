"""Ensembles: several trained networks that the store holds, and the faces use, as one model.

An ensemble's answer is the mean of its members' softmax probabilities (the usual way to
combine independently trained networks; cdeotte's 15-net MNIST ensemble and An et al. 2020 do the
same). :class:`Ensemble` returns the log of that mean, so everything that takes "logits" —
predict, evaluate, number reading, saliency — works unchanged, and a softmax of its output gives
the mean back. Its calibration is a temperature on that output like any model's: the mean of
the members' own temperatures, each fitted on held-out data (never on the test set).

In the store an ensemble is one ``.safetensors`` file: the members' weights under
``members.0.``, ``members.1.``... and, in the metadata, ``"ensemble"``: one entry per member
(its name, architecture, recipe, seed, accuracies and temperature when it was combined).
The weights view shows member 1's first layer; the activations view walks one member at a time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from mnist_tui.engine.calibrate import Calibration
from mnist_tui.engine.members import MAX_MEMBERS, MIN_MEMBERS, Member, ensemble_seeds
from mnist_tui.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from mnist_tui.engine.config import TrainConfig
    from mnist_tui.engine.data import MnistData
    from mnist_tui.engine.store import LoadedModel, ModelInfo, ModelStore


class Ensemble(nn.Module):
    """Members whose probabilities are averaged; ``forward`` returns log(mean probability)."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = torch.stack([m(x).float().softmax(1) for m in self.members]).mean(0)
        # log of a mean of softmaxes: finite for any input (a member's softmax is never all 0)
        return probs.clamp_min(1e-30).log()


def build_ensemble(members: list[Member]) -> Ensemble:
    """A freshly initialised ensemble of the members' architectures (weights loaded after)."""
    from mnist_tui.engine.networks import build_model

    return Ensemble([build_model(m.arch) for m in members])


def member_network(model: nn.Module, index: int) -> nn.Module:
    """Member ``index`` of an ensemble (0-based), or the model itself when it is not one."""
    if isinstance(model, Ensemble):
        return model.members[index % len(model.members)]
    return model


def member_count(model: nn.Module) -> int:
    """How many networks answer together (1 for a single model)."""
    return len(model.members) if isinstance(model, Ensemble) else 1


_FITTED_ON = "mean of the members' temperatures (fitted on: "


def members_calibration(temperatures: list[float], fitted_on: set[str]) -> Calibration:
    """An ensemble's calibration: the mean of its networks' temperatures, saying where they
    were fitted."""
    mean = math.fsum(temperatures) / len(temperatures)
    return Calibration(mean, f"{_FITTED_ON}{'; '.join(sorted(fitted_on))})")


def combine(
    store: ModelStore,
    name: str,
    member_names: list[str],
    data: MnistData | Callable[[str], MnistData],
    *,
    on_status: Callable[[str], None] | None = None,
) -> ModelInfo:
    """Save the models ``member_names`` as one ensemble ``name``, tested on ``data``'s test set.

    Every member must be a finished model of the same data set; an ensemble given as a member
    adds its members (so a shipped ensemble can be grown by more seeds). ``data`` may be a
    function of the members' data-set key that loads it, called only once the members are known
    to fit (a wrong member is refused before any data is read or downloaded). The ensemble's
    temperature is the mean of its networks' temperatures. Raises ConfigError (one sentence)
    otherwise; the members are left as they are.
    """
    from mnist_tui.engine.config import learned_mirrors
    from mnist_tui.engine.evaluate import evaluate
    from mnist_tui.engine.networks import count_params
    from mnist_tui.engine.store import build_metadata
    from mnist_tui.engine.views import answering

    status = on_status or (lambda _s: None)
    if store.path_for(name).exists():
        raise StoreError(
            f"A model named {name!r} already exists; choose another name or delete it first."
        )
    if len(set(member_names)) != len(member_names):
        raise ConfigError("Each model can be a member of an ensemble once; a name is repeated.")
    if len(member_names) == 1:  # one ensemble alone would only be copied under a new name
        raise ConfigError(
            f"An ensemble needs {MIN_MEMBERS} to {MAX_MEMBERS} networks from two or more models;"
            f" name more models to combine with {member_names[0]!r}."
        )
    loaded: list[LoadedModel] = []
    for member in member_names:
        status(f"Loading {member}")
        lm = store.load(member)
        if not lm.info.complete:
            raise ConfigError(
                f"{member!r} stopped at epoch {lm.info.epochs_done} of {lm.info.epochs}; finish it"
                f" (mnist-tui train --resume {member}) before making it a member."
            )
        loaded.append(lm)
    # An ensemble given as a member adds its own members: the result stays flat, one level.
    networks: list[nn.Module] = []
    members: list[Member] = []
    histories: list[list[dict[str, float]]] = []
    fitted_on: set[str] = set()
    for lm in loaded:
        inner = lm.info.members or [Member.of(lm.info)]
        networks += list(lm.model.members) if isinstance(lm.model, Ensemble) else [lm.model]
        members += inner
        histories += [lm.info.history] * len(inner)
        where = lm.info.calibration.fitted_on or "nothing (T=1)"
        if where.startswith(_FITTED_ON) and where.endswith(")"):
            fitted_on.update(where[len(_FITTED_ON) : -1].split("; "))
        else:
            fitted_on.add(where)
    if not MIN_MEMBERS <= len(members) <= MAX_MEMBERS:
        raise ConfigError(
            f"An ensemble needs {MIN_MEMBERS} to {MAX_MEMBERS} networks; {len(members)} given"
            " (an ensemble counts as its members)."
        )
    seen: set[str] = set()
    for m in members:
        if m.name in seen:
            raise ConfigError(
                f"{m.name!r} would be a member twice (an ensemble given holds it too);"
                " leave one of them out."
            )
        seen.add(m.name)
    first = loaded[0].info
    for lm in loaded[1:]:
        if lm.info.dataset != first.dataset or (lm.info.mean, lm.info.std) != (
            first.mean,
            first.std,
        ):
            raise ConfigError(
                f"{lm.info.name!r} was trained on {lm.info.dataset} and {first.name!r} on"
                f" {first.dataset}; an ensemble's members must share one data set."
            )
    if callable(data):
        status(f"Loading the {first.dataset} test set")
        data = data(first.dataset)
    if data.spec.key != first.dataset:
        raise ConfigError(
            f"The members were trained on {first.dataset}, but {data.spec.key} data was given."
        )
    model = Ensemble(networks).eval()
    calibration = members_calibration([m.temperature for m in members], fitted_on)
    temperature = calibration.temperature
    status(f"Evaluating the {len(members)}-member ensemble on the test set")
    answers = answering(model, learned_mirrors([m.config for m in members]))  # engine/views.py
    test = evaluate(answers, data.test, first.mean, first.std, worst=0, temperature=temperature)
    meta = build_metadata(
        arch=first.arch,
        dataset=first.dataset,
        params=count_params(model),
        config=dict(first.config),
        history=mean_history(histories),
        epochs_done=first.epochs_done,
        epochs=first.epochs,
        complete=True,
        mean=first.mean,
        std=first.std,
        val_acc=None,
        test_acc=test.accuracy,
        test_loss=test.loss,
        per_class=test.per_class,
        train_seconds=round(
            math.fsum(float(lm.info.extra.get("train_seconds") or 0) for lm in loaded), 3
        ),
        calibration=calibration.to_dict(),
        ensemble=[m.to_dict() for m in members],
    )
    status(f"Saving {name}")
    with store.claim(name):  # two commands never save one name twice
        if store.path_for(name).exists():
            raise StoreError(f"A model named {name!r} was saved meanwhile; choose another name.")
        return store.save(name, model, meta)


def train_ensemble(
    cfg: TrainConfig,
    count: int,
    *,
    store: ModelStore,
    name: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    on_event: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    download: bool = True,
) -> tuple[ModelInfo | None, str]:
    """`train --ensemble N`: train N members (seeds S..S+N-1, saved as NAME-m1..NAME-mN, one
    after the other as the queue would), then combine them as NAME.

    Returns the ensemble's info (None when a member was stopped) and the sentence to print.
    Members already trained stay in the store whatever happens later.
    """
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.events import Status
    from mnist_tui.engine.runs import run_training
    from mnist_tui.engine.store import default_run_name

    seeds = ensemble_seeds(cfg.seed, count)
    cfg.validate()
    base = name or store.unique_name(default_run_name(cfg.arch))
    names = [f"{base}-m{i + 1}" for i in range(count)]
    for taken in [base, *names]:
        if store.path_for(taken).exists():
            raise ConfigError(
                f"A model named {taken!r} already exists; choose another --name or delete it."
            )
    emit = on_event or (lambda _e: None)
    emit(Status(f"Loading {cfg.dataset} data"))
    data = load_dataset(cfg.dataset, data_dir, val_size=cfg.val_size, download=download)
    for i, (seed, member) in enumerate(zip(seeds, names, strict=True)):
        emit(Status(f"Member {i + 1} of {count}: seed {seed}, saved as {member}"))
        outcome = run_training(
            cfg.with_(seed=seed), store=store, name=member, on_event=on_event,
            should_stop=should_stop, data=data,
        )  # fmt: skip
        if outcome.result.cancelled:
            done = ", ".join(names[:i]) or "none"
            return None, (
                f"{outcome.message} Members finished before the stop: {done}; combine them"
                f" later with: mnist-tui models ensemble {base} MEMBER MEMBER..."
            )
    info = combine(store, base, names, data, on_status=lambda s: emit(Status(s)))
    acc = f"{info.test_acc:.2%}" if info.test_acc is not None else "untested"
    return info, f"Saved {base}: {count}-member ensemble ({', '.join(names)}), {acc} test accuracy."


def mean_history(histories: list[list[dict[str, float]]]) -> list[dict[str, float]]:
    """The members' training curves averaged epoch by epoch (what the Train, Models and Compare
    views draw for an ensemble); only epochs and figures every member has are kept."""
    rows = min((len(h) for h in histories), default=0)
    out: list[dict[str, float]] = []
    for i in range(rows):
        keys = set.intersection(*(set(h[i]) for h in histories))
        row: dict[str, float] = {}
        for key in sorted(keys):
            values = [h[i][key] for h in histories]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                row[key] = math.fsum(values) / len(values)
        if "epoch" in row:
            row["epoch"] = int(row["epoch"])
        out.append(row)
    return out
