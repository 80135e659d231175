"""Answering from a picture and its mirror image (engine/views.py) against the picture alone,
for a model that learned with random flips: each network and the model, on the validation split
(which chose) and the test set (reported), in the same run.

    python benchmarks/mirror_views.py --data-dir /usr/share/datasets/fashion-mnist

The validation split is the one the recipe held out (5,000 images; the same for every seed),
so for the shipped `default-fashion`, whose members kept it, it is data none of them learned
from.
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA"))
    parser.add_argument("--models-dir", default="models")
    parser.add_argument("--model", default="default-fashion")
    args = parser.parse_args()

    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.ensemble import member_count, member_network
    from mnist_tui.engine.evaluate import evaluate
    from mnist_tui.engine.store import ModelStore
    from mnist_tui.engine.views import Mirrored

    loaded = ModelStore(args.models_dir).load(args.model)
    info = loaded.info
    val_size = int(info.config.get("val_size") or 0)
    if not val_size:
        raise SystemExit(f"{info.name} trained on every image: it has no validation split.")
    data = load_dataset(info.dataset, args.data_dir, val_size=val_size, download=False)
    nets = [member_network(loaded.model, i) for i in range(member_count(loaded.model))]
    rows = [(f"network {i + 1}", net) for i, net in enumerate(nets)]
    if len(nets) > 1:
        rows.append((f"{info.name} ({len(nets)} as one)", loaded.model))
    print(f"{'':<28} {'validation':>21} {'test':>21}")
    print(f"{'':<28} {'one view':>10} {'mirror':>10} {'one view':>10} {'mirror':>10}")
    for label, net in rows:
        scores = [
            evaluate(m, split, info.mean, info.std, worst=0).accuracy
            for split in (data.val, data.test)
            for m in (net, Mirrored(net))
        ]
        print(f"{label:<28} " + " ".join(f"{s:>10.2%}" for s in scores))


if __name__ == "__main__":
    main()
