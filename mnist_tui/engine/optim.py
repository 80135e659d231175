"""Optimizers and learning-rate schedules: the same arithmetic as ``torch.optim``, without its cost.

Why not ``torch.optim``: creating any ``torch.optim`` optimizer, and every ``step()`` of one,
imports ``torch._dynamo`` (the compiler front end), which takes 1.3 s on the project's 2-core
machine — a fifth of the 6 s budget of the ``fast`` recipe's whole run. The updates here use
multi-tensor (``torch._foreach_*``) kernels and cost about what torch's do per step
(``benchmarks/train_step.py``). The update rules, defaults and
state-dict layout are torch's (``tests/engine/test_optim.py`` checks every optimizer and
schedule against ``torch.optim`` step by step), so resume files written with either load in
the other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch


class Optimizer:
    """One parameter group; ``param_groups``/``state_dict`` shaped as in ``torch.optim``."""

    defaults: dict[str, Any] = {}
    state_keys: tuple[str, ...] = ()
    uses_step = True  # keeps a step count (Adam's bias correction); SGD does not

    def __init__(self, params: Iterable[torch.Tensor], **hyper: Any) -> None:
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        self.param_groups = [{**self.defaults, **hyper}]
        self.steps = 0
        self.buffers: dict[str, list[torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def _grads(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        pairs = [(p, p.grad) for p in self.params if p.grad is not None]
        if len(pairs) != len(self.params):
            raise RuntimeError("every parameter needs a gradient before step()")
        return [p for p, _ in pairs], [g for _, g in pairs]

    def _zeros(self, *names: str) -> None:
        for name in names:
            if name not in self.buffers:
                self.buffers[name] = [
                    torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
                ]

    @torch.no_grad()
    def step(self) -> None:
        params, grads = self._grads()
        self.steps += 1
        self._update(params, grads, self.param_groups[0])

    def _update(
        self, params: list[torch.Tensor], grads: list[torch.Tensor], g: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        group = dict(self.param_groups[0])
        group["params"] = list(range(len(self.params)))
        state: dict[int, dict[str, torch.Tensor]] = {}
        if self.buffers:
            for i in range(len(self.params)):
                keys = [k for k in self.state_keys if k in self.buffers]
                entry = {k: self.buffers[k][i].clone() for k in keys}
                if self.uses_step:
                    entry["step"] = torch.tensor(float(self.steps))
                state[i] = entry
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        groups = sd.get("param_groups") or []
        if len(groups) != 1 or len(groups[0].get("params", [])) != len(self.params):
            raise ValueError("the saved optimizer state does not fit this network")
        self.param_groups[0].update({k: v for k, v in groups[0].items() if k != "params"})
        state = sd.get("state") or {}
        self.buffers = {}
        self.steps = 0
        if not state:
            return
        entries = [state.get(i, state.get(str(i))) for i in range(len(self.params))]
        if any(e is None for e in entries):
            raise ValueError("the saved optimizer state is incomplete")
        for key in self.state_keys:
            if key in entries[0]:
                self.buffers[key] = [
                    e[key].to(device=p.device, dtype=p.dtype).clone()
                    for e, p in zip(entries, self.params, strict=True)
                ]
        if self.uses_step and "step" in entries[0]:
            self.steps = int(float(entries[0]["step"]))


class Adam(Optimizer):
    """``torch.optim.Adam`` (L2 weight decay added to the gradient); ``decoupled`` → AdamW."""

    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}
    state_keys = ("exp_avg", "exp_avg_sq")
    decoupled = False

    def _update(
        self, params: list[torch.Tensor], grads: list[torch.Tensor], g: dict[str, Any]
    ) -> None:
        lr, (beta1, beta2), eps, wd = g["lr"], g["betas"], g["eps"], g["weight_decay"]
        self._zeros("exp_avg", "exp_avg_sq")
        m, v = self.buffers["exp_avg"], self.buffers["exp_avg_sq"]
        if wd:
            if self.decoupled:
                torch._foreach_mul_(params, 1 - lr * wd)
            else:
                grads = torch._foreach_add(grads, params, alpha=wd)
        torch._foreach_lerp_(m, grads, 1 - beta1)
        torch._foreach_mul_(v, beta2)
        torch._foreach_addcmul_(v, grads, grads, 1 - beta2)
        bias1 = 1 - beta1**self.steps
        bias2_sqrt = math.sqrt(1 - beta2**self.steps)
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, bias2_sqrt)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(params, m, denom, -lr / bias1)


class AdamW(Adam):
    """``torch.optim.AdamW``: weight decay applied to the weights, not the gradient."""

    defaults = {**Adam.defaults, "weight_decay": 1e-2}
    decoupled = True


class SGD(Optimizer):
    """``torch.optim.SGD`` with momentum (and Nesterov), L2 weight decay."""

    defaults = {"lr": 1e-2, "momentum": 0.0, "dampening": 0.0, "nesterov": False,
                "weight_decay": 0.0}  # fmt: skip
    state_keys = ("momentum_buffer",)
    uses_step = False

    def _update(
        self, params: list[torch.Tensor], grads: list[torch.Tensor], g: dict[str, Any]
    ) -> None:
        lr, mom, damp, wd = g["lr"], g["momentum"], g["dampening"], g["weight_decay"]
        if wd:
            grads = torch._foreach_add(grads, params, alpha=wd)
        if mom:
            if "momentum_buffer" not in self.buffers:
                self.buffers["momentum_buffer"] = [gr.detach().clone() for gr in grads]
            else:
                buf = self.buffers["momentum_buffer"]
                torch._foreach_mul_(buf, mom)
                torch._foreach_add_(buf, grads, alpha=1 - damp)
            buf = self.buffers["momentum_buffer"]
            grads = torch._foreach_add(grads, buf, alpha=mom) if g["nesterov"] else buf
        torch._foreach_add_(params, grads, alpha=-lr)


class Adadelta(Optimizer):
    """``torch.optim.Adadelta`` (rho 0.9, eps 1e-6), L2 weight decay."""

    defaults = {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}
    state_keys = ("square_avg", "acc_delta")

    def _update(
        self, params: list[torch.Tensor], grads: list[torch.Tensor], g: dict[str, Any]
    ) -> None:
        lr, rho, eps, wd = g["lr"], g["rho"], g["eps"], g["weight_decay"]
        self._zeros("square_avg", "acc_delta")
        sq, acc = self.buffers["square_avg"], self.buffers["acc_delta"]
        if wd:
            grads = torch._foreach_add(grads, params, alpha=wd)
        torch._foreach_mul_(sq, rho)
        torch._foreach_addcmul_(sq, grads, grads, 1 - rho)
        std = torch._foreach_add(sq, eps)
        torch._foreach_sqrt_(std)
        delta = torch._foreach_add(acc, eps)
        torch._foreach_sqrt_(delta)
        torch._foreach_div_(delta, std)
        torch._foreach_mul_(delta, grads)
        torch._foreach_mul_(acc, rho)
        torch._foreach_addcmul_(acc, delta, delta, 1 - rho)
        torch._foreach_add_(params, delta, alpha=-lr)


class Schedule:
    """A learning-rate schedule that sets ``lr`` (and the momentum) of an optimizer's group.

    ``step()`` advances one unit (a batch or an epoch, as the caller uses it); the state is
    ``{"last_epoch": n}``, the key ``torch.optim.lr_scheduler`` uses for the same count.
    """

    def __init__(self, opt: Optimizer) -> None:
        self.opt = opt
        self.base_lr = opt.param_groups[0]["lr"]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, n: int) -> float:
        raise NotImplementedError

    def momentum_at(self, n: int) -> float | None:
        return None

    def _apply(self) -> None:
        group = self.opt.param_groups[0]
        group["lr"] = self.lr_at(self.last_epoch)
        mom = self.momentum_at(self.last_epoch)
        if mom is not None:
            if "betas" in group:
                group["betas"] = (mom, *group["betas"][1:])
            else:
                group["momentum"] = mom

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        self.last_epoch = int(sd["last_epoch"])
        self._apply()


def _cos_anneal(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


class OneCycle(Schedule):
    """``OneCycleLR`` (cosine, two phases): warm up from max/``div`` over ``pct_start`` of the
    steps, anneal to max/(``div``·1e4); momentum (Adam's beta1) cycles 0.95 → 0.85 → 0.95."""

    def __init__(
        self,
        opt: Optimizer,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.25,
        div_factor: float = 10.0,
        final_div_factor: float = 1e4,
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
    ) -> None:
        self.max_lr, self.total = max_lr, total_steps
        self.initial = max_lr / div_factor
        self.final = self.initial / final_div_factor
        self.turn = float(pct_start * total_steps) - 1
        self.cycle = cycle_momentum
        self.base_mom, self.max_mom = base_momentum, max_momentum
        super().__init__(opt)

    def _where(self, n: int) -> tuple[float, bool]:
        """How far step ``n`` is through its phase (0-1), and whether that is the warm-up."""
        n = min(n, self.total - 1)
        warm = n <= self.turn
        start, end = (0.0, self.turn) if warm else (self.turn, self.total - 1.0)
        return ((n - start) / (end - start) if end > start else 1.0), warm

    def lr_at(self, n: int) -> float:
        pct, warm = self._where(n)
        if warm:
            return _cos_anneal(self.initial, self.max_lr, pct)
        return _cos_anneal(self.max_lr, self.final, pct)

    def momentum_at(self, n: int) -> float | None:
        if not self.cycle:
            return None
        pct, warm = self._where(n)
        if warm:
            return _cos_anneal(self.max_mom, self.base_mom, pct)
        return _cos_anneal(self.base_mom, self.max_mom, pct)


class Cosine(Schedule):
    """``CosineAnnealingLR`` to zero over ``total`` steps."""

    def __init__(self, opt: Optimizer, total: int) -> None:
        self.total = total
        super().__init__(opt)

    def lr_at(self, n: int) -> float:
        return self.base_lr * (1 + math.cos(math.pi * min(n, self.total) / self.total)) / 2


class StepDecay(Schedule):
    """``StepLR(step_size=1)``: the rate times ``gamma`` after every epoch."""

    def __init__(self, opt: Optimizer, gamma: float = 0.7) -> None:
        self.gamma = gamma
        super().__init__(opt)

    def lr_at(self, n: int) -> float:
        return self.base_lr * self.gamma**n
