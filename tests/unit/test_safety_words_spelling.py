"""Spaced and stretched letters: the forms of a normalized text the word list is matched on."""

from __future__ import annotations

from server.engine.safety_spelling import MAX_RUN, spellings, squeeze


def test_a_run_longer_than_the_bound_is_cut_to_it() -> None:
    assert squeeze("k" + "i" * (MAX_RUN + 1) + "ll") == "k" + "i" * MAX_RUN + "ll"
    assert squeeze("k" + "i" * MAX_RUN + "ll") == "k" + "i" * MAX_RUN + "ll"


def test_digits_and_separators_are_not_squeezed() -> None:
    assert squeeze("10000 ----") == "10000 ----"


def test_a_spelled_out_umlaut_written_twice_is_once() -> None:
    assert squeeze("ttoeoetteenn") == "ttoetteenn"


def test_plain_text_has_one_form() -> None:
    assert spellings("a castle at dawn") == ("a castle at dawn",)


def test_spaced_letters_are_joined_three_ways() -> None:
    forms = spellings("a g u n")
    assert "agun" in forms
    assert "a gun" in forms


def test_tight_separators_keep_spelled_words_apart() -> None:
    assert "big gun" in spellings("b_i_g g_u_n")


def test_a_single_letter_between_words_stays() -> None:
    assert spellings("i saw a fox") == ("i saw a fox",)


def test_a_long_spaced_run_is_joined_whole() -> None:
    text = " ".join("ab" * 5000)
    assert spellings(text)[1] == "ab" * 5000
