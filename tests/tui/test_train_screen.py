"""Train screen: the form, a real (tiny) child run with live data, stop, quit, missing data.

Each run spawns `python -m mnist_tui train --events` (imports torch, ~2-3 s), so few tests run one.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.widgets import Button, DataTable, Input, Static

from mnist_tui.engine.jobs import Runs, pid_alive
from mnist_tui.tui.app import MenuScreen, create_app
from mnist_tui.tui.screens.train import TrainScreen

RUN_TIMEOUT_S = 120


def _text(screen: TrainScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _open(app, pilot) -> TrainScreen:  # noqa: ANN001
    screen = TrainScreen(threads=1)
    await app.push_screen(screen)
    await pilot.pause()
    return screen


async def _until(pilot, condition, timeout: float = RUN_TIMEOUT_S) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the training child"
        await pilot.pause(0.1)


def _gone(pid: int) -> bool:
    return not pid_alive(pid)


async def test_invalid_values_are_refused_inline(services) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        for bad in ("0", "abc", ""):
            screen.query_one("#epochs", Input).value = bad
            await pilot.press("s")
            assert "Epochs must be" in _text(screen, "#form-error")
            assert screen.run_name is None
        screen.query_one("#epochs", Input).value = "2"
        screen.query_one("#lr", Input).value = "-1"
        screen.query_one("#start", Button).press()
        await pilot.pause()
        assert "Learning rate" in _text(screen, "#form-error")
        screen.query_one("#lr", Input).value = "0.01"
        screen.query_one("#name", Input).value = "tiny"  # already in the store
        await pilot.press("enter")  # Enter in a field (it has focus) also starts
        assert "already exists" in _text(screen, "#form-error")
        assert screen.run_name is None


async def test_arch_fills_recipe(services) -> None:
    from mnist_tui.engine.config import recipe

    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1")
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        screen.query_one("#arch").value = "dropout"
        await pilot.pause()
        want = recipe("dropout")
        assert screen.query_one("#epochs", Input).value == str(want.epochs)
        assert screen.query_one("#optimizer").value == want.optimizer
        assert "1,199,882 parameters" in _text(screen, "#arch-help")
        await pilot.press("escape")
        assert isinstance(app.screen, MenuScreen)


async def test_missing_data_says_where_and_offers_download(services, tmp_path: Path) -> None:
    services.data_dir = tmp_path / "empty"
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        note = _text(screen, "#data-note")
        assert "not downloaded yet" in note and str(tmp_path / "empty") in note
        assert screen.query_one("#download", Button).display
        await pilot.press("s")
        assert "press Download" in _text(screen, "#form-error")
        assert screen.run_name is None


async def test_run_completes_with_charts_table_and_make_active(services) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#epochs", Input).value = "2"
        screen.query_one("#batch_size", Input).value = "64"
        screen.query_one("#focus", Input).value = "0.5"
        screen.query_one("#name", Input).value = "run-one"
        await pilot.press("s")
        assert screen.run_name == "run-one"
        # Focus epochs' train figures are over each batch's hardest half: the run says so.
        assert "focus 0.5 (train figures after epoch 1: the hardest 50%)" in " ".join(
            _text(screen, "#arch-help").split()
        )
        await _until(pilot, lambda: screen.outcome is not None and not screen.training)
        await pilot.pause(0.3)
        assert screen.data.train_x and screen.data.train_loss
        assert screen.data.epoch_x == [1.0, 2.0]
        assert screen.query_one("#epoch-table", DataTable).row_count == 2
        result = _text(screen, "#result")
        assert result.startswith("Saved run-one: ") and "test accuracy" in result
        assert services.store().info("run-one").complete
        assert services.store().info("run-one").config["focus"] == 0.5
        await pilot.press("a")
        assert services.active_model_name() == "run-one"
        assert "now the active model" in _text(screen, "#result")
        await pilot.press("escape")
        assert isinstance(app.screen, MenuScreen)


async def test_stop_keeps_a_resumable_model(services) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#epochs", Input).value = "40"
        screen.query_one("#batch_size", Input).value = "64"
        screen.query_one("#name", Input).value = "halfway"
        await pilot.press("s")
        await _until(pilot, lambda: len(screen.rows) >= 1)
        pid = Runs(services.store().root).get("halfway").pid
        await pilot.press("x")  # stops, does not leave
        assert app.screen is screen
        started = time.monotonic()
        await _until(pilot, lambda: not screen.training, timeout=10)
        assert time.monotonic() - started < 5
        assert _gone(pid)
        result = _text(screen, "#result")
        assert result.startswith("Stopped: kept halfway at epoch ") and "of 40" in result
        info = services.store().info("halfway")
        assert info.resumable and not info.complete
        # the Models screen offers to resume it; the Train screen opens in resume mode
        await pilot.press("escape")
        app.open_screen("models")
        await pilot.pause()
        table = app.screen.query_one("#models-table", DataTable)
        assert "stopped at epoch" in " ".join(str(c) for c in table.get_row("halfway"))
        table.move_cursor(row=table.get_row_index("halfway"))
        await pilot.press("t")
        await pilot.pause()
        resumed = app.screen
        assert isinstance(resumed, TrainScreen) and resumed.resume == "halfway"
        assert "Resume" in str(resumed.query_one("#start", Button).label)
        assert resumed.query_one("#epoch-table", DataTable).row_count == info.epochs_done


async def test_quit_while_training_asks_keep_or_stop(services) -> None:
    """Quitting with a run going asks; "stop" stops it (keeping its last epoch) and leaves
    no run process behind; Escape in the question does not quit."""
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#epochs", Input).value = "200"
        screen.query_one("#name", Input).value = "quitter"
        await pilot.press("s")
        await _until(pilot, lambda: bool(screen.data.train_x))
        pid = Runs(services.store().root).get("quitter").pid
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert type(app.screen).__name__ == "QuitWithRunsModal"
        assert "quitter training" in str(app.screen.query_one("#quit-question", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and not _gone(pid)
        await pilot.press("ctrl+q")
        await pilot.pause()
        started = time.monotonic()
        await pilot.press("s")
    deadline = time.monotonic() + 15
    while not _gone(pid):
        assert time.monotonic() < deadline, "the run outlived its stop"
        await asyncio.sleep(0.1)
    assert time.monotonic() - started < 15
    assert Runs(services.store().root).get("quitter").status in ("stopped", "failed")


async def test_epochs_without_validation_show_dashes_not_nan(services) -> None:
    """A run with no validation split (val_size 0) reports NaN figures; the screen shows "-"."""
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        nan = float("nan")
        for epoch in (1, 2):
            row = {"epoch": epoch, "train_loss": 0.5 / epoch, "train_acc": 0.9, "val_loss": nan,
                   "val_acc": nan, "lr": 0.01, "elapsed_s": 3.0 * epoch}  # fmt: skip
            screen._add_epoch(row, 2)
        await pilot.pause(0.3)
        table = screen.query_one("#epoch-table", DataTable)
        assert table.row_count == 2
        cells = [str(c) for c in table.get_row_at(1)]
        assert cells[3] == "-" and cells[4] == "-" and "nan" not in " ".join(cells).lower()
        assert screen.data.epoch_x == [] and screen.data.val_acc == []


async def test_the_form_follows_each_recipes_validation_split(services) -> None:
    """`best` trains on all 60,000 images (its recipe); `fast` holds 5,000 out; a --val-size
    given to the app overrides both."""
    from textual.widgets import Select

    services.val_size = None
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        for arch, expected in (("best", 0), ("fast", 5000)):
            screen.query_one("#arch", Select).value = arch
            await pilot.pause()
            cfg, _ = screen.read_config()
            assert (cfg.arch, cfg.val_size) == (arch, expected)
        services.val_size = 200
        cfg, _ = screen.read_config()
        assert cfg.val_size == 200


async def test_quit_keep_running_leaves_the_run_training(services) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#epochs", Input).value = "200"
        screen.query_one("#name", Input).value = "keeper"
        await pilot.press("s")
        await _until(pilot, lambda: bool(screen.data.train_x))
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("k")
        await pilot.pause()
    runs = Runs(services.store().root)
    state = runs.get("keeper")
    assert state.status == "running" and not _gone(state.pid)  # the UI is gone, the run is not
    runs.stop("keeper")
    deadline = time.monotonic() + 15
    while not _gone(state.pid):
        assert time.monotonic() < deadline, "the run outlived its stop"
        await asyncio.sleep(0.1)
