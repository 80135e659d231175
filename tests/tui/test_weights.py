"""Weights screen: a known filter pattern drawn as labelled tiles; toggles; model picker."""

from __future__ import annotations

import re

import pytest

from mnist_tui.render import diverging
from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.weights import WeightsScreen
from mnist_tui.tui.widgets.art import ArtView


@pytest.fixture
def patterned(services):  # noqa: ANN001, ANN201
    """The tiny model with first-layer weights set to a known pattern, served by ``services``:
    filter 0 has +1 at its top-left, filter 1 has -1, filter 2 has +0.5, all else is zero."""
    import torch

    from mnist_tui.engine.inspect import first_conv

    loaded = services.store().load("tiny")
    conv = first_conv(loaded.model)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0, 0] = 1.0
        conv.weight[1, 0, 0, 0] = -1.0
        conv.weight[2, 0, 0, 0] = 0.5
    services.load_model = lambda name=None: loaded
    from mnist_tui.engine.inspect import first_layer_filters

    return first_layer_filters(loaded.model).shape  # as shown: (filters, kh, kw) in pixels


def _grid(app) -> str:  # noqa: ANN001
    return app.screen.query_one("#weights-grid", ArtView).plain


def _labels(plain: str) -> list[int]:
    """The tile labels: lines made only of numbers and spaces."""
    return [
        int(token)
        for line in plain.splitlines()
        if line.strip() and re.fullmatch(r"[\d ]+", line)
        for token in line.split()
    ]


async def _open(app, pilot) -> None:  # noqa: ANN001
    await pilot.press("2")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, WeightsScreen)


async def test_known_filters_in_colour_and_ascii(services, patterned) -> None:  # noqa: ANN001
    n, kh, kw = patterned
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot)
        head = str(app.screen.query_one("#weights-head").render())
        assert f"{n} filters of {kh}×{kw}" in head and "tiny" in head and "shared" in head
        grid = app.screen.query_one("#weights-grid", ArtView)
        assert "▀" in grid.plain
        # The strongest positive weight is drawn in the top colour of the diverging scale.
        r, g, b = diverging(1.0).tolist()
        colours = {
            span.style.color.get_truecolor()[:3]
            for line in grid.lines
            for span in line.spans
            if hasattr(span.style, "color") and span.style.color is not None
        }
        assert (r, g, b) in colours
        legend = app.screen.query_one("#weights-legend", ArtView).plain
        assert "-1" in legend and "+1" in legend

        await pilot.press("t")
        plain = _grid(app)
        assert "▀" not in plain
        assert _labels(plain) == list(range(n))
        # +1 is the ramp's top character, -1 its bottom; +0.5 is not yet the top on a shared scale.
        shared_hashes = plain.count("#")
        assert shared_hashes > 0 and "=" in plain

        await pilot.press("p")
        assert "per-filter" in str(app.screen.query_one("#weights-head").render())
        # Per-filter scaling stretches filter 2's +0.5 to the top character too.
        assert _grid(app).count("#") == 2 * shared_hashes


async def test_ascii_art_setting_starts_in_ascii_and_resize_uses_space(
    services,
    patterned,  # noqa: ANN001
) -> None:
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.ascii_art = True
        await _open(app, pilot)
        small = _grid(app)
        assert "▀" not in small and "#" in small
        width_small = max(len(line) for line in small.splitlines())
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        await pilot.pause()
        big = _grid(app)
        assert max(len(line) for line in big.splitlines()) > width_small
        assert max(len(line) for line in big.splitlines()) <= 160


async def test_unusable_model_is_one_sentence(services) -> None:  # noqa: ANN001
    from mnist_tui.errors import CheckpointError

    def broken(name=None):  # noqa: ANN001, ANN202
        raise CheckpointError("tiny.safetensors could not be read; delete it or train it again.")

    services.load_model = broken
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot)
        error = app.screen.query_one("#weights-error")
        assert error.display and "could not be read" in str(error.render())
        await pilot.press("escape")
        assert not isinstance(app.screen, WeightsScreen)


async def test_model_picker_lists_usable_models(services, store_dir) -> None:  # noqa: ANN001
    import shutil

    from textual.widgets import OptionList

    from mnist_tui.tui.widgets.model_picker import ModelPicker

    shutil.copy(store_dir / "tiny.safetensors", store_dir / "other.safetensors")
    (store_dir / "broken.safetensors").write_bytes(b"not a checkpoint")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, ModelPicker)
        options = app.screen.query_one(OptionList)
        ids = {options.get_option_at_index(i).id for i in range(options.option_count)}
        assert ids == {"tiny", "other"}
        options.highlighted = options.get_option_index("other")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, WeightsScreen)
        assert "other" in str(app.screen.query_one("#weights-head").render())
