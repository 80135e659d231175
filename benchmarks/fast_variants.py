"""Variants of the `fast` recipe for issue #13's time to 99%, side by side in one process.

Each variant trains with the loop `engine.train` runs (the same optimizer, one-cycle schedule,
channels-last tensors and allocator setting, the 5,000-image validation split held out), for
every seed, and reports the median training time (the loop alone: no imports, data or
evaluation, which every variant shares) and validation and test accuracy. Choices are read off
the validation column; the test column is what the issue's goal (>= 99.0% on every one of 5
seeds) is judged by. Runs take turns variant by variant, so drift in the machine's speed hits
every variant alike; on this machine single runs still vary by 10-20%.

    python benchmarks/fast_variants.py --data-dir ../shared/data              # every variant
    python benchmarks/fast_variants.py --only recipe pool --seeds 5

Variants: `recipe` is the shipped `fast` recipe (2 epochs); the others change one thing. `pool`
puts a 2x2 max-pool after the first convolution and a 32-channel stride-1 second convolution on
the 5x5 maps it leaves (twice the second layer's work), trained for 1 epoch.

Thirteenth session (`--only` the names below; the issue's list of ideas to measure):
- `muon`: Muon (Jordan et al. 2024: SGD-momentum 0.95, Nesterov, each update orthogonalised by
  5 Newton-Schulz steps) for the convolutions and the hidden dense layer, Adam for the rest;
  `muon, convolutions only` leaves the dense layer to Adam (its 128x400 update is most of the
  orthogonalisation's work);
- `lookahead`: Lookahead (Zhang et al. 2019) around Adam, k = 5, alpha = 0.5;
- `hard pools`: one plain epoch, then each step learns a full batch, the hardest of a pool of
  batch/share images by their stored losses (the `focus` idea with every step kept full);
- `no first batch norm`: drops the batch norm after the first convolution (15% of a step).

Sixteenth session: `progressive` (progressive input size, the one idea of the issue's list no
session had run): the first ``low`` epochs see the central 20x20 averaged down to 10x10 (5x5
maps after the fold, a quarter of the convolutions' work), the rest the full 20x20. An adaptive
average pool to 5x5 before the dense head lets one network take both sizes; at 20x20 it is the
identity, so the trained network is `fast`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VARIANTS: dict[str, dict[str, object]] = {
    "recipe": {"epochs": 2},
    "1 epoch": {"epochs": 1},
    "1 epoch, Adam betas (0.7, 0.9)": {"epochs": 1, "betas": (0.7, 0.9)},
    "1 epoch, batch 128, lr 0.01": {"epochs": 1, "batch": 128, "lr": 0.01},
    "1 epoch, lr 0.03": {"epochs": 1, "lr": 0.03},
    "1 epoch, hidden 256": {"epochs": 1, "hidden": 256},
    "1 epoch, first conv 16": {"epochs": 1, "c1": 16},
    "pool": {"epochs": 1, "pool": True, "c2": 32},
    "pool, second conv 64": {"epochs": 1, "pool": True, "c2": 64},
    "pool, 1.25 epochs": {"epochs": 1.25, "pool": True, "c2": 32},
    "batch 512, lr 0.03": {"batch": 512, "lr": 0.03},
    "muon": {"opt": "muon"},
    "muon, 1.5 epochs": {"opt": "muon", "epochs": 1.5},
    "muon, convolutions only": {"opt": "muon", "muon_dense": False},
    "lookahead": {"opt": "lookahead"},
    "1.5 epochs": {"epochs": 1.5},
    "1 + 1 epoch of hard pools, share 0.5": {"epochs": 1, "hard": 1, "share": 0.5},
    "1 + 1 epoch of hard pools, share 0.33": {"epochs": 1, "hard": 1, "share": 0.33},
    "no first batch norm": {"bn1": False},
    "progressive: 1 epoch at 10x10, 1 at 20x20": {"epochs": 2, "low": 1},
    "progressive: 0.75 at 10x10, 1 at 20x20": {"epochs": 1.75, "low": 0.75},
    "progressive: 1.5 at 10x10, 1 at 20x20": {"epochs": 2.5, "low": 1.5},
}


def network(  # noqa: ANN201
    c1: int = 32,
    c2: int = 16,
    hidden: int = 128,
    pool: bool = False,
    bn1: bool = True,
    adaptive: bool = False,
):
    """`fast`'s network (engine/networks.py `_folded` on the central 20x20), or its pooled
    variant."""
    from torch import nn

    from mnist_tui.engine.networks import CenterCrop

    second = (
        [nn.MaxPool2d(2), nn.Conv2d(c1, c2, 3, padding=1)]
        if pool
        else [nn.Conv2d(c1, c2, 3, stride=2, padding=1)]
    )
    return nn.Sequential(
        CenterCrop(20), nn.PixelUnshuffle(2),
        nn.Conv2d(4, c1, 3, padding=1), *([nn.BatchNorm2d(c1)] if bn1 else []), nn.ReLU(),
        *second, nn.BatchNorm2d(c2), nn.ReLU(),
        *([nn.AdaptiveAvgPool2d(5)] if adaptive else []), nn.Flatten(),
        nn.Linear(c2 * 25, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 10),
    )  # fmt: skip


def orthogonalised(g):  # noqa: ANN001, ANN201
    """Muon's quintic Newton-Schulz iteration: ``g``'s nearest semi-orthogonal matrix, roughly
    (the coefficients and 5 steps of Jordan et al.'s reference)."""
    a, b, c = 3.4445, -4.7750, 2.0315
    x = g / (g.norm() + 1e-7)
    tall = g.shape[0] > g.shape[1]
    if tall:
        x = x.T
    for _ in range(5):
        s = x @ x.T
        x = a * x + (b * s + c * (s @ s)) @ x
    return x.T if tall else x


class Muon:
    """Muon for 2-D and convolution weights: Nesterov momentum 0.95, the update orthogonalised
    and scaled by sqrt(max(1, rows/columns)); the learning rate follows Adam's one-cycle."""

    def __init__(self, params, lr: float, momentum: float = 0.95) -> None:  # noqa: ANN001
        import torch

        self.params, self.lr, self.momentum = params, lr, momentum
        self.bufs = [torch.zeros_like(p) for p in params]

    def step(self, scale: float) -> None:
        import torch

        with torch.no_grad():
            for p, buf in zip(self.params, self.bufs, strict=True):
                buf.mul_(self.momentum).add_(p.grad)
                g = p.grad.add(buf, alpha=self.momentum).reshape(p.shape[0], -1)
                step = self.lr * scale * max(1.0, g.shape[0] / g.shape[1]) ** 0.5
                p.add_(orthogonalised(g).view_as(p), alpha=-step)


def accuracy(model, split) -> float:  # noqa: ANN001
    import torch

    model.eval()
    x = torch.from_numpy(split.images).unsqueeze(1).float().div_(255).sub_(0.1307).div_(0.3081)
    y = torch.from_numpy(split.labels)
    with torch.inference_mode():
        right = sum(
            int((model(x[s : s + 2000]).argmax(1) == y[s : s + 2000]).sum())
            for s in range(0, len(y), 2000)
        )
    return right / len(y)


def train_once(  # noqa: ANN201
    data,  # noqa: ANN001
    seed: int,
    epochs: float = 2,
    batch: int = 256,
    lr: float = 0.02,
    betas: tuple[float, float] = (0.9, 0.999),
    opt: str = "adam",
    muon_dense: bool = True,
    hard: float = 0,
    share: float = 1.0,
    low: float = 0,
    **arch: object,
):
    """One run: (training seconds, validation accuracy, test accuracy).

    ``hard`` > 0: after ``epochs`` plain epochs, ``hard`` epochs' worth of pools of
    batch/``share`` images, each step learning the batch of the pool's highest stored losses.
    ``low`` > 0: the first ``low`` of the ``epochs`` see the central 20x20 averaged to 10x10."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from mnist_tui.engine import optim

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = network(adaptive=low > 0, **arch).to(memory_format=torch.channels_last)  # type: ignore[arg-type]
    small = model[1:]  # everything after the crop: what a 10x10 picture goes through
    params = list(model.parameters())
    muon = None
    if opt == "muon":  # every weight matrix but the output layer's (Muon's own advice)
        mats = [p for p in params if p.ndim >= (2 if muon_dense else 4)]
        mats = mats[:-1] if muon_dense else mats
        muon = Muon(mats, lr=0.02)
        params = [p for p in params if all(p is not m for m in mats)]
    adam = optim.Adam(params, lr=lr, betas=betas)
    slow = [p.detach().clone() for p in model.parameters()] if opt == "lookahead" else None
    n = len(data.train)
    per_epoch = n // batch
    pool = int(batch / share)
    plain = int(round(epochs * per_epoch))
    low_steps = int(round(low * per_epoch))
    total = plain + int(round(hard * (n // pool)))
    schedule = optim.OneCycle(adam, lr, total)
    losses = torch.zeros(n)
    images = torch.from_numpy(np.ascontiguousarray(data.train.images)).unsqueeze(1)
    labels = torch.from_numpy(data.train.labels)
    model.train()
    t0 = time.perf_counter()
    step = 0
    while step < total:
        order = torch.randperm(n, generator=gen)
        draw = batch if step < plain else pool
        for b in range(min(n // draw, total - step)):
            idx = order[b * draw : (b + 1) * draw]
            if draw > batch:
                idx = idx[losses[idx].topk(batch, sorted=False).indices]
            x = images[idx].float().div_(255).sub_(0.1307).div_(0.3081)
            if step < low_steps:
                out = small(F.avg_pool2d(x[:, :, 4:24, 4:24], 2))
            else:
                out = model(x)
            each = F.cross_entropy(out, labels[idx], reduction="none")
            losses[idx] = each.detach()
            adam.zero_grad(set_to_none=True)
            each.mean().backward()
            if muon is not None:
                muon.step(adam.param_groups[0]["lr"] / lr)
                for p in muon.params:
                    p.grad = None
            adam.step()
            schedule.step()
            step += 1
            if slow is not None and step % 5 == 0:
                with torch.no_grad():
                    torch._foreach_lerp_(slow, list(model.parameters()), 0.5)
                    torch._foreach_copy_(list(model.parameters()), slow)
    seconds = time.perf_counter() - t0
    return seconds, accuracy(model, data.val), accuracy(model, data.test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--only", nargs="*", help="variant names (default: all)")
    args = parser.parse_args()

    import torch

    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.train import keep_freed_memory

    keep_freed_memory()
    torch.set_num_threads(args.threads)
    data = load_dataset("mnist", args.data_dir, val_size=5000, download=False)
    chosen = {k: v for k, v in VARIANTS.items() if not args.only or k in args.only}
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in chosen}
    for seed in range(args.seeds):
        for name, settings in chosen.items():
            results[name].append(train_once(data, seed, **settings))  # type: ignore[arg-type]
    print(
        f"{'variant':<32} {'training':>9} {'val mean':>9} {'test mean':>10} {'test min':>9}  test"
    )
    for name, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        val = statistics.mean(r[1] for r in runs)
        tests = [r[2] for r in runs]
        print(f"{name:<32} {seconds:>8.2f}s {val:>9.2%} {statistics.mean(tests):>10.2%}"
              f" {min(tests):>9.2%}  {json.dumps([round(t * 100, 2) for t in tests])}")  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
