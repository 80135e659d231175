"""The training loop: tensors in memory, batches by index, events out, cancellable between batches.

It stays as direct as pytorch/examples' mnist/main.py: build, loop over epochs and batches,
validate. Events (:class:`BatchProgress`, :class:`EpochEnd`) and ``should_stop`` wrap the loop
without hiding it.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mnist_tui.engine import optim
from mnist_tui.engine.config import TrainConfig
from mnist_tui.engine.data import MnistData, Split
from mnist_tui.engine.events import (  # noqa: F401 - Status, DownloadProgress re-exported
    BatchProgress,
    DownloadProgress,
    EpochEnd,
    Event,
    Status,
)
from mnist_tui.engine.networks import build_model
from mnist_tui.errors import CheckpointError, ConfigError, DivergedError

# Below twice chance (10 classes: 20%) a finished run has learned next to nothing; say so.
NEAR_CHANCE = 0.2


def near_chance(accuracy: float | None) -> bool:
    """Whether a test accuracy is so low the model learned next to nothing."""
    return accuracy is not None and accuracy < NEAR_CHANCE


def _diverged(cfg: TrainConfig, epoch: int, where: str) -> DivergedError:
    kept = f" (epoch {epoch - 1} stays as an unfinished run)" if epoch > 1 else ""
    return DivergedError(
        f"Training diverged in epoch {epoch} ({where} became NaN or infinite) with learning rate"
        f" {cfg.lr:g}; no complete model was saved{kept}, so try a smaller --lr."
    )


EventFn = Callable[[Event], None]


@dataclass
class TrainResult:
    """What a run produced: the model (best of raw/EMA on validation) and its history."""

    model: nn.Module
    config: TrainConfig
    history: list[dict[str, float]]
    epochs_done: int
    cancelled: bool
    val_acc: float | None
    elapsed_s: float
    images_per_s: float
    used_ema: bool = False
    resume_state: dict[str, Any] = field(default_factory=dict)


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks the machine's accelerator (CUDA, MPS, ...) when there is one, else the CPU."""
    if name == "auto":
        accel = getattr(torch, "accelerator", None)
        if accel is not None and accel.is_available():
            dev = accel.current_accelerator()
            if dev is not None:
                return torch.device(dev.type)
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("CUDA was asked for but no CUDA GPU is available; use --device cpu.")
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ConfigError("MPS was asked for but is not available here; use --device cpu.")
    return torch.device(name)


def training_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype a run's forward passes use, or None for plain float32.

    ``auto`` picks bfloat16 only on a CPU with AMX tiles (Intel Xeon 4th generation on), whose
    matrix units run bfloat16 convolutions natively: a ``best`` step took 0.58x the float32
    time on such a CPU, while on an AVX-512 CPU without AMX a bfloat16 step was slower
    (BENCHMARKS.md §1). Weights, optimizer state, the loss and every evaluation stay float32.
    """
    if precision == "float32":
        return None
    if precision == "bfloat16":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ConfigError("This GPU has no bfloat16; use --precision float32.")
        if device.type not in ("cpu", "cuda"):
            raise ConfigError(
                f"bfloat16 training is not offered on {device.type}; use --precision float32."
            )
        return torch.bfloat16
    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    return torch.bfloat16 if device.type == "cpu" and amx() else None


def check_machine(cfg: TrainConfig) -> None:
    """Refuse, in one sentence, what this machine cannot train (a GPU that is not there, or
    bfloat16 on one without it) before a run reads any data or claims a name's checkpoint."""
    training_dtype(cfg.precision, resolve_device(cfg.device))


def set_threads(threads: int) -> None:
    """Use ``threads`` intra-op threads (0 = every core this process may run on)."""
    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - macOS/Windows
            threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    keep_freed_memory()


_TUNED = False


def keep_freed_memory() -> None:
    """Stop glibc handing freed activation buffers back to the kernel after every batch.

    By default glibc returns the top of its heap to the system once 128 KB+ are free and serves
    blocks over 128 KB (a batch's activations are megabytes) with fresh ``mmap`` s, so every
    training step pays page faults to zero the same memory again. Raising both thresholds made a
    ``fast`` training step 1.5-1.8x faster on the project's machine (``benchmarks/train_step.py``).
    Freed memory is still reused within the process; peak memory did not grow. A no-op where the
    C library is not glibc.
    """
    global _TUNED
    if _TUNED:
        return
    _TUNED = True
    try:
        import ctypes
        import platform

        if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
            return
        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 << 20)  # glibc's maximum on 64-bit
        libc.mallopt(m_trim_threshold, 1 << 30)
    except (OSError, AttributeError):  # pragma: no cover - an unusual libc
        pass


def to_float(images: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (N, 28, 28) → float32 (N, 1, 28, 28) in [0, 1] on ``device``."""
    t = (
        images
        if isinstance(images, torch.Tensor)
        else torch.from_numpy(np.ascontiguousarray(images))
    )
    return t.to(device).unsqueeze(1).float().div_(255.0)


def _gaussian_kernel(sigma: float, device: torch.device) -> torch.Tensor:
    radius = int(2 * sigma)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    return k / k.sum()


def augment_batch(
    x: torch.Tensor, gen: torch.Generator, elastic: float = 0.0, sigma: float = 4.0
) -> torch.Tensor:
    """Random affine on a whole batch at once: rotate ±10°, scale 0.9-1.1, shift ±2 px, shear;
    with ``elastic`` > 0 also an elastic distortion (smoothed random displacements, in pixels)."""
    n = x.shape[0]

    def u(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=gen, device=gen.device).mul_(hi - lo).add_(lo)

    angle = u(-10, 10).mul_(math.pi / 180)
    scale = u(0.9, 1.1)
    shear = u(-0.15, 0.15)
    tx, ty = u(-2 / 14, 2 / 14), u(-2 / 14, 2 / 14)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1
    ).to(x.device)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    if elastic > 0:
        h, w = x.shape[-2:]
        noise = torch.rand(n, 2, h, w, generator=gen, device=gen.device).mul_(2).sub_(1)
        k = _gaussian_kernel(sigma, noise.device)
        r = k.numel() // 2
        noise = F.conv2d(noise.reshape(2 * n, 1, h, w), k.view(1, 1, 1, -1), padding=(0, r))
        noise = F.conv2d(noise, k.view(1, 1, -1, 1), padding=(r, 0)).reshape(n, 2, h, w)
        # pixels → grid units (the grid spans 2 over the image side)
        grid = grid + noise.permute(0, 2, 3, 1).mul(elastic * 2 / w).to(grid.device)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def flip_batch(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the batch left to right (for clothes; a mirrored 2 is not a 2)."""
    mask = torch.rand(x.shape[0], generator=gen, device=gen.device) < 0.5
    return torch.where(mask.to(x.device).view(-1, 1, 1, 1), x.flip(-1), x)


def erase_batch(
    x: torch.Tensor, gen: torch.Generator, share: float, area: tuple[float, float] = (0.02, 0.4)
) -> torch.Tensor:
    """Random erasing (Zhong et al. 2017): in about ``share`` of the batch's pictures one box,
    of 2-40% of the picture and aspect 0.3-3.3, is filled with random noise, so the network
    cannot lean on any one part of a garment."""
    n, _, h, w = x.shape

    def u(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=gen, device=gen.device).mul_(hi - lo).add_(lo)

    size = u(*area) * (h * w)
    aspect = u(math.log(0.3), math.log(1 / 0.3)).exp_()
    box_h = (size * aspect).sqrt_().round_().clamp_(1, h)
    box_w = (size / aspect).sqrt_().round_().clamp_(1, w)
    top = (u(0, 1) * (h - box_h + 1)).floor_()
    left = (u(0, 1) * (w - box_w + 1)).floor_()
    chosen = u(0, 1) < share
    rows = torch.arange(h, device=gen.device).view(1, h, 1)
    cols = torch.arange(w, device=gen.device).view(1, 1, w)

    def within(at: torch.Tensor, length: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return (idx >= at.view(-1, 1, 1)) & (idx < (at + length).view(-1, 1, 1))

    box = within(top, box_h, rows) & within(left, box_w, cols) & chosen.view(-1, 1, 1)
    noise = torch.rand(x.shape, generator=gen, device=gen.device)
    return torch.where(box.unsqueeze(1).to(x.device), noise.to(x.device), x)


@torch.inference_mode()
def predict_logits(
    model: nn.Module,
    images: np.ndarray | torch.Tensor,
    mean: float,
    std: float,
    device: torch.device | None = None,
    batch_size: int = 500,  # 2000 peaked at 1.5 GB for `dropout` on the CPU; 500 at 1.0 GB
    should_stop: Callable[[], bool] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Logits for uint8 (N, 28, 28) images, in big batches; returned on the CPU."""
    device = device or next(model.parameters()).device
    model.eval()
    out = []
    n = len(images)
    for start in range(0, n, batch_size):
        if should_stop and should_stop():
            from mnist_tui.errors import Cancelled

            raise Cancelled("Evaluation was cancelled; nothing was changed.")
        x = to_float(images[start : start + batch_size], device).sub_(mean).div_(std)
        out.append(model(x).float().cpu())
        if on_batch:
            on_batch(min(start + batch_size, n), n)
    return torch.cat(out) if out else torch.zeros(0, 10)


def loss_and_accuracy(
    model: nn.Module, split: Split, mean: float, std: float, device: torch.device | None = None
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a model on a split."""
    if len(split) == 0:
        return float("nan"), float("nan")
    logits = predict_logits(model, split.images, mean, std, device)
    labels = torch.from_numpy(split.labels)
    loss = F.cross_entropy(logits, labels).item()
    acc = (logits.argmax(1) == labels).float().mean().item()
    return loss, acc


def _optimizer(cfg: TrainConfig, params: Any) -> optim.Optimizer:
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return optim.SGD(
            params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay
        )
    return optim.Adadelta(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _scheduler(
    cfg: TrainConfig, opt: optim.Optimizer, steps_per_epoch: int
) -> tuple[optim.Schedule | None, bool]:
    """The LR schedule and whether it steps per batch (True) or per epoch (False)."""
    total = cfg.epochs * steps_per_epoch
    if cfg.scheduler == "onecycle":
        # Adadelta has no momentum to cycle.
        cycle = cfg.optimizer != "adadelta"
        return optim.OneCycle(opt, cfg.lr, total, cycle_momentum=cycle), True
    if cfg.scheduler == "cosine":
        return optim.Cosine(opt, total), True
    if cfg.scheduler == "step":
        return optim.StepDecay(opt, gamma=0.7), False
    return None, False


def train(
    cfg: TrainConfig,
    data: MnistData,
    *,
    on_event: EventFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume_state: dict[str, Any] | None = None,
    on_epoch_saved: Callable[[TrainResult], None] | None = None,
    progress_every_s: float = 0.2,
) -> TrainResult:
    """Train a network on ``data`` as ``cfg`` says.

    ``should_stop`` is polled between batches; when it returns True the run stops and the result
    holds the last completed epoch (``cancelled=True``) with everything needed to resume it.
    ``on_epoch_saved`` is called after each completed epoch (the store uses it to keep a
    resumable checkpoint on disk, so even a killed run loses at most one epoch).
    """
    cfg.validate()
    emit = on_event or (lambda _e: None)
    stop = should_stop or (lambda: False)
    set_threads(cfg.threads)
    device = resolve_device(cfg.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # every training batch has the same shape
    torch.manual_seed(cfg.seed)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    mean, std = data.spec.mean, data.spec.std

    low = training_dtype(cfg.precision, device)
    # The forward passes' arithmetic: bfloat16 autocast, or nothing at all for float32.
    forward_cast = torch.autocast(device.type, dtype=low) if low is not None else nullcontext()
    model = build_model(cfg.arch).to(device)
    if device.type == "cpu":
        # oneDNN's convolutions run 1.3-3x faster on channels-last tensors (measured here).
        model = model.to(memory_format=torch.channels_last)
    ema_model = None
    if cfg.ema > 0:
        ema_model = torch.optim.swa_utils.AveragedModel(
            model,
            multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema),
            use_buffers=True,
        )
    ema_update = None if ema_model is None else _ema_updater(ema_model, model)
    opt = _optimizer(cfg, model.parameters())
    n_train = len(data.train)
    if n_train == 0:
        raise ConfigError("The training split is empty; check the data set.")
    steps = max(1, n_train // cfg.batch_size)  # drop the ragged last batch: BN needs >1 sample
    sched, per_batch = _scheduler(cfg, opt, steps)
    learns = _learns(cfg, n_train)

    history: list[dict[str, float]] = []
    start_epoch = 0
    if resume_state:
        try:
            model.load_state_dict(resume_state["model"])
            opt.load_state_dict(resume_state["optimizer"])
            if sched is not None and resume_state.get("scheduler"):
                sched.load_state_dict(resume_state["scheduler"])
            if ema_model is not None and resume_state.get("ema"):
                ema_model.load_state_dict(resume_state["ema"])
            gen.set_state(resume_state["generator"].to(gen.get_state().device))
            torch.set_rng_state(resume_state["torch_rng"])
            history = list(resume_state.get("history", []))
            start_epoch = int(resume_state["epochs_done"])
        except (KeyError, IndexError, RuntimeError, ValueError, TypeError, AttributeError):
            raise CheckpointError(
                "The resume state does not fit this run's network or optimizer (it is damaged"
                " or from another run); train it again from the start."
            ) from None

    # Kept as uint8 (43 MB for MNIST, not 172 MB as float); each batch is converted on the fly.
    x_train = torch.from_numpy(np.ascontiguousarray(data.train.images)).to(device).unsqueeze(1)
    y_train = torch.from_numpy(data.train.labels).to(device)
    t0 = time.perf_counter()
    seen = 0
    smooth: torch.Tensor | None = None
    last_post = 0.0
    # Each training image's loss when last learned from: what focus epochs choose by.
    losses = None
    if cfg.focus < 1:
        losses = torch.zeros(n_train, device=device)
        saved = resume_state.get("losses") if resume_state else None
        if saved is not None:
            if not isinstance(saved, torch.Tensor) or tuple(saved.shape) != (n_train,):
                raise CheckpointError(
                    "The resume state's per-image losses do not fit this training split (it is"
                    " damaged or from another run); train it again from the start."
                )
            losses = saved.to(device=device, dtype=torch.float32)
    snapshot = _snapshot(model, opt, sched, ema_model, gen, history, start_epoch, losses)
    cancelled = False
    epochs_done = start_epoch

    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        perm = torch.randperm(n_train, generator=gen, device=device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for b in range(steps):
            if stop():
                cancelled = True
                break
            idx = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            if losses is not None and learns[epoch] < len(idx):  # the hardest when last seen
                idx = idx[losses[idx].topk(learns[epoch], sorted=False).indices]
            x = x_train[idx].float().div_(255.0)
            if cfg.augment:
                x = augment_batch(x, gen, cfg.elastic)
            if cfg.flip:
                x = flip_batch(x, gen)
            if cfg.erase > 0:
                x = erase_batch(x, gen, cfg.erase)
            x = x.sub_(mean).div_(std)
            y = y_train[idx]
            with forward_cast:
                logits = model(x)
            logits = logits.float()
            if losses is not None:
                each = F.cross_entropy(
                    logits, y, label_smoothing=cfg.label_smoothing, reduction="none"
                )
                losses[idx] = each.detach()
                loss = each.mean()
            else:
                loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if ema_update is not None:
                ema_update()
            if sched is not None and per_batch:
                sched.step()
            lossd = loss.detach()
            loss_sum += lossd * len(idx)
            correct += (logits.detach().argmax(1) == y).sum()
            seen += len(idx)
            # The smoothed loss stays on the device and is read only when progress is posted:
            # reading it every batch would make a GPU wait for each step before queueing the
            # next. A NaN or inf loss poisons the average for good, so the read catches it.
            if smooth is None:
                smooth = lossd.clone()
            else:
                smooth.mul_(0.98).add_(lossd, alpha=0.02)
            now = time.perf_counter()
            if now - last_post >= progress_every_s or b == steps - 1:
                value = smooth.item()
                if not math.isfinite(value):
                    raise _diverged(cfg, epoch + 1, f"the loss by batch {b + 1}")
                last_post = now
                elapsed = now - t0
                rate = seen / elapsed if elapsed > 0 else 0.0
                remaining = sum(learns[epoch:]) * steps - learns[epoch] * (b + 1)
                emit(
                    BatchProgress(
                        epoch + 1, cfg.epochs, b + 1, steps, value, rate,
                        remaining / rate if rate else float("inf"),
                        opt.param_groups[0]["lr"], elapsed,
                    )
                )  # fmt: skip
        if cancelled:
            break
        if not all(bool(p.isfinite().all()) for p in model.parameters()):
            raise _diverged(cfg, epoch + 1, "the weights")
        if sched is not None and not per_batch:
            sched.step()
        learned = steps * learns[epoch]
        train_loss = loss_sum.item() / learned
        train_acc = correct.item() / learned
        val_loss, val_acc = loss_and_accuracy(model, data.val, mean, std, device)
        elapsed = time.perf_counter() - t0
        record = EpochEnd(
            epoch + 1, cfg.epochs, train_loss, train_acc, val_loss, val_acc,
            opt.param_groups[0]["lr"], elapsed, seen / elapsed if elapsed else 0.0,
        )  # fmt: skip
        if ema_model is not None:
            ema_loss, ema_acc = loss_and_accuracy(ema_model.module, data.val, mean, std, device)
            history.append({**_as_row(record), "ema_val_loss": ema_loss, "ema_val_acc": ema_acc})
        else:
            history.append(_as_row(record))
        epochs_done = epoch + 1
        snapshot = _snapshot(model, opt, sched, ema_model, gen, history, epochs_done, losses)
        emit(record)
        if on_epoch_saved is not None and epochs_done < cfg.epochs:
            on_epoch_saved(
                _result(cfg, model, ema_model, history, epochs_done, True, t0, seen, snapshot)
            )

    if cancelled:
        # Roll back to the last completed epoch: a half-trained epoch is never kept.
        model.load_state_dict(snapshot["model"])
        if ema_model is not None and snapshot.get("ema"):
            ema_model.load_state_dict(snapshot["ema"])
    return _result(cfg, model, ema_model, history, epochs_done, cancelled, t0, seen, snapshot)


def _learns(cfg: TrainConfig, n_train: int) -> list[int]:
    """How many images of each batch each epoch learns from.

    The first epoch learns from every image. With ``focus`` below 1 each later epoch learns from
    that share of each batch, the images whose loss was highest when last learned from:
    selective backprop (Jiang et al. 2019, "Accelerating deep learning by focusing on the
    biggest losers") ranked by the losses every step computes anyway, not by an extra forward
    pass: on the CPU that pass made a focus run 12% faster where stored losses made it 30%
    faster, at the same validation accuracy. Drawing a larger pool so each step still learns a
    whole batch was faster again but scored lower on Fashion-MNIST's validation split
    (BENCHMARKS.md §8).
    """
    batch = min(cfg.batch_size, n_train)
    focused = min(batch, max(2, math.ceil(cfg.focus * batch)))  # batch norm needs two
    return [batch] + [focused] * (cfg.epochs - 1)


def _ema_updater(ema_model: Any, model: nn.Module) -> Callable[[], None]:
    """``ema_model.update_parameters(model)`` for every step after the first, the same arithmetic
    (the EMA function given to the AveragedModel, per dtype group) without its per-step copy of
    the step count to the device: on a GPU that copy waits for the queued step to finish, so
    every batch stalled the host. The step count stays on the host and is kept up to date."""
    average = ema_model.multi_avg_fn  # the EMA function the AveragedModel was given
    pairs = list(
        zip(
            [*ema_model.module.parameters(), *ema_model.module.buffers()],
            [*model.parameters(), *model.buffers()],
            strict=True,
        )
    )
    groups: dict[torch.dtype, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}
    for ema_t, cur in pairs:
        ema_list, cur_list = groups.setdefault(ema_t.dtype, ([], []))
        ema_list.append(ema_t.detach())
        cur_list.append(cur.detach())

    def update() -> None:
        if int(ema_model.n_averaged) == 0:  # the first step copies the weights
            ema_model.update_parameters(model)
            return
        with torch.no_grad():
            for ema_list, cur_list in groups.values():
                average(ema_list, cur_list, None)
        ema_model.n_averaged += 1

    return update


def _as_row(e: EpochEnd) -> dict[str, float]:
    return {
        "epoch": e.epoch,
        "train_loss": e.train_loss,
        "train_acc": e.train_acc,
        "val_loss": e.val_loss,
        "val_acc": e.val_acc,
        "lr": e.lr,
        "elapsed_s": e.elapsed_s,
    }


def _snapshot(
    model: nn.Module,
    opt: optim.Optimizer,
    sched: optim.Schedule | None,
    ema_model: Any,
    gen: torch.Generator,
    history: list[dict[str, float]],
    epochs_done: int,
    losses: torch.Tensor | None,
) -> dict[str, Any]:
    """Everything needed to resume after ``epochs_done`` epochs, copied to the CPU."""
    return {
        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "optimizer": copy.deepcopy(opt.state_dict()),
        "scheduler": sched.state_dict() if sched is not None else {},
        "ema": (
            {k: v.detach().cpu().clone() for k, v in ema_model.state_dict().items()}
            if ema_model is not None
            else {}
        ),
        "generator": gen.get_state().cpu(),
        "torch_rng": torch.get_rng_state(),
        "history": copy.deepcopy(history),
        "epochs_done": epochs_done,
        "losses": None if losses is None else losses.detach().cpu().clone(),
    }


def _result(
    cfg: TrainConfig,
    model: nn.Module,
    ema_model: Any,
    history: list[dict[str, float]],
    epochs_done: int,
    cancelled: bool,
    t0: float,
    seen: int,
    snapshot: dict[str, Any],
) -> TrainResult:
    """Pick raw or EMA weights by validation accuracy (never by the test set); with no
    validation split (``val_size`` 0, training on every image) EMA weights are kept when EMA is
    on — they won on validation in 9 of 10 `best` runs measured."""
    final, used_ema = model, False
    val_acc = history[-1]["val_acc"] if history else None
    if ema_model is not None and history:
        ema_acc = history[-1].get("ema_val_acc", float("nan"))
        no_val = val_acc is None or math.isnan(val_acc)
        if no_val or (not math.isnan(ema_acc) and ema_acc >= val_acc):
            final, used_ema, val_acc = ema_model.module, True, ema_acc
    if val_acc is not None and math.isnan(val_acc):
        val_acc = None  # no validation split
    elapsed = time.perf_counter() - t0
    return TrainResult(
        model=final,
        config=cfg,
        history=list(history),
        epochs_done=epochs_done,
        cancelled=cancelled,
        val_acc=val_acc,
        elapsed_s=elapsed,
        images_per_s=seen / elapsed if elapsed > 0 else 0.0,
        used_ema=used_ema,
        resume_state=snapshot,
    )
