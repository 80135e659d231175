"""The training form is derived from TrainConfig's fields: every setting round-trips form →
config, an invalid one is one sentence, and batch-progress messages coalesce without losing
chart points."""

from __future__ import annotations

from dataclasses import fields, replace

from textual.widgets import Checkbox, Input, Select

from mnist_tui.engine.config import TrainConfig, setting
from mnist_tui.engine.events import BatchProgress
from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.train import TrainScreen
from mnist_tui.tui.training import RunBatch
from mnist_tui.tui.widgets.train_form import TrainForm, form_fields

CHANGED = TrainConfig(
    arch="classic", dataset="fashion", epochs=7, batch_size=33, optimizer="sgd", lr=0.0123,
    scheduler="cosine", augment=True, elastic=2.5, label_smoothing=0.05, weight_decay=0.001,
    ema=0.9, seed=42, device="cpu", threads=3, val_size=123,
)  # fmt: skip


async def open_form(app, pilot, threads: int) -> TrainForm:  # noqa: ANN001
    """The Train screen opened over the menu, and its form."""
    screen = TrainScreen(threads=threads)
    await app.push_screen(screen)
    await pilot.pause()
    return screen.query_one(TrainForm)


async def test_every_form_field_round_trips_to_the_config(services) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, threads=3)
        offered = {f.name for f in form_fields()}
        assert offered == {f.name for f in fields(TrainConfig) if setting(f).form}
        assert {"elastic", "ema", "label_smoothing", "weight_decay", "val_size"} <= offered
        for f in form_fields():  # as a user would: type, tick, pick
            widget = form.query_one(f"#{f.name}")
            value = getattr(CHANGED, f.name)
            if isinstance(widget, Select):
                widget.value = value
            elif isinstance(widget, Checkbox):
                widget.value = value
            else:
                assert isinstance(widget, Input)
                widget.value = str(value)
            await pilot.pause()
        assert form.read(device="cpu", threads=3) == CHANGED
        services.val_size = None
        cfg, _ = form.screen.read_config()
        assert cfg == replace(CHANGED, device=services.device)
        form.query_one("#elastic", Input).value = "101"
        assert form.read() == "Elastic must be between 0 and 100."


def test_batch_messages_coalesce_keeping_every_chart_point() -> None:
    older = RunBatch("r", BatchProgress(1, 2, 1, 10, 0.9, 1.0, 1.0, 0.1, 1.0))
    newer = RunBatch("r", BatchProgress(1, 2, 5, 10, 0.5, 1.0, 1.0, 0.1, 1.0))
    other = RunBatch("s", BatchProgress(1, 2, 6, 10, 0.4, 1.0, 1.0, 0.1, 1.0))
    assert older.can_replace(newer)
    assert newer.points == [(0.1, 0.9), (0.5, 0.5)]
    assert not newer.can_replace(other)  # another run's progress never replaces this one's


async def test_choosing_fashion_fills_fashions_own_recipe(services) -> None:
    """Fashion's fast recipe is the full-frame network: a user who picks the data set sees it."""
    from mnist_tui.engine.config import recipe

    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, threads=1)
        assert form.value("arch") == "fast"
        form.query_one("#dataset", Select).value = "fashion"
        await pilot.pause()
        assert form.value("arch") == "fastfull"
        assert form.read(device="auto", threads=0) == recipe("fast", "fashion")
        form.query_one("#arch", Select).value = "best"
        await pilot.pause()
        assert form.read(device="auto", threads=0) == recipe("best", "fashion")  # its split
        assert form.value("arch") == "wide"  # clothes' best recipe trains the wider network
        help_line = form.screen.query_one("#arch-help")
        assert str(help_line.render()).startswith("wide:")  # the network it trains, described
        form.query_one("#dataset", Select).value = "mnist"
        await pilot.pause()
        assert form.value("arch") == "best" and not form.query_one("#flip", Checkbox).value
        assert str(help_line.render()).startswith("best:")
        form.query_one("#dataset", Select).value = "fashion"
        await pilot.pause()
        form.query_one("#arch", Select).value = "fast"
        await pilot.pause()
        assert form.value("arch") == "fastfull"
        form.query_one("#dataset", Select).value = "mnist"
        await pilot.pause()
        assert form.value("arch") == "fast"  # back to digits: the digits' fast network


async def test_a_fashion_session_opens_the_form_on_fashions_recipe(services) -> None:
    """`mnist-tui --dataset fashion`, then Train: the form holds clothes' recipe, not digits'."""
    from mnist_tui.engine.config import recipe

    services.dataset = "fashion"
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, threads=1)
        assert form.value("dataset") == "fashion" and form.value("arch") == "fastfull"
        assert form.read(device="auto", threads=0) == recipe("fast", "fashion")
        assert "fastfull" in str(form.screen.query_one("#arch-help").render())


async def test_a_switch_that_is_off_shows_an_empty_box(services) -> None:
    """Over SSH at 16 colours on and off must differ in the text itself, not in the X's shade."""
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, threads=1)
        augment = form.query_one("#augment", Checkbox)
        assert not augment.value and "▐ ▌" in augment.render().plain  # `fast`: no augmentation
        form.query_one("#arch", Select).value = "best"
        await pilot.pause()
        assert augment.value and "▐X▌" in augment.render().plain  # `best` augments
