"""The accuracy chart's title tells the truth before the first validation figure arrives."""

from __future__ import annotations

from textual.app import App, ComposeResult

from mnist_tui.tui.widgets.run_charts import RunCharts, Series


class _Charts(App[None]):
    def compose(self) -> ComposeResult:
        yield RunCharts()


async def _title(series: list[Series]) -> str:
    app = _Charts()
    async with app.run_test(size=(100, 20)) as pilot:
        app.query_one(RunCharts).draw(series)
        await pilot.pause()
        acc = app.query_one("#acc-chart")
        return "\n".join(line.text for line in acc.render_lines(acc.region.reset_offset))


async def test_a_run_with_a_validation_split_is_not_called_one_without() -> None:
    during_epoch_1 = Series("run", train_x=[0.1, 0.2], train_loss=[2.0, 1.5], epochs=2)
    during_epoch_1.validates = True
    text = await _title([during_epoch_1])
    assert "after epoch 1" in text and "No validation split" not in text
    during_epoch_1.validates = False  # --val-size 0: every image trains
    assert "No validation split" in await _title([during_epoch_1])
    with_figures = Series("run", train_x=[0.5, 1.0], train_loss=[1.0, 0.5], epoch_x=[1.0],
                          val_loss=[0.4], val_acc=[97.9], epochs=2, validates=True)  # fmt: skip
    text = await _title([with_figures])
    assert "Validation accuracy %" in text and "after epoch 1" not in text
