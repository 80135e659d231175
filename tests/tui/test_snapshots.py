"""What a user sees: an SVG snapshot of every screen at 80x24 and 120x40, in truecolor and in 256
colours (what an SSH session gets), on frozen data: the synthetic data set, a fixed model, a fixed
image file, no clock.

The fixed model is ``frozen-fast.safetensors`` beside this file: the session's tiny model (fast,
2 epochs on the synthetic set, one thread) saved once with a fixed creation time. It is committed
rather than trained by the suite because training rounds differently on each CPU family: a
model trained on the machine that runs the suite drew some Weights colours one step apart on an
Intel CPU from the AMD one the pictures were made on, even with PyTorch's kernels capped at AVX2
(how the suite tried to pin its arithmetic before).

After a deliberate change to a screen, look at the new pictures and accept them with:
    pytest tests/tui/test_snapshots.py --snapshot-update
(the SVGs live in tests/tui/__snapshots__/test_snapshots/; open them in a browser to review).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from textual.pilot import Pilot
from textual.widgets import Input

from mnist_tui.tui.app import create_app

SIZES = [(80, 24), (120, 40)]
DEPTHS = ["truecolor", "256"]
FROZEN_TIME = "2026-01-02T03:04:05+00:00"
FROZEN_MODEL = Path(__file__).with_name("frozen-fast.safetensors")


@pytest.fixture
def frozen(services, tmp_path: Path, monkeypatch):  # noqa: ANN001, ANN201
    """Services over a store whose model carries a fixed creation time; cwd holds seven.png."""
    import json

    from mnist_tui.engine.store import META_KEY, read_header

    store = services.store()
    services.forget_model("tiny")
    store.rename("tiny", "fast-20260102-030405")  # a name as long as the Train screen makes
    shutil.copyfile(FROZEN_MODEL, store.path_for("fast-20260102-030405"))
    meta = json.loads(read_header(store.path_for("fast-20260102-030405"))["__metadata__"][META_KEY])
    assert meta["created"] == FROZEN_TIME
    image = np.zeros((28, 28), dtype=np.uint8)
    image[5:7, 6:22] = 255  # a bar like the synthetic data's, and a stem
    image[6:24, 17:19] = 255
    Image.fromarray(image).save(tmp_path / "seven.png")
    monkeypatch.chdir(tmp_path)
    # The store by a relative path, so the Models screen shows the same "Store: models" each run.
    assert store.root == tmp_path / "models"
    from mnist_tui.engine.store import ModelStore

    services._store = ModelStore(Path("models"), shipped=Path(os.devnull) / "none")
    return services


async def _settle(pilot: Pilot) -> None:
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def _steps(*keys: str):  # noqa: ANN202
    async def run(pilot: Pilot) -> None:
        await pilot.pause()
        for key in keys:
            if key == "_settle":
                await _settle(pilot)
            elif len(key) > 1 and key.startswith("type:"):
                for ch in key.removeprefix("type:"):
                    await pilot.press(ch)
            else:
                await pilot.press(key)
        await _settle(pilot)

    return run


SCREENS = {
    "menu": _steps(),
    "train": _steps("1"),
    "weights": _steps("2"),
    "predict": _steps("3", "type:seven.png", "enter"),
    "predict-completion": _steps("3", "type:s", "tab"),
    "evaluate": _steps("4"),
    "models": _steps("5"),
    "browse": _steps("6"),
    "draw": _steps("7", *["space", "down"] * 6, "space", "_settle"),
    "activations": _steps("7", *["space", "right"] * 6, "space", "_settle", "a"),
    "compare": _steps("8"),
}


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, frozen, screen: str, size: tuple[int, int], depth: str) -> None:  # noqa: ANN001
    if screen == "predict-completion":
        for i in range(20):  # twenty matches: the list says how many it does not show
            Path(f"sample-{i:02d}.png").write_bytes(b"")
    app = create_app(frozen, warm_up=False, color=depth)
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[screen])
