"""A training step in float32 against bfloat16 autocast (`--precision`), network by network.

Each configuration runs in its own process: the real network, channels-last, our Adam, glibc's
allocator tuned as training has it, the loop's operations (index a uint8 batch, convert,
forward under autocast, loss in float32, backward, step). It reports the median of 5 blocks of
40 steps after 10 warm-up steps, float32 first as the baseline, in the same run. Whether the CPU
has AMX tiles (what `--precision auto` looks for) and AVX-512 BF16 is printed first.

    python benchmarks/precision.py [--threads 2] [--archs fast best fastfull] [--batch 128]
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
arch, precision, threads, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
keep_freed_memory()
torch.set_num_threads(threads)
torch.manual_seed(0)
model = build_model(arch).to(memory_format=torch.channels_last)
opt = optim.Adam(model.parameters(), lr=1e-3)
X = torch.randint(0, 256, (20000, 1, 28, 28), dtype=torch.uint8)
Y = torch.randint(0, 10, (20000,))
perm = torch.randperm(20000)
per_epoch = 20000 // batch
low = torch.bfloat16 if precision == "bfloat16" else None
def step(b):
    idx = perm[(b % per_epoch) * batch : (b % per_epoch + 1) * batch]
    x = X[idx].float().div_(255.0).sub_(0.1307).div_(0.3081)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low is not None):
        logits = model(x)
    loss = F.cross_entropy(logits.float(), Y[idx])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    loss.item()
for b in range(10):
    step(b)
blocks = []
for r in range(5):
    t = time.perf_counter()
    for b in range(40):
        step(b)
    blocks.append((time.perf_counter() - t) / 40)
print(json.dumps({"s_per_step": statistics.median(blocks)}))
"""


def run(arch: str, precision: str, threads: int, batch: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, arch, precision, str(threads), str(batch)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(json.loads(out.stdout.strip().splitlines()[-1])["s_per_step"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--archs", nargs="+", default=["fast", "best", "fastfull"])
    parser.add_argument("--batch", type=int, default=128, help="images per step (best's: 128)")
    args = parser.parse_args()

    import torch

    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    bf16 = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
    print(f"CPU: AMX tiles {'yes' if amx else 'no'}, AVX-512 BF16 {'yes' if bf16 else 'no'};"
          f" --precision auto trains in {'bfloat16' if amx else 'float32'} here;"
          f" {args.threads} threads, batch {args.batch}")  # fmt: skip
    for arch in args.archs:
        base = run(arch, "float32", args.threads, args.batch)
        low = run(arch, "bfloat16", args.threads, args.batch)
        print(f"{arch:<9} float32 {base * 1000:7.2f} ms/step ({args.batch / base:8,.0f} img/s)"
              f"   bfloat16 {low * 1000:7.2f} ms/step ({args.batch / low:8,.0f} img/s)"
              f"   {base / low:.2f}x", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
