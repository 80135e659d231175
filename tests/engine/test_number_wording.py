"""How a reading of several pieces is worded: a word or a label with letters is "not read", its
pieces are "pieces" (not "digits"), and one sentence says what to do."""

from __future__ import annotations

import numpy as np

from mnist_tui.engine.predict import NumberReading, Prediction


def _piece(digit: int | None, confidence: float = 0.99) -> Prediction:
    probs = [0.0] * 10
    probs[3 if digit is None else digit] = confidence
    return Prediction(
        digit, confidence, probs, np.zeros((28, 28), np.float32), True, "",
        guess=3 if digit is None else digit, rejected=digit is None,
    )  # fmt: skip


def test_a_number_is_worded_as_digits() -> None:
    reading = NumberReading([_piece(4), _piece(2)], "n.png")
    assert reading.number == "42" and reading.unit == "digits" and reading.message == ""


def test_pieces_that_are_not_digits_mean_no_number_and_say_why() -> None:
    reading = NumberReading([_piece(None), _piece(1), _piece(None), _piece(0)], "hello.png")
    assert reading.number is None and reading.unit == "pieces" and reading.refused == 2
    assert reading.message == (
        "2 of 4 pieces do not look like digits (letters or marks?); crop the picture to the number."
    )
    assert reading.to_dict()["note"] == reading.message


def test_the_cli_line_says_pieces(capsys) -> None:  # noqa: ANN001
    from mnist_tui.cli import _print_number

    _print_number("hello.png", NumberReading([_piece(None), _piece(1)], "hello.png"), False)
    line = capsys.readouterr().out.strip()
    assert line.startswith("hello.png: not read (2 pieces: 3? not a digit, 1 99%)")
    assert "do not look like digits" in line
