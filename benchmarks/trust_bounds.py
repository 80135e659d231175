"""What the trust checks cost and what they bound (issue #14).

1. A gzip "bomb": a ~1 MB `.gz` whose IDX header claims 60,000 digits but that inflates to
   ``--gib`` GiB. Loading it must be refused early: peak memory and time are printed.
2. The decompressed-data cache: a cached load of the real MNIST, now verified against the
   checksums written with the cache (median of 5 loads).
3. Peak memory of one training step at ``--batch-size`` and of one inference pass of
   ``--eval-batch`` images, per architecture (the bounds on `--batch-size` come from this).

Each measurement runs in a fresh child process (peak RSS is read from /proc/self/status VmHWM,
which, unlike ru_maxrss, does not carry the parent's size over). Example:

    python benchmarks/trust_bounds.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap

PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])//1024"

BOMB = """
import gzip, struct, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, "tests")
from datagen import write_dataset
root = write_dataset(Path(tempfile.mkdtemp()), n_train=100, n_test=50)
bomb = root / "MNIST/raw/train-images-idx3-ubyte.gz"
chunk = 16 << 20
head = struct.pack(">IIII", 0x803, 60000, 28, 28)
zeros = gzip.compress(b"\\0" * chunk, 9)
first = gzip.compress(head + b"\\0" * (chunk - 16), 9)
bomb.write_bytes(first + zeros * (int({gib} * 2**30) // chunk - 1))
from mnist_tui.engine.data import load_dataset
from mnist_tui.errors import DataError
t = time.perf_counter()
try:
    load_dataset("mnist", root, val_size=0, download=False)
    outcome = "LOADED (not refused)"
except DataError as exc:
    outcome = "refused: " + str(exc)[-60:]
print(f"bomb {{bomb.stat().st_size / 1e6:.2f}} MB gz -> {gib} GiB: {{outcome}};"
      f" {{time.perf_counter() - t:.2f}} s, peak {{{peak}}} MB")
"""

CACHE = """
import statistics, time
from mnist_tui.engine.data import load_dataset
t = time.perf_counter(); load_dataset("mnist", {data!r}, val_size=0, download=False)
first = time.perf_counter() - t
times = []
for _ in range(5):
    t = time.perf_counter(); load_dataset("mnist", {data!r}, val_size=0, download=False)
    times.append(time.perf_counter() - t)
print(f"MNIST load: first (gunzip, parse, write cache) {{first:.3f}} s;"
      f" cached and verified {{statistics.median(times):.3f}} s (median of 5)")
"""

STEP = """
import torch, torch.nn.functional as F
from mnist_tui.engine.networks import build_model
from mnist_tui.engine.train import predict_logits
import numpy as np
torch.set_num_threads(1)
m = build_model({arch!r}).to(memory_format=torch.channels_last)
opt = torch.optim.Adam(m.parameters())
x, y = torch.randn({bs}, 1, 28, 28), torch.randint(0, 10, ({bs},))
F.cross_entropy(m(x), y).backward(); opt.step()
train_peak = {peak}
predict_logits(m, np.zeros(({eb}, 28, 28), np.uint8), 0.1, 0.3, batch_size={eb})
print(f"{arch:8} train step at {bs}: {{train_peak}} MB; + inference of {eb}: {{{peak}}} MB")
"""


def run(code: str, env_cache: str) -> None:
    import os

    env = {**os.environ, "XDG_CACHE_HOME": env_cache, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env)  # fmt: skip
    print(done.stdout.strip() or done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="a folder holding MNIST/raw (skip the cache figure)")
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--eval-batch", type=int, default=500)
    parser.add_argument("--archs", default="fast,best,classic,era,keras3,keras2,dropout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        run(BOMB.format(gib=args.gib, peak=PEAK), cache)
        if args.data_dir:
            run(CACHE.format(data=args.data_dir), cache)
        for arch in args.archs.split(","):
            run(STEP.format(arch=arch, bs=args.batch_size, eb=args.eval_batch, peak=PEAK), cache)


if __name__ == "__main__":
    main()
