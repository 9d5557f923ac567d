"""Join codes and PINs: their alphabet, their length, how typed codes are normalised."""

from __future__ import annotations

import re

from server.engine.people.codes import (
    ALPHABET,
    CODE_LENGTH,
    new_code,
    new_pin,
    normalise_code,
    show_code,
)


def test_the_alphabet_has_no_character_children_misread() -> None:
    assert not set("0O1IL") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31


def test_a_code_is_eight_characters_of_the_alphabet() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert len(codes) == 200  # drawn from secrets, not a constant


def test_a_code_is_shown_in_two_halves() -> None:
    assert show_code("ABCDEFGH") == "ABCD-EFGH"


def test_typed_codes_are_normalised() -> None:
    assert normalise_code(" abcd-efgh ") == "ABCDEFGH"
    assert normalise_code("AB CD_EF\tGH") == "ABCDEFGH"
    assert normalise_code(show_code("K7M2P9QX")) == "K7M2P9QX"


def test_a_typed_code_is_cut_at_its_bound() -> None:
    assert len(normalise_code("A" * 10_000)) == 64


def test_a_pin_is_six_digits_leading_zeros_kept() -> None:
    pins = [new_pin() for _ in range(300)]
    assert all(re.fullmatch(r"\d{6}", pin) for pin in pins)
    assert len(set(pins)) > 250
