"""Where a training step's time goes: torch.optim against ours, glibc's allocator as is or
tuned, float32 against bfloat16 autocast (`--precision`).

Each configuration runs in its own process (the allocator setting is per process): it times
creating the optimizer and its first step (torch.optim imports torch._dynamo there), then the
median of 5 blocks of 100 training steps of the real network (`fast` at batch 256 unless told)
on the real loop's operations (index a uint8 batch, convert, forward under the precision's
autocast, loss in float32, backward, step). The baseline is torch.optim.Adam with the default
allocator, in the same run. Whether the CPU has AMX tiles (what `--precision auto` looks for)
is printed first.

    python benchmarks/train_step.py [--threads 2] [--arch best --batch 128]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, statistics, sys, time
import torch, torch.nn.functional as F
from mnist_tui.engine import optim
from mnist_tui.engine.networks import build_model
from mnist_tui.engine.train import keep_freed_memory
which, tuned, threads, arch, batch, low = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), \
    sys.argv[4], int(sys.argv[5]), sys.argv[6] == "bfloat16"
if tuned:
    keep_freed_memory()
torch.set_num_threads(threads)
torch.manual_seed(0)
model = build_model(arch).to(memory_format=torch.channels_last)
t0 = time.perf_counter()
opt = (torch.optim.Adam if which == "torch" else optim.Adam)(model.parameters(), lr=0.02)
X = torch.randint(0, 256, (55000, 1, 28, 28), dtype=torch.uint8)
Y = torch.randint(0, 10, (55000,))
perm = torch.randperm(55000)
per_epoch = 55000 // batch
def step(b):
    idx = perm[(b % per_epoch) * batch : (b % per_epoch + 1) * batch]
    x = X[idx].float().div_(255.0).sub_(0.1307).div_(0.3081)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
        logits = model(x)
    loss = F.cross_entropy(logits.float(), Y[idx])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    loss.item()
step(0)
first = time.perf_counter() - t0
for b in range(10):
    step(b)
blocks = []
for r in range(5):
    t = time.perf_counter()
    for b in range(100):
        step(b)
    blocks.append((time.perf_counter() - t) * 10)
print(json.dumps({"first_s": first, "ms_per_step": statistics.median(blocks)}))
"""


def run(which: str, tuned: bool, args: argparse.Namespace, precision: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, which, "1" if tuned else "0", str(args.threads), args.arch,
         str(args.batch), precision],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--arch", default="fast")
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()

    import torch

    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    print(
        f"{args.arch}, batch {args.batch}, {args.threads} threads; this CPU has"
        f" {'AMX tiles: --precision auto is bfloat16' if amx else 'no AMX: auto is float32'}"
    )
    rows = [
        ("baseline: torch.optim.Adam, default allocator", "torch", False, "float32"),
        ("torch.optim.Adam, allocator tuned", "torch", True, "float32"),
        ("ours: optim.Adam, default allocator", "ours", False, "float32"),
        ("ours: optim.Adam, allocator tuned (training, float32)", "ours", True, "float32"),
        ("the same under bfloat16 autocast (--precision bfloat16)", "ours", True, "bfloat16"),
    ]
    base = None
    for label, which, tuned, precision in rows:
        r = run(which, tuned, args, precision)
        base = base or r
        print(
            f"{label:56s} create + first step {r['first_s']:5.2f} s;"
            f" {r['ms_per_step']:5.2f} ms/step ({base['ms_per_step'] / r['ms_per_step']:.2f}x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
