"""Training configuration as plain data, and the recipe each architecture trains with by default.

No torch here: the TUI's training form reads these defaults before torch is imported.
"""

from __future__ import annotations

import json
from dataclasses import Field, asdict, dataclass, field, fields, replace
from typing import Any

from mnist_tui.engine.archs import ARCH_INFO, arch_info
from mnist_tui.errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "sgd", "adadelta")
SCHEDULERS = ("none", "step", "onecycle", "cosine")
DEVICES = ("auto", "cpu", "cuda", "mps")
# The arithmetic of training steps: `auto` is bfloat16 on a CPU with AMX (Intel Xeon 4th
# generation on), where a `best` step runs 1.7x faster (BENCHMARKS.md §1), float32 elsewhere.
PRECISIONS = ("auto", "float32", "bfloat16")
DATASET_KEYS = ("mnist", "fashion")


@dataclass(frozen=True)
class Setting:
    """How one TrainConfig field is offered: its help, its bounds, and the form widget.

    The CLI's `train` flags, the TUI's training form and :meth:`TrainConfig.validate` are all
    derived from these, so a new field is declared once and appears everywhere.
    """

    label: str  # short, for the form and error sentences ("Batch size")
    help: str
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    high_open: bool = False  # the upper bound itself is not allowed ([low, high))
    low_open: bool = False  # the lower bound itself is not allowed
    rule: str = ""  # the bounds in words, for the error sentence
    # A property of the machine, not of the run (device, threads): not on the TUI
    # form (the app's options decide it), and free to change when a run is resumed elsewhere.
    machine: bool = False

    @property
    def form(self) -> bool:
        """Whether the TUI's training form offers it."""
        return not self.machine


def _opt(default: Any, label: str, help: str, **kw: Any) -> Any:
    return field(default=default, metadata={"setting": Setting(label, help, **kw)})


def setting(f: Field[Any]) -> Setting:
    """The :class:`Setting` declared on a TrainConfig field."""
    return f.metadata["setting"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; same config and seed → same model on CPU."""

    arch: str = _opt("fast", "Network", "architecture", choices=tuple(ARCH_INFO))
    dataset: str = _opt("mnist", "Data set", "data set", choices=DATASET_KEYS)
    epochs: int = _opt(1, "Epochs", "passes over the training set", low=1, high=1000,
                       rule="a whole number from 1 to 1000")  # fmt: skip
    # 512 keeps a CPU run of the largest network under 1.5 GB (1.3 GB peak measured).
    batch_size: int = _opt(128, "Batch size", "images per step", low=1, high=512,
                           rule="from 1 to 512")  # fmt: skip
    optimizer: str = _opt("adam", "Optimizer", "optimizer", choices=OPTIMIZERS)
    lr: float = _opt(1e-3, "Learning rate", "(peak) learning rate", low=0, high=10,
                     low_open=True, rule="above 0 and at most 10")  # fmt: skip
    scheduler: str = _opt("onecycle", "Scheduler", "learning-rate schedule", choices=SCHEDULERS)
    augment: bool = _opt(False, "Augment", "random affine augmentation of each batch")
    flip: bool = _opt(False, "Flip", "random left-right flips (for clothes, never digits)")
    # Random erasing (train.erase_batch): the share of pictures with one box blanked by noise.
    erase: float = _opt(0.0, "Erase", "share of pictures with a random box erased (0 = off)",
                        low=0, high=1, rule="between 0 and 1")  # fmt: skip
    # With augment: elastic distortion strength (Simard et al. 2003); 0 = off.
    elastic: float = _opt(0.0, "Elastic", "elastic distortion strength in pixels (with augment)",
                          low=0, high=100, rule="between 0 and 100")  # fmt: skip
    label_smoothing: float = _opt(0.0, "Label smoothing", "label smoothing", low=0, high=1,
                                  high_open=True, rule="at least 0 and below 1")  # fmt: skip
    weight_decay: float = _opt(0.0, "Weight decay", "weight decay", low=0, high=1,
                               high_open=True, rule="at least 0 and below 1")  # fmt: skip
    # Decay of an exponential moving average of the weights; 0 = off.
    ema: float = _opt(0.0, "EMA decay", "EMA decay of the weights (0 = off)", low=0, high=1,
                      high_open=True, rule="at least 0 and below 1")  # fmt: skip
    # Selective backprop: after the first epoch each step learns only from this share of its
    # batch, the images whose loss was highest when last learned from (train._learns).
    focus: float = _opt(1.0, "Focus", "after epoch 1, learn from this hardest share of each batch",
                        low=0, high=1, low_open=True, rule="above 0 and at most 1")  # fmt: skip
    # The arithmetic of the training steps (train.training_dtype); `auto` is what `best` uses.
    precision: str = _opt("float32", "Precision",
                          "training arithmetic (auto: bfloat16 on CPUs with AMX, else float32)",
                          choices=PRECISIONS)  # fmt: skip
    seed: int = _opt(0, "Seed", "random seed", low=0, high=2**63 - 1,
                     rule="a whole number, 0 or more")  # fmt: skip
    device: str = _opt("auto", "Device", "where to compute", choices=DEVICES, machine=True)
    threads: int = _opt(0, "Threads", "CPU threads (0 = all cores)", low=0, high=1024,
                        machine=True, rule="between 0 (all cores) and 1024")  # fmt: skip
    val_size: int = _opt(5000, "Validation size", "validation images held out of training", low=0,
                         high=50000, rule="between 0 and 50,000")  # fmt: skip

    def validate(self) -> TrainConfig:
        """Return self, or raise a ConfigError naming the first invalid value."""
        arch_info(self.arch)
        for f in fields(self):
            problem = check_value(f, getattr(self, f.name))
            if problem:
                raise ConfigError(f"Invalid training option: {problem}.")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data, as stored in checkpoint metadata."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from stored metadata, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        """The config as one JSON object: how a run process is told what to train."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        """Parse :meth:`to_json`'s output strictly (an unknown key is an error), and validate."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError("The run's config is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ConfigError("The run's config must be a JSON object.")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(
                f"The run's config has unknown settings: {', '.join(sorted(unknown))}."
            )
        try:
            return cls(**data).validate()
        except TypeError as exc:
            raise ConfigError(f"The run's config is not usable ({exc}).") from None

    def resumed_with(self, here: TrainConfig) -> TrainConfig:
        """This stored run's config, continued with ``here``'s machine settings (device and
        threads): everything else defines the run and stays."""
        return replace(self, **{f.name: getattr(here, f.name) for f in machine_fields()})

    def with_(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed; None values are ignored (unset CLI flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def learned_mirrors(configs: list[dict[str, Any]]) -> bool:
    """Whether every network, by its stored training config, learned with random left-right
    flips, and so answers from a picture and its mirror image (engine/views.py)."""
    return bool(configs) and all(c.get("flip") is True for c in configs)


def machine_fields() -> list[Field[Any]]:
    """The fields that belong to the machine rather than the run (:attr:`Setting.machine`)."""
    return [f for f in fields(TrainConfig) if setting(f).machine]


def check_value(f: Field[Any], value: Any) -> str | None:
    """Why ``value`` is not allowed for field ``f`` (lower-case words), or None when it is."""
    s = setting(f)
    name = s.label if s.label[:2].isupper() else s.label[0].lower() + s.label[1:]
    if f.name == "arch":
        return None if value in ARCH_INFO else f"unknown architecture {value!r}"
    if s.choices is not None:
        return None if value in s.choices else f"{name} must be one of {', '.join(s.choices)}"
    if f.type == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false"
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if f.type == "int" and not isinstance(value, int):
        numeric = False
    if not numeric or (isinstance(value, float) and value != value):
        return f"{name} must be {s.rule or 'a number'}"
    too_low = s.low is not None and (value <= s.low if s.low_open else value < s.low)
    too_high = s.high is not None and (value >= s.high if s.high_open else value > s.high)
    return f"{name} must be {s.rule}" if too_low or too_high else None


# Each architecture's default recipe. `fast` and `best` were chosen on the validation split
# (see BENCHMARKS.md); the seeds' recipes are theirs.
RECIPES: dict[str, TrainConfig] = {
    "fast": TrainConfig(
        arch="fast", epochs=2, batch_size=256, optimizer="adam", lr=0.02, scheduler="onecycle"
    ),
    "best": TrainConfig(
        arch="best",
        epochs=30,
        batch_size=128,
        optimizer="adamw",
        lr=3e-3,
        scheduler="onecycle",
        augment=True,
        label_smoothing=0.1,
        weight_decay=5e-4,
        ema=0.999,
        # bfloat16 on a CPU with AMX (float32 elsewhere): validation 99.44% against 99.43% in
        # float32 (seeds 0-2), each run 0.6-0.7x the time (BENCHMARKS.md §2).
        precision="auto",
        # Every setting above was chosen on the 5,000-image validation split; the recipe then
        # trains on all 60,000 images (EMA weights kept), the usual last step. See BENCHMARKS.md.
        val_size=0,
    ),
    "classic": TrainConfig(arch="classic", epochs=5, batch_size=64, lr=1e-3, scheduler="none"),
    "era": TrainConfig(
        arch="era", epochs=10, batch_size=64, optimizer="sgd", lr=0.05, scheduler="step"
    ),
    "keras3": TrainConfig(arch="keras3", epochs=5, batch_size=64, lr=1e-3, scheduler="none"),
    "keras2": TrainConfig(arch="keras2", epochs=10, batch_size=128, lr=1e-3, scheduler="none"),
    "dropout": TrainConfig(
        arch="dropout", epochs=14, batch_size=64, optimizer="adadelta", lr=1.0, scheduler="step"
    ),
}
# `fastfull` is `fast` without the crop, `wide` is `best` twice as wide; on MNIST each trains
# with the recipe of the network it grew from.
RECIPES["fastfull"] = RECIPES["fast"].with_(arch="fastfull")
RECIPES["wide"] = RECIPES["best"].with_(arch="wide")
assert set(RECIPES) == set(ARCH_INFO)


# Data sets whose images are not centred digits get recipes of their own (chosen on their
# validation split, BENCHMARKS.md §8); an architecture without one here trains with its MNIST
# recipe on them.
DATASET_RECIPES: dict[str, dict[str, TrainConfig]] = {
    "fashion": {
        # `fast` crops MNIST's central 20x20, which cuts clothes' edges off: the full-frame net.
        # 4 epochs at Adam 0.01 scored 91.98% on the validation split against 91.34-91.58% for
        # 3 epochs, flips or lr 0.02 (flips pay only over longer runs); label smoothing 0.1
        # 91.85% mean of seeds 0-2 against 91.71% (lowest seed 91.82% against 91.58%), at no
        # cost in time; 3 epochs with it 91.36-91.55%. Focus 0.4 over 5 epochs (after the first,
        # each batch learns from its hardest 40%): 92.19% against 92.05% for 4 plain epochs, in
        # 28% less training time; focus 0.5 over 4 epochs 91.89%, 0.3 over 6 91.97% (§8).
        "fast": RECIPES["fast"].with_(
            arch="fastfull", dataset="fashion", epochs=5, lr=0.01, label_smoothing=0.1, focus=0.4
        ),
        # MNIST's best recipe on clothes, its validation split kept (it calibrates the model),
        # with left-right flips in place of the random affine warps, which bend clothes out of
        # shape: validation 93.45% mean of seeds 0-2 against 92.88% (seed 0) for MNIST's
        # augmentation; 60 epochs tied (93.55%) at twice the time. Random erasing of half the
        # pictures, at no cost in time: 93.71% against 93.47% (seeds 0-2, every seed as high or
        # higher; BENCHMARKS.md §8).
        # The network twice as wide (`wide`, 788,490 parameters against 198,666): validation
        # 94.43% mean of seeds 0-2 against 93.55% for `best` (both bfloat16 on an AMX CPU;
        # 93.71% in float32 on an AMD one), every seed higher, at 2.4x the time (§8).
        "best": RECIPES["best"].with_(
            arch="wide", dataset="fashion", val_size=5000, augment=False, flip=True, erase=0.5
        ),
    },
}
# Fashion's `best` trains `wide`; asked for by its own name, `wide` gets the same recipe.
DATASET_RECIPES["fashion"]["wide"] = DATASET_RECIPES["fashion"]["best"]
assert all(set(r) <= set(ARCH_INFO) for r in DATASET_RECIPES.values())
assert all(c.dataset == d for d, r in DATASET_RECIPES.items() for c in r.values())


def recipe_key(arch: str) -> str:
    """The recipe name a network is trained under on some data set (`fastfull` is Fashion's
    `fast`, `wide` its `best`), so a form switching data sets keeps to the same recipe."""
    for recipes in DATASET_RECIPES.values():
        for key, cfg in recipes.items():
            if cfg.arch == arch and key != arch:
                return key
    return arch


def recipe(arch: str, dataset: str = "mnist") -> TrainConfig:
    """The default training config for an architecture on a data set."""
    arch_info(arch)
    own = DATASET_RECIPES.get(dataset, {}).get(arch)
    return own if own is not None else RECIPES[arch].with_(dataset=dataset)
