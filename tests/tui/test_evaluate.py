"""Evaluate screen: figures, heatmap and gallery on the small set; missing data; Escape cancels."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.widgets import Static

from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.evaluate import EvaluateScreen
from mnist_tui.tui.widgets.art import ArtView


async def _finish(app, pilot) -> None:  # noqa: ANN001
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_evaluation_shows_accuracy_heatmap_and_gallery(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        assert isinstance(app.screen, EvaluateScreen)
        await _finish(app, pilot)
        screen = app.screen
        summary = str(screen.query_one("#eval-summary", Static).render())
        assert "Accuracy" in summary and "loss" in summary and "of 300" in summary
        tables = screen.query_one("#eval-tables", ArtView).plain.splitlines()
        header = next(i for i, line in enumerate(tables) if line.lstrip().startswith("t\\p"))
        rows = tables[header + 1 : header + 11]
        assert [row.split()[0] for row in rows] == [str(d) for d in range(10)]
        assert sum("%" in line for line in tables) == 10  # per-class accuracy bars
        assert not screen.query_one("#eval-progress").display
        # The small model makes a few mistakes; without any, the gallery says so.
        result = screen.result
        gallery = screen.query_one("#eval-gallery", ArtView).plain
        if result.worst:
            m = result.worst[0]
            assert f"{m.true}→{m.predicted} {m.confidence:.0%}" in gallery
            assert gallery.count("→") >= len(result.worst)
        else:
            assert "No mistakes" in gallery
        await pilot.press("t")
        assert "▀" not in screen.query_one("#eval-gallery", ArtView).plain
        await pilot.press("escape")
        assert not isinstance(app.screen, EvaluateScreen)


async def test_gallery_tiles_label_true_and_predicted(services) -> None:  # noqa: ANN001
    """Mislabel the test set so mistakes are certain; each tile is labelled true→predicted."""
    data = services.load_data()
    data.test.labels = (data.test.labels + 1) % 10
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await _finish(app, pilot)
        worst = app.screen.result.worst
        assert len(worst) == 24
        gallery = app.screen.query_one("#eval-gallery", ArtView).plain
        for m in worst:
            assert f"{m.true}→{m.predicted} {m.confidence:.0%}" in gallery
        assert "▀" in gallery


async def test_missing_data_is_one_sentence(services, tmp_path: Path) -> None:  # noqa: ANN001
    services.data_dir = tmp_path / "empty"
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await _finish(app, pilot)
        error = app.screen.query_one("#eval-error", Static)
        assert error.display
        text = str(error.render())
        assert "not downloaded" in text and str(tmp_path / "empty") in text
        assert app.screen.query_one("#eval-tables", ArtView).plain == ""


async def test_escape_cancels_a_running_evaluation(services) -> None:  # noqa: ANN001
    release = threading.Event()
    real_load = services.load_data

    def slow_load(dataset=None, progress=None):  # noqa: ANN001, ANN202
        release.wait(10)
        return real_load(dataset)

    services.load_data = slow_load
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        for _ in range(100):
            await pilot.pause(0.05)
            if "Loading data" in str(app.screen.query_one("#eval-status").render()):
                break
        assert "Loading data" in str(app.screen.query_one("#eval-status").render())
        await pilot.press("escape")
        assert isinstance(app.screen, EvaluateScreen)
        assert "cancelled" in str(app.screen.query_one("#eval-status").render())
        release.set()
        await _finish(app, pilot)
        assert app.screen.result is None  # the cancelled run never reports
        await pilot.press("escape")
        assert not isinstance(app.screen, EvaluateScreen)
