"""The word check against each evasion trick, and the harmless look-alikes that must pass.

One small list stands in for the shipped ones, so each test names the entry it expects; the
shipped lists are checked against the whole evaluation set in tests/safety/.
"""

from __future__ import annotations

import pytest

from server.engine.safety_words import WordList

WORDS = WordList.from_text(
    """
    kill
    gun
    ass
    sex
    dick
    toeten
    scheisse
    self harm
    zerstueckel*
    killer
    !killer whale
    !water gun
    """
)

CAUGHT = {
    # look-alike letters from other alphabets (UTS #39 confusables)
    "cyrillic": ("kіll", "kill"),  # Cyrillic і
    "cyrillic_small_capital_shapes": ("кill", "kill"),  # к is listed with ĸ, its capital with K
    "greek": ("gυn", "gun"),  # Greek upsilon
    "greek_capital_judged_by_its_shape": ("ΝΑΖΙ ѕех", "sex"),
    "cyrillic_capital_i": ("KІLL", "kill"),  # Cyrillic І, listed with l, is a capital I
    "fullwidth": ("ｇｕｎ", "gun"),
    "math_bold": ("𝐤𝐢𝐥𝐥", "kill"),
    "latin_script_g": ("ɡun", "gun"),
    # spaced letters
    "spaces": ("a g u n", "gun"),
    "two_spaces": ("g  u  n", "gun"),
    "dots": ("g.u.n", "gun"),
    "dots_and_spaces": ("g. u. n", "gun"),
    "hyphens": ("g-u-n", "gun"),
    "underscores": ("a b_i_g g_u_n", "gun"),
    "stars_and_slashes": ("g*u/n", "gun"),
    "spaced_umlaut": ("t ö t e n", "toeten"),
    "spaced_sharp_s": ("S c h e i ß e", "scheisse"),
    "spaced_phrase": ("s e l f - h a r m", "self harm"),
    # stretched letters
    "tripled_vowel": ("kiiill", "kill"),
    "long_run": ("kiiiiiiiiillllllll", "kill"),
    "every_letter_doubled": ("gguunn", "gun"),
    "doubled_umlaut": ("ttöötteenn", "toeten"),
    # leetspeak and signs
    "leet_digits": ("k1ll", "kill"),
    "leet_five_seven_bang": ("5h!7 and 53x", "sex"),
    "leet_signs": ("4$$", "ass"),
    "spaced_leet": ("5 3 x", "sex"),
    "bang_at_the_end_keeps_the_word": ("kill!", "kill"),
    # invisible characters and accents
    "zero_width_space": ("k\u200bill", "kill"),
    "soft_hyphen": ("g\u00adun", "gun"),
    "combining_marks": ("k\u0301i\u0301l\u0301l\u0301", "kill"),
    "umlaut_with_a_second_mark": ("zerstǘckelt", "zerstueckel*"),
    # phrases written together, and two tricks at once
    "phrase_together": ("selfharm", "self harm"),
    "combined_leet_and_spaces": ("k 1 l l", "kill"),
    "combined_lookalike_and_zero_width": ("к\u200bі\u200bl\u200bl", "kill"),
    "killer_outside_the_allowed_phrase": ("a killer whale and a killer", "killer"),
}

HARMLESS = {
    "inside_a_word": "a skill for the class",
    "compound_continues_the_word": "Schwanzflosse und Pistolenkrebs",
    "allowed_phrase": "a killer whale jumping",
    "allowed_phrase_written_together": "a killerwhale",
    "fewer_letters_than_the_entry": "the kil of the river",
    "double_letters_stay": "ein Schiff im Hafen",
    "ascii_is_never_folded": "click the corn",  # UTS #39 skeletons make "dick" and "com"
    "a_number_stays_a_number": "bus number 455",
    "a_short_word_is_not_its_double": "as big as a bus",
    "russian_cat": "кот на крыше",
    "spaced_letters_that_spell_nothing": "a b c d",
    "a_spelled_word_keeps_its_first_letter": "will p a s s the ball",
    "a_toy_gun_phrase": "kids with a water gun",
}


@pytest.mark.parametrize(("text", "entry"), CAUGHT.values(), ids=CAUGHT.keys())
def test_trick_is_caught(text: str, entry: str) -> None:
    assert WORDS.find(text) == entry


@pytest.mark.parametrize("text", HARMLESS.values(), ids=HARMLESS.keys())
def test_harmless_look_alike_passes(text: str) -> None:
    assert WORDS.find(text) is None


def test_allowed_phrase_hides_its_words_only() -> None:
    words = WordList.from_text("killer\ngun\n!killer whale\n")
    assert words.find("a killer whale with a gun") == "gun"
    assert words.allowed == ("killer whale",)
    assert words.entries == ("killer", "gun")


def test_merged_lists_keep_their_allowed_phrases() -> None:
    kids = WordList.from_text("killer\n!killer whale\n")
    youth = WordList.from_text("!killer bee\n")
    merged = youth.merged(kids)
    assert merged.find("a killer whale and a killer bee") is None
    assert merged.find("a killer") == "killer"
