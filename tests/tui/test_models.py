"""Models screen: the store as a table; activate, rename, delete, broken files, resume."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import DataTable, Input, Static

from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.models import ConfirmModal, ModelsScreen, RenameModal

STATE = 4  # the state column, kept visible at 80 columns


def _names(screen: ModelsScreen) -> list[str]:
    table = screen.query_one("#models-table", DataTable)
    return [str(table.get_row_at(i)[0]).strip("●* ") for i in range(table.row_count)]


def _row(screen: ModelsScreen, name: str) -> list[str]:
    """A row's cells in the screen's full column order ("" for a column a narrow window drops)."""
    table = screen.query_one("#models-table", DataTable)
    labels = [str(column.label) for column in table.columns.values()]
    cells = dict(zip(labels, (str(c) for c in table.get_row(name)), strict=True))
    return [cells.get(label, "") for label in ModelsScreen.COLUMNS]


def _message(screen: ModelsScreen) -> str:
    return str(screen.query_one("#models-message", Static).render())


async def _select(pilot, screen: ModelsScreen, name: str) -> None:  # noqa: ANN001
    table = screen.query_one("#models-table", DataTable)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


async def test_lists_store_and_makes_active(services, store_dir: Path) -> None:
    shutil.copy(store_dir / "tiny.safetensors", store_dir / "other.safetensors")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        assert set(_names(screen)) == {"tiny", "other"}
        assert "active" in _row(screen, "tiny")[STATE]
        assert _row(screen, "tiny")[1] == "fast"
        await _select(pilot, screen, "other")
        await pilot.press("a")
        assert services.active_model_name() == "other"
        assert "active" in _row(screen, "other")[STATE]
        assert "active" not in _row(screen, "tiny")[STATE]
        await _select(pilot, screen, "tiny")
        await pilot.press("enter")
        assert services.active_model_name() == "tiny"
        assert "tiny is now the active model" in _message(screen)
        await _select(pilot, screen, "other")
        await pilot.press("enter")
        await pilot.press("escape")
        assert not isinstance(app.screen, ModelsScreen)
        # the menu's status line follows the change
        assert "Model: other" in str(app.screen.query_one("#status-line", Static).render())


async def test_rename_validates_and_follows_active(services, store_dir: Path) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        screen = app.screen
        await _select(pilot, screen, "tiny")
        await pilot.press("r")
        assert isinstance(app.screen, RenameModal)
        field = app.screen.query_one("#new-name", Input)
        field.value = "bad name!"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RenameModal)  # refused, still asking
        assert "not a valid model name" in str(app.screen.query_one("#rename-error").render())
        field.value = "renamed"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert _names(screen) == ["renamed"]
        assert (store_dir / "renamed.safetensors").is_file()
        assert not (store_dir / "tiny.safetensors").exists()
        assert services.active_model_name() == "renamed"
        assert "Renamed tiny to renamed" in _message(screen)
        # Escape in the modal cancels without renaming
        await pilot.press("r")
        await pilot.press("escape")
        await pilot.pause()
        assert _names(screen) == ["renamed"]


async def test_delete_asks_first(services, store_dir: Path) -> None:
    shutil.copy(store_dir / "tiny.safetensors", store_dir / "other.safetensors")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        screen = app.screen
        await _select(pilot, screen, "other")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await pilot.pause()
        assert set(_names(screen)) == {"tiny", "other"}
        await pilot.press("d")
        await pilot.press("y")
        await pilot.pause()
        assert _names(screen) == ["tiny"]
        assert not (store_dir / "other.safetensors").exists()
        assert "Deleted other" in _message(screen)


async def test_broken_checkpoint_is_listed_and_others_work(services, store_dir: Path) -> None:
    (store_dir / "broken.safetensors").write_bytes(b"\x13\x37" * 300)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        screen = app.screen
        assert set(_names(screen)) == {"tiny", "broken"}
        assert _row(screen, "broken")[STATE].startswith("unusable: ")
        await _select(pilot, screen, "broken")
        await pilot.press("a")
        assert "broken cannot be used" in _message(screen)
        assert services.active_model_name() == "tiny"
        await pilot.press("t")
        assert app.screen is screen
        assert "cannot be resumed" in _message(screen)
        await pilot.press("d", "y")
        await pilot.pause()
        assert _names(screen) == ["tiny"]
        await _select(pilot, screen, "tiny")
        await pilot.press("t")  # finished: not resumable
        assert "cannot be resumed" in _message(screen)
