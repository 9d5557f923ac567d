"""Nicknames and names: what is stored for what is typed, and what is refused and why."""

from __future__ import annotations

import pytest

from server.engine.people.errors import InvalidName, InvalidNickname
from server.engine.people.names import MAX_CLASS_NAME, clean_name, name_key
from server.engine.people.nicknames import (
    MAX_NICKNAME_LENGTH,
    MAX_TYPED_LENGTH,
    NicknameRefused,
    clean_nickname,
    nickname_key,
)
from server.engine.safety_words import WordList


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Mia", "Mia"),
        ("  Mia   K.  ", "Mia K."),
        ("Ｍｉａ", "Mia"),  # full-width letters
        ("Jörg_2-b", "Jörg_2-b"),
        ("Zoe\u0308", "Zoë"),  # a decomposed e + diaeresis, composed by NFKC
        ("Дима", "Дима"),
        ("x" * MAX_NICKNAME_LENGTH, "x" * MAX_NICKNAME_LENGTH),
    ],
)
def test_a_nickname_is_stored_normalised(typed: str, stored: str) -> None:
    assert clean_nickname(typed) == stored


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("", "empty"),
        (" \t ", "empty"),
        ("x" * (MAX_NICKNAME_LENGTH + 1), "too_long"),
        ("x" * (MAX_TYPED_LENGTH + 1), "too_long"),
        ("Mia<script>", "characters"),
        ("Mia😀", "characters"),
        ("Mia\u200b", "characters"),  # a zero-width space would hide a twin nickname
        ("\u0301Mia", "characters"),  # a leading combining mark
        ("mia@school.de", "characters"),
    ],
)
def test_a_bad_nickname_names_its_rule(typed: str, rule: str) -> None:
    with pytest.raises(NicknameRefused) as caught:
        clean_nickname(typed)
    assert caught.value.rule == rule
    assert set(caught.value.texts) == {"en", "de"}


def test_a_nickname_the_word_list_blocks_is_refused() -> None:
    words = WordList.from_entries(["stinker"])
    with pytest.raises(InvalidNickname, match="not allowed"):
        clean_nickname("Der STINKER", words)
    assert clean_nickname("Die Stinkwanze", words) == "Die Stinkwanze"


def test_nicknames_are_the_same_by_casefold() -> None:
    assert nickname_key("STRASSE") == nickname_key("straße")
    assert nickname_key("Mia") != nickname_key("Mila")


@pytest.mark.parametrize("typed", ["", "x" * (MAX_CLASS_NAME + 1), "7b\x07", "x" * 10_000])
def test_a_bad_name_is_refused(typed: str) -> None:
    with pytest.raises(InvalidName):
        clean_name(typed, MAX_CLASS_NAME, "A class's name")


def test_a_name_keeps_its_punctuation_and_is_the_same_by_casefold() -> None:
    assert clean_name(" 7b –  Kunst (Mo.) ", MAX_CLASS_NAME, "x") == "7b – Kunst (Mo.)"
    assert name_key("Frau Weber") == name_key("FRAU WEBER")
