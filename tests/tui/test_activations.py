"""The Activations screen: every layer of every architecture, paged, in colour and ASCII."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui.engine.archs import ARCH_INFO
from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.activations import ActivationsScreen, layer_view


def digit_pixels() -> np.ndarray:
    """A crude "7": a bar and a diagonal, ink bright."""
    pixels = np.zeros((28, 28), dtype=np.float32)
    pixels[6:8, 7:21] = 1.0
    for i in range(14):
        pixels[8 + i, 19 - i // 2 : 21 - i // 2] = 1.0
    return pixels


def save_untrained(services, arch: str) -> str:  # noqa: ANN001
    """Store a freshly built model of ``arch`` (untrained weights) and return its name."""
    from mnist_tui.engine.networks import build_model, count_params
    from mnist_tui.engine.store import build_metadata

    model = build_model(arch)
    name = f"untrained-{arch}"
    services.store().save(
        name,
        model,
        build_metadata(
            arch=arch, dataset="mnist", params=count_params(model), config={"arch": arch},
            history=[], epochs_done=0, epochs=1, complete=False, mean=0.1307, std=0.3081,
        ),
    )  # fmt: skip
    return name


def heading(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#act-heading").render())


def body(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#act-body").render())


async def open_activations(app, pilot, model: str | None = None) -> ActivationsScreen:  # noqa: ANN001
    screen = ActivationsScreen(digit_pixels(), "A test seven", model)
    app.push_screen(screen)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.screen is screen
    return screen


@pytest.mark.parametrize("arch", list(ARCH_INFO))
async def test_every_layer_of_every_architecture(services, arch: str) -> None:  # noqa: ANN001
    from mnist_tui.engine.inspect import activations

    name = save_untrained(services, arch)
    loaded = services.load_model(name)
    expected = activations(loaded.model, digit_pixels(), 0.1307, 0.3081)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_activations(app, pilot, name)
        assert len(screen.outputs) == len(expected)
        assert f"Layer 1 of {len(expected)}" in heading(app)
        assert "A test seven" in heading(app) and name in heading(app)
        for k, layer in enumerate(expected):
            view = screen.current_view
            assert view is not None
            shape = "×".join(str(s) for s in layer.shape)
            assert f"Layer {k + 1} of {len(expected)}: {layer.name} · {shape}" in heading(app)
            if layer.kind == "conv":
                assert view.tiles == layer.shape[0]  # one tile per channel
                assert str(layer.shape[0] - 1) in body(app)  # the last channel's label
            else:
                assert view.tiles == 0
            if k < len(expected) - 1:
                await pilot.press("n")
        # The last page is the softmax as ten bars, and paging stops there.
        assert heading(app).startswith(f"Layer {len(expected)} of")
        assert "Softmax" in heading(app)
        assert body(app).count("%") == 10
        await pilot.press("n")
        assert heading(app).startswith(f"Layer {len(expected)} of")
        await pilot.press("p")
        assert heading(app).startswith(f"Layer {len(expected) - 1} of")
        await pilot.press("f")
        assert heading(app).startswith("Layer 1 of")


def test_conv_heading_and_tiles_match_the_issue_example() -> None:
    from mnist_tui.engine.inspect import LayerActivation

    values = np.random.default_rng(0).normal(size=(16, 24, 24)).astype(np.float32)
    layer = LayerActivation(0, "Conv2d 1→16 5×5", "conv", (16, 24, 24), values)
    view = layer_view(layer, 78)
    assert view.heading == "Conv2d 1→16 5×5 · 16×24×24"
    assert view.tiles == 16
    assert all(line.cell_len <= 78 for line in view.lines)
    per_channel = layer_view(layer, 78, per_channel=True)
    assert "own range" in per_channel.detail and "one scale" in view.detail


def test_dense_strip_wraps_to_width() -> None:
    from mnist_tui.engine.inspect import LayerActivation

    values = np.linspace(-1, 1, 1000).astype(np.float32)
    view = layer_view(LayerActivation(3, "Linear 3136→1000", "dense", (1000,), values), 60)
    assert len(view.lines) == -(-1000 // 60)
    assert all(line.cell_len <= 60 for line in view.lines)
    ascii_view = layer_view(
        LayerActivation(3, "Linear 3136→1000", "dense", (1000,), values), 60, ascii=True
    )
    text = "".join(str(line) for line in ascii_view.lines)
    assert text[0] == " " and text[-1] == "@"  # low to high on the ASCII ramp


async def test_ascii_mode_and_scaling_toggle(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    app.ascii_art = True
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_activations(app, pilot)  # the active tiny "fast" model
        for _ in range(len(screen.outputs)):
            text = body(app)
            assert "▀" not in text and "█" not in text
            await pilot.press("n")
        await pilot.press("f", "pagedown")  # the first conv layer
        assert "one scale" in heading(app)
        await pilot.press("s")
        assert "own range" in heading(app)


async def test_missing_model_is_one_sentence(services) -> None:  # noqa: ANN001
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_activations(app, pilot, "no-such-model")
        error = str(app.screen.query_one("#act-error").render())
        assert error and "\n" not in error and "Traceback" not in error
        await pilot.press("escape")
        assert not isinstance(app.screen, ActivationsScreen)


async def test_an_ensemble_is_walked_one_member_at_a_time(services) -> None:  # noqa: ANN001
    """`m` steps to the next member; its last page is that member's own probabilities."""
    from mnist_tui.engine.calibrate import Calibration
    from mnist_tui.engine.members import Member

    store = services.store()
    tiny = store.load("tiny")
    first = save_untrained(services, "fast")  # a different network from tiny: other answers
    from mnist_tui.engine.ensemble import Ensemble
    from mnist_tui.engine.store import build_metadata

    members = [store.load(first), tiny]
    model = Ensemble([m.model for m in members])
    meta = build_metadata(
        arch="fast", dataset="mnist", params=1, config={"arch": "fast"}, history=[],
        epochs_done=1, epochs=1, complete=True, mean=0.1307, std=0.3081,
        calibration=Calibration(1.0, "test").to_dict(),
        ensemble=[Member.of(m.info).to_dict() for m in members],
    )  # fmt: skip
    store.save("pair", model, meta)
    app = create_app(services)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_activations(app, pilot, "pair")
        assert "member 1 of 2" in heading(app)
        await pilot.press("l")  # the last page: the softmax
        first_probs = body(app)
        await pilot.press("m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "member 2 of 2" in heading(app)
        assert "Softmax" in heading(app)  # the same page, now member 2's
        assert body(app) != first_probs
        await pilot.press("m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "member 1 of 2" in heading(app)
        assert body(app) == first_probs


async def test_a_single_model_offers_no_member_key(services) -> None:  # noqa: ANN001
    app = create_app(services)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_activations(app, pilot, "tiny")
        assert "member" not in heading(app)
        assert screen.check_action("member", ()) is False
