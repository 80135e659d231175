"""Where the `fast` run's time went: torch.optim against ours, glibc's allocator as is or tuned.

Each configuration runs in its own process (the allocator setting is per process): it times
creating the optimizer and its first step (torch.optim imports torch._dynamo there), then the
median of 5 blocks of 100 training steps of the real `fast` network at batch 256 on the real
loop's operations (index a uint8 batch, convert, forward, backward, step). The baseline is
torch.optim.Adam with the default allocator, in the same run.

    python benchmarks/train_step.py [--threads 2]
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
which, tuned, threads = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
if tuned:
    keep_freed_memory()
torch.set_num_threads(threads)
torch.manual_seed(0)
model = build_model("fast").to(memory_format=torch.channels_last)
t0 = time.perf_counter()
opt = (torch.optim.Adam if which == "torch" else optim.Adam)(model.parameters(), lr=0.02)
X = torch.randint(0, 256, (55000, 1, 28, 28), dtype=torch.uint8)
Y = torch.randint(0, 10, (55000,))
perm = torch.randperm(55000)
def step(b):
    idx = perm[(b % 214) * 256 : (b % 214 + 1) * 256]
    x = X[idx].float().div_(255.0).sub_(0.1307).div_(0.3081)
    loss = F.cross_entropy(model(x), Y[idx])
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


def run(which: str, tuned: bool, threads: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, which, "1" if tuned else "0", str(threads)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    rows = [
        ("baseline: torch.optim.Adam, default allocator", "torch", False),
        ("torch.optim.Adam, allocator tuned", "torch", True),
        ("ours: optim.Adam, default allocator", "ours", False),
        ("ours: optim.Adam, allocator tuned (what training uses)", "ours", True),
    ]
    base = None
    for label, which, tuned in rows:
        r = run(which, tuned, args.threads)
        base = base or r
        print(
            f"{label:56s} create + first step {r['first_s']:5.2f} s;"
            f" {r['ms_per_step']:5.2f} ms/step ({base['ms_per_step'] / r['ms_per_step']:.2f}x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
