"""The look-alike fold: built from Unicode's confusables data, bounded, never touching ASCII."""

from __future__ import annotations

from typing import Any

from server.engine.safety_fold import MAX_TARGET, build_table, fold_confusables


def glyphs(*targets: str) -> list[dict[str, Any]]:
    return [{"c": target, "n": "SOME NAME"} for target in targets]


def test_letters_of_other_alphabets_fold_to_their_latin_look_alikes() -> None:
    assert fold_confusables("кіll gυn ѕех") == "kill gun sex"
    assert fold_confusables("раѕѕ") == "pass"


def test_a_capital_is_judged_by_its_own_shape() -> None:
    # Greek capital Nu looks like N, its small form like v.
    assert fold_confusables("Ν ν") == "n v"


def test_a_capital_look_alike_of_the_shared_i_l_prototype_is_an_i() -> None:
    assert fold_confusables("І") == "i"  # Cyrillic capital, listed with "l"
    table = build_table({"Ӏ": glyphs("l"), "ǀ": glyphs("l")})
    assert table == {ord("Ӏ"): "i", ord("ӏ"): "l", ord("ǀ"): "l"}  # the small form too


def test_ascii_is_never_folded() -> None:
    text = "rn cl 0 1 | click corn"
    assert fold_confusables(text) == text


def test_letters_without_a_latin_look_alike_stay() -> None:
    assert fold_confusables("жщ猫") == "жщ猫"


def test_digits_and_symbols_are_never_targets() -> None:
    table = build_table({"б": glyphs("6"), "∂": glyphs("?")})
    assert table == {}


def test_a_target_longer_than_the_bound_is_skipped() -> None:
    long_target = "x" * (MAX_TARGET + 1)
    table = build_table({"ꝏ": glyphs(long_target), "ꜳ": glyphs("x" * MAX_TARGET)})
    assert table == {ord("ꜳ"): "x" * MAX_TARGET}


def test_a_small_letter_falls_back_to_its_capitals_look_alike() -> None:
    table = build_table({"Т": glyphs("T"), "т": glyphs("ᴛ")})
    assert table[ord("т")] == "t"
    assert table[ord("Т")] == "t"


def test_ascii_keys_of_the_data_are_ignored() -> None:
    assert build_table({"a": glyphs("b"), "rn": glyphs("m")}) == {}
