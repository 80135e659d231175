"""What an ensemble remembers of its members, readable without importing torch.

The store lists models (and the menu paints) before torch is imported, so the part of an
ensemble that lives in a checkpoint's metadata is here; the network is in
:mod:`mnist_tui.engine.ensemble`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mnist_tui.errors import ConfigError

if TYPE_CHECKING:
    from mnist_tui.engine.store import ModelInfo

MIN_MEMBERS, MAX_MEMBERS = 2, 16


@dataclass(frozen=True)
class Member:
    """What an ensemble remembers of one member."""

    name: str
    arch: str
    seed: int | None
    test_acc: float | None
    val_acc: float | None
    temperature: float
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "arch": self.arch, "seed": self.seed, "test_acc": self.test_acc,
            "val_acc": self.val_acc, "temperature": self.temperature, "config": self.config,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Member:
        seed = raw.get("seed")
        return cls(
            name=str(raw.get("name", "?")),
            arch=str(raw["arch"]),
            seed=int(seed) if seed is not None else None,
            test_acc=None if raw.get("test_acc") is None else float(raw["test_acc"]),
            val_acc=None if raw.get("val_acc") is None else float(raw["val_acc"]),
            temperature=float(raw.get("temperature", 1.0)),
            config=dict(raw.get("config") or {}),
        )

    @classmethod
    def of(cls, info: ModelInfo) -> Member:
        seed = info.config.get("seed")
        return cls(
            info.name, info.arch, int(seed) if isinstance(seed, int) else None, info.test_acc,
            info.val_acc, info.calibration.temperature, dict(info.config),
        )  # fmt: skip


def members_of(meta_value: Any) -> list[Member]:
    """The members recorded in a checkpoint's ``"ensemble"`` metadata ([] for a single model).

    Raises ValueError/KeyError/TypeError on a malformed entry (the store reports it)."""
    if meta_value is None:
        return []
    if not isinstance(meta_value, list) or not MIN_MEMBERS <= len(meta_value) <= MAX_MEMBERS:
        raise ValueError("ensemble members are not a list of 2 to 16")
    return [Member.from_dict(m) for m in meta_value]


def ensemble_seeds(seed: int, count: int) -> list[int]:
    """The members' seeds of `train --ensemble N --seed S`: S, S+1, ... S+N-1."""
    if not MIN_MEMBERS <= count <= MAX_MEMBERS:
        raise ConfigError(f"--ensemble must be from {MIN_MEMBERS} to {MAX_MEMBERS}; got {count}.")
    return [seed + i for i in range(count)]
