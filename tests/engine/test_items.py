"""Pictures for a Fashion-MNIST model: one whole item, classified as the data set's pictures
were made (background trimmed, longest edge 28, item bright on black). Never read as a number,
never worded as a digit. The shipped Fashion default answers; no Fashion data is needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_tui.cli import main
from mnist_tui.engine.items import NO_ITEM, item_pixels, preprocess_item
from mnist_tui.engine.predict import probabilities, read_number, read_number_path
from mnist_tui.engine.store import ModelStore

FASHION_CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"}  # fmt: skip


@pytest.fixture(scope="module")
def fashion():  # noqa: ANN201
    store = ModelStore(Path(__file__).resolve().parents[2] / "models")
    return store.load("default-fashion")


def trousers() -> np.ndarray:
    """A data-set-style 28x28: a pair of trousers, bright on black, filling the height."""
    image = Image.new("L", (28, 28), 0)
    draw = ImageDraw.Draw(image)
    draw.polygon([(9, 0), (19, 0), (21, 27), (16, 27), (14, 8), (12, 27), (7, 27)], fill=170)
    return np.asarray(image, dtype=np.float32) / 255


def product_photo(item: np.ndarray, size: tuple[int, int] = (520, 400)) -> Image.Image:
    """The item as a shop photographs it: dark on a white background, enlarged, off centre."""
    dark = Image.fromarray(np.round((1 - item) * 255).astype(np.uint8)).resize(
        (280, 280), Image.Resampling.BICUBIC
    )
    photo = Image.new("L", size, 255)
    photo.paste(dark, (40, 70))
    return photo.convert("RGB")


def test_a_product_photo_becomes_the_data_sets_own_picture() -> None:
    item = trousers()
    pixels, box = item_pixels(np.asarray(product_photo(item).convert("L"), np.float32) / 255)
    assert box is not None
    left, top, right, bottom = box
    assert top <= 75 and bottom >= 345  # the whole height of the trousers, nothing more
    assert 40 + 60 < left and right < 40 + 240  # trimmed to the item, not the white around it
    assert float(np.abs(pixels - item).mean()) < 0.05  # what the network sees: the same picture


def test_a_data_set_picture_is_fed_as_it_is(fashion) -> None:  # noqa: ANN001
    item = trousers()
    pre = preprocess_item(Image.fromarray(np.round(item * 255).astype(np.uint8)))
    assert pre.found and np.allclose(pre.pixels, np.round(item * 255) / 255, atol=1e-6)
    reading = read_number(fashion, Image.fromarray(np.round(item * 255).astype(np.uint8)))
    expected = probabilities(fashion, pre.pixels)
    assert np.allclose(reading.digits[0].probabilities, expected, atol=1e-5)


def test_two_items_in_a_row_are_one_answer_never_a_number(fashion, tmp_path: Path) -> None:  # noqa: ANN001
    """A pair of shoes side by side used to be read like a two-digit number ("SneakerSandal")."""
    photo = Image.new("RGB", (600, 300), (250, 250, 250))
    draw = ImageDraw.Draw(photo)
    for x in (60, 330):
        draw.polygon([(x, 200), (x + 60, 120), (x + 120, 150), (x + 210, 170), (x + 210, 220),
                      (x, 220)], fill=(40, 40, 50))  # fmt: skip
    path = tmp_path / "shoes.jpg"
    photo.save(path)
    reading = read_number_path(fashion, path)
    assert not reading.is_number and len(reading.digits) == 1
    answer = reading.digits[0]
    assert answer.label in FASHION_CLASSES and answer.noun == "item"
    assert "digit" not in answer.message
    line = answer.to_dict()
    assert line["label"] == answer.label and "number" not in line


def test_a_blank_photo_says_no_item(fashion) -> None:  # noqa: ANN001
    reading = read_number(fashion, Image.new("RGB", (400, 300), (240, 240, 235)))
    (answer,) = reading.digits
    assert not answer.found and answer.digit is None and answer.message == NO_ITEM


def test_the_cli_answers_a_fashion_photo_in_its_own_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "trousers.png"
    product_photo(trousers()).save(path)
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 200), 255).save(blank)
    store = ("--models-dir", str(tmp_path / "store"))
    # The data set given before the command counts (it used to be dropped).
    code = main([*store, "--dataset", "fashion", "predict", str(path), str(blank)])
    out, err = capsys.readouterr()
    assert code == 0, err
    first, second = out.splitlines()
    name = first.split(": ", 1)[1].split(" (")[0]
    assert name in FASHION_CLASSES and "digit" not in out
    assert second.endswith("no item found")
    code = main([*store, "predict", "--dataset", "fashion", "--json", str(path)])
    result = json.loads(capsys.readouterr().out)
    assert result["label"] == name and "number" not in result
