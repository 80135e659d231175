"""Our optimizers and schedules against torch.optim, step by step, and what they save us."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from procs import last_json_line
from torch import nn

from mnist_tui.engine import optim

CASES: dict[str, tuple[Callable[..., optim.Optimizer], Callable[..., torch.optim.Optimizer], dict]]
CASES = {
    "adam": (optim.Adam, torch.optim.Adam, {"lr": 3e-3}),
    "adam-l2": (optim.Adam, torch.optim.Adam, {"lr": 3e-3, "weight_decay": 1e-2}),
    "adamw": (optim.AdamW, torch.optim.AdamW, {"lr": 3e-3, "weight_decay": 5e-2}),
    "sgd-nesterov": (
        optim.SGD,
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
    ),
    "sgd-plain": (optim.SGD, torch.optim.SGD, {"lr": 0.05}),
    "adadelta": (optim.Adadelta, torch.optim.Adadelta, {"lr": 1.0, "weight_decay": 1e-3}),
}


def _net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10)
    ).to(memory_format=torch.channels_last)


def _batches(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g))
            for _ in range(n)]  # fmt: skip


def _train(model: nn.Module, opt: object, batches: list, sched: object = None) -> list[float]:
    lrs = []
    for x, y in batches:
        opt.zero_grad(set_to_none=True)  # type: ignore[attr-defined]
        F.cross_entropy(model(x), y).backward()
        opt.step()  # type: ignore[attr-defined]
        lrs.append(opt.param_groups[0]["lr"])  # type: ignore[attr-defined]
        if sched is not None:
            sched.step()  # type: ignore[attr-defined]
    return lrs


def _assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6, msg=f"{name} differs")


@pytest.mark.parametrize("case", CASES)
def test_every_optimizer_follows_torch_step_by_step(case: str) -> None:
    ours_cls, torch_cls, hyper = CASES[case]
    a, b = _net(), _net()
    batches = _batches(25)
    _train(a, ours_cls(a.parameters(), **hyper), batches)
    _train(b, torch_cls(b.parameters(), **hyper), batches)
    _assert_same_weights(a, b)
    assert not torch.equal(a[0].weight, _net()[0].weight)  # it did move


@pytest.mark.parametrize("case", ["adam-l2", "sgd-nesterov", "adadelta"])
def test_state_dicts_cross_between_ours_and_torch(case: str) -> None:
    """A resume file written by either optimizer continues in the other (old resume files)."""
    ours_cls, torch_cls, hyper = CASES[case]
    first, second = _batches(20)[:10], _batches(20)[10:]
    a, b, c = _net(), _net(), _net()
    ours, theirs = ours_cls(a.parameters(), **hyper), torch_cls(b.parameters(), **hyper)
    _train(a, ours, first)
    _train(b, theirs, first)
    c.load_state_dict(b.state_dict())
    carried = ours_cls(c.parameters(), **hyper)
    carried.load_state_dict(theirs.state_dict())  # torch -> ours
    back = torch_cls(b.parameters(), **hyper)
    back.load_state_dict(ours.state_dict())  # ours -> torch
    b.load_state_dict(a.state_dict())
    _train(a, ours, second)
    _train(b, back, second)
    _train(c, carried, second)
    _assert_same_weights(a, b)
    _assert_same_weights(a, c)


def test_a_state_dict_for_another_network_is_refused() -> None:
    opt = optim.Adam(_net().parameters())
    with pytest.raises(ValueError, match="does not fit"):
        opt.load_state_dict(optim.Adam(nn.Linear(2, 2).parameters()).state_dict())


@pytest.mark.parametrize(
    "name, cycle",
    [("onecycle", True), ("onecycle", False), ("cosine", False), ("step", False)],
)
@pytest.mark.parametrize("opt_name", ["adam-l2", "sgd-nesterov"])
def test_schedules_follow_torch(name: str, cycle: bool, opt_name: str) -> None:
    ours_cls, torch_cls, hyper = CASES[opt_name]
    total = 30
    a, b = _net(), _net()
    ours, theirs = ours_cls(a.parameters(), **hyper), torch_cls(b.parameters(), **hyper)
    lr = hyper["lr"]
    if name == "onecycle":
        s1 = optim.OneCycle(ours, lr, total, cycle_momentum=cycle)
        s2 = torch.optim.lr_scheduler.OneCycleLR(
            theirs, lr, total_steps=total, pct_start=0.25, div_factor=10, cycle_momentum=cycle
        )
    elif name == "cosine":
        s1 = optim.Cosine(ours, total)
        s2 = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, total)
    else:
        s1 = optim.StepDecay(ours, 0.7)
        s2 = torch.optim.lr_scheduler.StepLR(theirs, step_size=1, gamma=0.7)
    batches = _batches(total)
    lrs1 = _train(a, ours, batches, s1)
    lrs2 = _train(b, theirs, batches, s2)
    assert lrs1 == pytest.approx(lrs2, rel=1e-6)
    assert len(set(lrs1)) > 5  # the rate did change
    _assert_same_weights(a, b)


def test_schedule_resumes_where_it_stopped() -> None:
    opt = optim.Adam(_net().parameters(), lr=0.01)
    whole = optim.OneCycle(opt, 0.01, 20)
    seq = []
    for _ in range(20):
        seq.append(opt.param_groups[0]["lr"])
        whole.step()
    opt2 = optim.Adam(_net().parameters(), lr=0.01)
    first = optim.OneCycle(opt2, 0.01, 20)
    for _ in range(8):
        first.step()
    later = optim.OneCycle(opt2, 0.01, 20)
    later.load_state_dict(first.state_dict())
    rest = []
    for _ in range(12):
        rest.append(opt2.param_groups[0]["lr"])
        later.step()
    assert rest == pytest.approx(seq[8:])


def test_training_never_imports_the_compiler(tmp_path: Path, data_dir: Path) -> None:
    """torch.optim pulls in torch._dynamo (1.3 s of a 6 s fast run); our training must not."""
    code = (
        "import json, sys\n"
        "from mnist_tui.engine.config import TrainConfig\n"
        "from mnist_tui.engine.data import load_dataset\n"
        "from mnist_tui.engine.train import train\n"
        f"data = load_dataset('mnist', {str(data_dir)!r}, val_size=100, download=False)\n"
        "for opt in ('adam', 'adamw', 'sgd', 'adadelta'):\n"
        "    cfg = TrainConfig(arch='fast', epochs=1, batch_size=64, optimizer=opt, ema=0.9,\n"
        "                      scheduler='onecycle', val_size=100, threads=1)\n"
        "    train(cfg, data)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('torch._dynamo'))))\n"
    )
    assert last_json_line(code) == []
