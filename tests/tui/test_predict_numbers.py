"""Predict screen with a number: the number, each digit's 28x28, and [ ] to choose a digit."""

from __future__ import annotations

import sys
from pathlib import Path

from textual.widgets import DataTable, Input

from mnist_tui.engine.store import ModelStore
from mnist_tui.tui.app import create_app
from mnist_tui.tui.screens.predict import PredictScreen
from mnist_tui.tui.widgets.art import ArtView

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from imagestyles import number, scan  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[2] / "models"


async def _predict(app, pilot, path: str) -> None:  # noqa: ANN001
    box = app.screen.query_one("#predict-path", Input)
    box.focus()
    box.value = path
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_a_number_shows_each_digit_and_brackets_choose_one(
    services,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    services._store = ModelStore(tmp_path / "store", shipped=SHIPPED)
    year = tmp_path / "year.png"
    number("2026").save(year)
    seven = tmp_path / "seven.png"
    scan(7, 1).save(seven)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        assert isinstance(app.screen, PredictScreen)
        await _predict(app, pilot, str(year))
        strip = app.screen.query_one("#predict-number", ArtView)
        assert strip.display and "Number 2026" in strip.plain
        assert "▸2" in strip.plain  # the first digit is chosen
        result = app.screen.query_one("#predict-result", ArtView).plain
        assert "Digit 2" in result
        await pilot.press("]")
        await pilot.pause()
        assert "Digit 0" in app.screen.query_one("#predict-result", ArtView).plain
        assert "▸0" in strip.plain
        await pilot.press("[", "[")
        await pilot.pause()
        assert "Digit 6" in app.screen.query_one("#predict-result", ArtView).plain
        table = app.screen.query_one("#predict-history", DataTable)
        assert str(table.get_row_at(0)[1]) == "2026"
        # A single digit afterwards hides the number strip and answers as before.
        await _predict(app, pilot, str(seven))
        assert not strip.display
        assert "Digit 7" in app.screen.query_one("#predict-result", ArtView).plain


async def test_at_80x24_a_number_keeps_all_ten_bars_on_screen(
    services,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    services._store = ModelStore(tmp_path / "store", shipped=SHIPPED)
    year = tmp_path / "year.png"
    number("2026").save(year)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await _predict(app, pilot, str(year))
        strip = app.screen.query_one("#predict-number", ArtView)
        assert "Number 2026" in strip.plain and "▸2" in strip.plain
        view = app.screen.query_one("#predict-result", ArtView)
        scroll = app.screen.query_one("#predict-scroll")
        lines = view.plain.splitlines()
        bars = [i for i, line in enumerate(lines) if line.rstrip().endswith(("%", "◀"))]
        assert len(bars) == 10
        bottom = view.region.y + bars[-1]  # the screen row of the tenth bar
        assert bottom < scroll.region.y + scroll.region.height, "the tenth bar is on screen"
        assert scroll.scroll_y == 0, "the number's own line is not scrolled off the top"
        # On a tall screen the strip also shows every digit's 28x28.
        await pilot.resize_terminal(100, 40)
        await pilot.pause()
        await pilot.pause()
        assert len(strip.plain.splitlines()) > 3
        await pilot.resize_terminal(80, 24)
        # The next answer, a single digit, is read from its first line too (focusing the
        # history table under it used to scroll the verdict off the top).
        seven = tmp_path / "seven.png"
        scan(7, 1).save(seven)
        await _predict(app, pilot, str(seven))
        await pilot.pause()
        assert scroll.scroll_y == 0 and view.plain.splitlines()[0].startswith("Digit 7")
        assert app.screen.focused is app.screen.query_one("#predict-history", DataTable)


async def test_a_fashion_session_answers_a_row_of_shoes_as_one_item(
    services,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    """Clothes are never read as a number nor worded as digits."""
    from PIL import Image, ImageDraw

    services._store = ModelStore(tmp_path / "store", shipped=SHIPPED)
    services.dataset = "fashion"
    photo = Image.new("RGB", (600, 300), (250, 250, 250))
    draw = ImageDraw.Draw(photo)
    for x in (60, 330):
        draw.polygon([(x, 200), (x + 60, 120), (x + 210, 170), (x + 210, 220), (x, 220)],
                     fill=(40, 40, 50))  # fmt: skip
    shoes = tmp_path / "shoes.png"
    photo.save(shoes)
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 200), 255).save(blank)
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        await _predict(app, pilot, str(shoes))
        assert not app.screen.query_one("#predict-number", ArtView).display
        result = app.screen.query_one("#predict-result", ArtView).plain
        assert "Class " in result and "digit" not in result.lower()
        await _predict(app, pilot, str(blank))
        result = app.screen.query_one("#predict-result", ArtView).plain
        assert "No item found" in result and "digit" not in result.lower()
        table = app.screen.query_one("#predict-history", DataTable)
        assert str(table.get_row_at(0)[2]) == "no item"


async def test_at_80x24_a_long_label_keeps_every_piece_and_the_whole_note(
    services,  # noqa: ANN001
) -> None:
    """A door sign ("Room 42") is 7 pieces, 2 of them letters: on 80 columns the note wraps and
    the pieces go on two rows, where both were cut at the window's edge."""
    import numpy as np

    from mnist_tui.engine.predict import NumberReading, Prediction

    def piece(digit: int | None) -> Prediction:
        probs = [0.0] * 10
        probs[8 if digit is None else digit] = 0.99
        return Prediction(
            digit, 0.99, probs, np.zeros((28, 28), np.float32), True, "",
            guess=8 if digit is None else digit, rejected=digit is None,
        )  # fmt: skip

    reading = NumberReading([piece(d) for d in (None, 0, 0, None, 1, 4, 2)], "room42.png")
    app = create_app(services, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        app.screen.show(reading)
        await pilot.pause()
        strip = app.screen.query_one("#predict-number", ArtView)
        lines = strip.plain.splitlines()
        assert lines[0].startswith("Not read as a number  7 pieces")
        scroll = app.screen.query_one("#predict-scroll")
        assert max(len(line) for line in lines) <= scroll.size.width, "nothing is cut"
        assert reading.message in " ".join(line.strip() for line in lines)
        # Each piece's caption: "8?" for a refused one, "0 99%" for a digit; all seven shown.
        captions = [word for line in lines[1:] for word in line.split() if word[-1] in "?%"]
        assert captions == ["▸8?", "99%", "99%", "8?", "99%", "99%", "99%"]
