"""An ensemble against its own members, in the same run: test accuracy, calibration (ECE) and
predict latency. The baseline is each member alone (the single model that shipped before).

    mnist-tui train --arch best --ensemble 3 --threads 1 --models-dir runs --name trio  # ~50 min
    python benchmarks/ensemble.py --data-dir ../shared/data --models-dir runs --model trio

With no `--model`, the shipped default is measured; `--also default` adds the shipped default as
a row of the same run (the model a new ensemble would replace). Models that learned with random
flips answer from the picture and its mirror image (engine/views.py); `--one-view` adds the
ensemble answering from the picture alone as a row, the baseline of that change. `--record`
writes the ensemble's measured test figures into its file's metadata (what `mnist-tui models`
shows), for a model whose way of answering changed after it was saved.

    python benchmarks/ensemble.py --data-dir /usr/share/datasets/fashion-mnist --models-dir models \
        --model default-fashion --one-view --record
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_TUI_DATA", "../shared/data"))
    parser.add_argument("--models-dir", help="the store holding the ensemble")
    parser.add_argument("--model", help="the ensemble's name (default: the shipped default)")
    parser.add_argument("--repeats", type=int, default=200, help="predictions timed per model")
    parser.add_argument(
        "--also", nargs="*", default=[], metavar="NAME",
        help="more models measured in the same run (e.g. the ensemble this one would replace)",
    )  # fmt: skip
    parser.add_argument(
        "--one-view",
        action="store_true",
        help="also measure the ensemble answering from the picture alone",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="write the ensemble's test figures into its file's metadata",
    )
    args = parser.parse_args()

    from mnist_tui.engine.calibrate import Calibration
    from mnist_tui.engine.config import learned_mirrors
    from mnist_tui.engine.data import load_dataset
    from mnist_tui.engine.ensemble import member_network
    from mnist_tui.engine.evaluate import evaluate
    from mnist_tui.engine.predict import predict_image
    from mnist_tui.engine.store import LoadedModel, ModelStore, rewrite_metadata
    from mnist_tui.engine.views import answering

    store = ModelStore(args.models_dir)
    loaded = store.load(args.model or "default")
    info = loaded.info
    if not info.members:
        raise SystemExit(f"{info.name} is a single network, not an ensemble.")
    data = load_dataset(info.dataset, Path(args.data_dir), val_size=0, download=False)
    rows = []
    for i, member in enumerate(info.members):
        net = member_network(loaded.model, i)
        answers = answering(net, learned_mirrors([member.config]))
        ev = evaluate(answers, data.test, info.mean, info.std, worst=0,
                      temperature=member.temperature)  # fmt: skip
        alone = LoadedModel(net, _as_single(info, member, Calibration))
        rows.append((f"member {i + 1}: {member.name} (seed {member.seed})", ev, alone))
    ev = evaluate(loaded.classifier, data.test, info.mean, info.std, worst=0,
                  temperature=loaded.temperature)  # fmt: skip
    members = [ev.accuracy for _, ev, _ in rows]
    if args.one_view:
        alone = [replace(m, config={**m.config, "flip": False}) for m in info.members]
        one_info = replace(info, members=alone, config={**info.config, "flip": False})
        one = LoadedModel(loaded.model, one_info)
        assert not one.info.mirrored
        one_ev = evaluate(loaded.model, data.test, info.mean, info.std, worst=0,
                          temperature=loaded.temperature)  # fmt: skip
        rows.append((f"{info.name}, the picture alone (no mirror)", one_ev, one))
    for other in args.also:
        also = store.load(other)
        also_ev = evaluate(also.classifier, data.test, also.info.mean, also.info.std, worst=0,
                           temperature=also.temperature)  # fmt: skip
        rows.append((f"also: {other} ({len(also.info.members) or 1} nets)", also_ev, also))
    rows.append((f"ensemble {info.name} ({len(info.members)} members)", ev, loaded))

    rng = np.random.default_rng(0)
    photo = (rng.random((600, 800)) * 30 + 200).astype(np.uint8)  # light paper
    photo[200:420, 380:400] = 20  # a dark stroke: a "1"
    from PIL import Image

    image = Image.fromarray(photo)
    print(f"{'model':<44} {'test':>7} {'ECE':>6} {'net ms':>7} {'800x600 ms':>10}")
    for label, ev, lm in rows:
        pixels = data.test.images[0].astype(np.float32) / 255
        from mnist_tui.engine.predict import probabilities

        probabilities(lm, pixels)
        net_ms = _median_ms(lambda lm=lm, px=pixels: probabilities(lm, px), args.repeats)
        predict_image(lm, image)
        photo_ms = _median_ms(lambda lm=lm: predict_image(lm, image), max(5, args.repeats // 10))
        print(f"{label:<44} {ev.accuracy:>7.2%} {ev.ece:>6.2%} {net_ms:>7.2f} {photo_ms:>10.1f}")
    print(f"\nmembers: mean {statistics.mean(members):.2%}, best {max(members):.2%};"
          f" ensemble {rows[-1][1].accuracy:.2%}")  # fmt: skip
    if args.record:
        rewrite_metadata(info.path, test_acc=ev.accuracy, test_loss=ev.loss,
                         per_class=ev.per_class)  # fmt: skip
        print(f"recorded in {info.path}: test {ev.accuracy:.2%}")


def _as_single(info, member, calibration_cls):  # noqa: ANN001, ANN202
    return replace(
        info, members=[], config=dict(member.config),
        calibration=calibration_cls(member.temperature, "member"),
    )  # fmt: skip


def _median_ms(fn, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    main()
