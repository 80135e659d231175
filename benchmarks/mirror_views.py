"""Answering from a picture and its mirror image (engine/views.py) against the picture alone,
for a model that learned with random flips: each network and the model, on the validation split
(which chose) and the test set (reported), in the same run.

    python benchmarks/mirror_views.py --data-dir /usr/share/datasets/fashion-mnist

The validation split is the one the recipe held out (5,000 images; the same for every seed),
so for the shipped `default-fashion`, whose members kept it, it is data none of them learned
from. `--refit` fits each network's temperature again on that split, answering with the mirror
(what a run does since answers use both views), and writes them and their mean into the model's
metadata, as `mnist-tui models ensemble` would have; it prints the test ECE before and after.
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA"))
    parser.add_argument("--models-dir", default="models")
    parser.add_argument("--model", default="default-fashion")
    parser.add_argument("--refit", action="store_true", help="refit the temperatures, mirrored")
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
    if args.refit:
        refit(loaded, nets, data)


def refit(loaded, nets, data) -> None:  # noqa: ANN001
    """Each network's temperature fitted on the validation split with the mirror; the model's
    the mean of them (an ensemble's rule, engine/ensemble.py), recorded in its metadata."""
    from dataclasses import replace

    from mnist_tui.engine.calibrate import calibrate_run
    from mnist_tui.engine.ensemble import members_calibration
    from mnist_tui.engine.evaluate import evaluate
    from mnist_tui.engine.store import rewrite_metadata
    from mnist_tui.engine.views import Mirrored

    info = loaded.info
    # What a run does now (runs._train_and_save): the temperature fitted on the two-view answer.
    fits = [calibrate_run(Mirrored(n), info.config, data) for n in nets]
    temps = [c.temperature for c in fits]
    fitted = members_calibration(temps, {c.fitted_on for c in fits}) if info.members else fits[0]
    mean_t = fitted.temperature
    before = evaluate(loaded.classifier, data.test, info.mean, info.std, worst=0,
                      temperature=loaded.temperature)  # fmt: skip
    after = evaluate(loaded.classifier, data.test, info.mean, info.std, worst=0,
                     temperature=mean_t)  # fmt: skip
    print(
        f"temperatures {[round(t, 4) for t in temps]} (were"
        f" {[round(m.temperature, 4) for m in info.members] or [info.calibration.temperature]})"
    )
    print(f"model T {loaded.temperature:.4f} -> {mean_t:.4f}; test ECE {before.ece:.2%} ->"
          f" {after.ece:.2%}, loss {before.loss:.4f} -> {after.loss:.4f}")  # fmt: skip
    changes = {"calibration": fitted.to_dict(), "test_loss": after.loss}
    if info.members:
        changes["ensemble"] = [
            replace(m, temperature=t).to_dict() for m, t in zip(info.members, temps, strict=True)
        ]
    rewrite_metadata(info.path, **changes)
    print(f"recorded in {info.path}")


if __name__ == "__main__":
    main()
