"""A TUI in a child process, for tests that kill the UI: it starts a run (or attaches to one)
on the Train screen, then prints how many epochs it shows, until it is killed.

usage: python ui_child.py DATA_DIR MODELS_DIR start|attach NAME [EPOCHS]
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


async def main(data_dir: str, models_dir: str, mode: str, name: str, epochs: str) -> None:
    from textual.widgets import Input

    from mnist_tui.engine.store import ModelStore
    from mnist_tui.tui.app import create_app
    from mnist_tui.tui.screens.train import TrainScreen
    from mnist_tui.tui.services import Services

    services = Services(data_dir=data_dir, models_dir=models_dir, val_size=200, download=False)
    services._store = ModelStore(models_dir, shipped=Path(os.devnull) / "none")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = TrainScreen(attach=name if mode == "attach" else None, threads=1)
        await app.push_screen(screen)
        await pilot.pause()
        if mode == "start":
            screen.query_one("#epochs", Input).value = epochs
            screen.query_one("#batch_size", Input).value = "32"
            screen.query_one("#name", Input).value = name
            await pilot.press("s")
            assert screen.run_name == name, screen.query_one("#form-error").render()
        print("READY", flush=True)
        while True:
            await pilot.pause(0.2)
            print(f"EPOCHS {len(screen.rows)} POINTS {len(screen.data.train_x)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5], sys.argv[5] if len(sys.argv) > 5 else "2"))
