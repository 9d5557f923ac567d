"""The stream screen on hostile splits: one character per token, words across tokens,
separators, phrases, compounds that must stay harmless, and each of its bounds."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from server.engine.catalog import SafetyLevel, load_word_lists
from server.engine.safety_words import TextTooLong, WordList
from server.engine.stream_screen import (
    MAX_WORD_CHARS,
    OVERLAP_FACTOR,
    OVERLAP_SLACK,
    Screened,
    StreamScreen,
    is_boundary,
    overlap_for,
    phrase_starts,
)

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
WORDS = WordList.from_text("gun\nblood splatter\nschwanz\nkill\nporno*\n")
TAIL = 40


def screen(words: WordList = WORDS, tail: int = TAIL) -> StreamScreen:
    return StreamScreen(words.find, tail, overlap_for(words))


def stream(
    pieces: Iterable[str], words: WordList = WORDS, tail: int = TAIL
) -> tuple[str, str | None]:
    """Feed every piece and finish; what was released, and the hit (None: passed)."""
    scr = screen(words, tail)
    shown: list[str] = []
    for piece in pieces:
        step = scr.feed(piece)
        shown.append(step.release)
        if step.hit is not None:
            return "".join(shown), step.hit
    end = scr.finish("".join(pieces))
    shown.append(end.release)
    return "".join(shown), end.hit


def test_harmless_text_is_released_whole_and_unchanged() -> None:
    text = "A calm lake at dawn, with reeds; a heron waits."
    assert stream(text.split(" ")) == (text.replace(" ", ""), None)  # pieces, not spaces
    pieces = [" A", " calm", " lake", " at", " dawn."]
    assert stream(pieces) == ("".join(pieces), None)


def test_one_character_per_token_finds_the_word_and_never_shows_it() -> None:
    text = "A calm lake, and then a gun appears by the shore."
    shown, hit = stream(list(text))
    assert hit == "gun"
    assert "gun" not in shown
    assert shown == "A calm lake, and then a "  # everything before the word, nothing of it


@pytest.mark.parametrize(
    "pieces",
    [
        [" a g", "un", " here"],
        [" a gu", "n", "!"],
        [" a ", "g", "u", "n", " "],
        [" a GU", "N."],
        [" a g\u200b", "u\u200dn", " "],  # zero-width characters inside the split word
        [" a g", "\u00fcn", " "],  # not the word: ü is its own letter
    ],
)
def test_a_word_split_across_tokens_is_found_before_any_of_it_is_shown(
    pieces: list[str],
) -> None:
    shown, hit = stream(pieces)
    if "\u00fc" in "".join(pieces):
        assert hit is None
        return
    assert hit == "gun"
    assert "g" not in shown.replace(" a ", "")


def test_the_word_at_the_very_end_is_found_by_finish() -> None:
    scr = screen()
    assert scr.feed(" a big g") == Screened(release=" a big ")
    assert scr.feed("un") == Screened()
    assert scr.finish(" a big gun").hit == "gun"
    assert scr.feed(" more") == Screened(hit="gun")  # tripped: nothing more is released
    assert scr.flush() == Screened(hit="gun")
    assert scr.finish(" a big gun more") == Screened(hit="gun")


def test_a_phrase_across_tokens_is_found_at_its_last_word() -> None:
    shown, hit = stream([" then", " blood", " splat", "ter", " everywhere"])
    assert hit == "blood splatter"
    assert "splat" not in shown


def test_separators_between_tokens_do_not_hide_the_phrase() -> None:
    shown, hit = stream([" blood", "-", "splatter", "."])
    assert hit == "blood splatter"
    assert "splatter" not in shown


def test_a_harmless_compound_is_not_blocked_when_split_after_the_listed_part() -> None:
    assert stream([" eine Schwanz", "flosse", " im Meer"]) == (
        " eine Schwanzflosse im Meer",
        None,
    )
    assert stream([" a s", "kill", "ful", " otter"])[1] is None


def test_a_wildcard_entry_is_found_whatever_follows_it() -> None:
    assert stream([" ein porno", "film", " hier"])[1] == "porno*"


TEXTS = (
    "A calm lake, and then a gun appears.",
    "Ein Ritter (mit Schwanzflosse!) schwimmt; skillful otters wave.",
    "blood-splatter on the wall",
    "blood_splatter, then calm",
    "g.u.n and g u n and k.i.l.l, spelled out",
    "Kill!",
    "they said: \u201cporno\u201d.",
    "nothing at all here, only reeds and herons and a long quiet afternoon by the water",
)


def splits(text: str) -> list[list[str]]:
    """One character per token, two, seven, and word-like tokens with leading spaces."""
    sized = [[text[i : i + n] for i in range(0, len(text), n)] for n in (1, 2, 7)]
    return [*sized, [w for w in text.replace(" ", "\0 ").split("\0") if w]]


@pytest.mark.parametrize("text", TEXTS)
def test_the_screen_agrees_with_the_list_on_the_whole_text_however_it_is_split(
    text: str,
) -> None:
    # Whatever the list folds (separators, spellings), the screen reaches the same verdict
    # as a check of the whole text, and a hit never lets the entry's last word be shown.
    expected = WORDS.find(text)
    for pieces in splits(text):
        shown, hit = stream(pieces)
        assert hit == expected, pieces
        if hit is not None:
            assert WORDS.find(shown) is None
            assert len(shown) < len(text)


def test_a_hit_in_the_overlap_behind_released_text_is_still_found() -> None:
    # Released up to "g " (a boundary), then "un" joins it only if the list folds "g un";
    # the window must reach back over what was released, whatever the list makes of it.
    words = WordList.from_text("big gun\n")
    shown, hit = stream([" a big", " ", "gun", " today"], words)
    assert hit == "big gun"
    assert shown == " a big "


def test_the_window_stays_bounded_however_long_the_answer() -> None:
    scr = screen()
    overlap = overlap_for(WORDS)
    for _ in range(2000):
        assert scr.feed(" calm lake").hit is None
        # Bound: the window keeps at most the overlap, its snap to a word start, and the tail.
        assert scr.kept <= overlap + MAX_WORD_CHARS + TAIL + len(" calm lake")
    assert scr.finish("").hit is None


def test_the_overlap_covers_the_longest_entry_after_normalization() -> None:
    words = WordList.from_text("gun\nMaschinengewehr\nstraße\n")
    assert overlap_for(words) == OVERLAP_FACTOR * len("maschinengewehr") + OVERLAP_SLACK
    assert overlap_for(WordList.from_text("")) == OVERLAP_SLACK


def test_the_longest_entry_split_one_character_per_token_is_found() -> None:
    words = WordList.from_text("gun\nMaschinengewehr\n")
    shown, hit = stream([" ein ", *"Maschinengewehr", " da"], words)
    assert hit == "Maschinengewehr"
    assert shown == " ein "


def test_a_tail_without_boundary_is_released_at_the_character_bound() -> None:
    scr = screen(tail=8)
    assert scr.feed("abcdefgh") == Screened()  # exactly the bound: still held
    assert scr.holding == 8
    assert scr.feed("i") == Screened(release="abcdefghi")  # past it: checked and released
    assert scr.holding == 0


def test_a_tail_past_the_bound_that_ends_in_a_listed_word_blocks() -> None:
    assert screen(tail=8).feed("pornoxxxx").hit == "porno*"  # checked as it stands


def test_flush_releases_a_harmless_tail_checked() -> None:
    scr = screen()
    assert scr.feed(" a calm la") == Screened(release=" a calm ")
    assert scr.flush() == Screened(release="la")
    assert scr.feed("ke.") == Screened(release="ke.")
    assert scr.flush() == Screened()  # nothing held


def test_flush_keeps_holding_a_tail_that_ends_in_a_listed_word() -> None:
    scr = screen()
    scr.feed(" eine Schwanz")
    assert scr.flush() == Screened()  # might still become Schwanzflosse: hold, do not block
    assert scr.tripped is None
    assert scr.feed("flosse ") == Screened(release="Schwanzflosse ")
    scr.feed(" a gun")
    assert scr.flush() == Screened()
    assert scr.feed(" now").hit == "gun"


@pytest.mark.parametrize("padding", ["u" * 300, "\u200b" * 300])
def test_a_word_stretched_past_the_overlap_is_reread_from_its_start(padding: str) -> None:
    # Past the tail bound the stretched word is released in parts, but each later check
    # starts at the word's beginning, so the last letter is never shown. (Squeezing repeated
    # letters is the list's business: this holds whenever the list finds the whole text.)
    text = f"calm g{padding}n lake"
    shown, hit = stream(list(text))
    assert hit == WORDS.find(text)
    if hit is not None:
        assert not shown.endswith("n")
        assert "n" not in shown.removeprefix("calm g")


def test_finish_checks_the_whole_answer_once() -> None:
    # A word stretched further than MAX_WORD_CHARS slips the live window; the whole-answer
    # check at the end still finds it.
    stretched = "g" + "\u200b" * (MAX_WORD_CHARS + 2 * TAIL) + "un"
    scr = screen()
    assert all(scr.feed(char).hit is None for char in f"calm {stretched} lake")
    assert scr.finish(f"calm {stretched} lake").hit == "gun"


def test_a_window_too_costly_to_normalize_is_a_hit() -> None:
    def refuse(_text: str) -> str | None:
        raise TextTooLong("grows too much")

    scr = StreamScreen(refuse, TAIL, overlap_for(WORDS))
    assert scr.feed("any text ").hit == ""
    assert StreamScreen(refuse, TAIL, 16).finish("x").hit == ""
    assert StreamScreen(refuse, TAIL, 16).flush() == Screened()  # nothing held


def test_reset_starts_from_nothing() -> None:
    scr = screen()
    assert scr.feed(" a gun ").hit == "gun"
    scr.reset()
    assert scr.feed(" a lake ") == Screened(release=" a lake ")


def test_boundaries_are_whitespace_and_punctuation_but_not_leetspeak() -> None:
    assert all(is_boundary(ch) for ch in " \n\t.,;:!?-\u3002\u00a0")
    assert not any(is_boundary(ch) for ch in "a1\u00fc@$\u200b_")  # "_" joins words in the regex


def test_the_shipped_kids_list_blocks_a_split_word() -> None:
    kids = load_word_lists(WORKFLOWS)[SafetyLevel("kids")]
    shown, hit = stream([" ein Ritter mit einer Pis", "to", "le", " und"], kids)
    assert hit is not None
    assert "Pis" not in shown


def test_an_allowed_phrase_streamed_word_by_word_is_not_blocked_at_its_first_word() -> None:
    words = WordList.from_entries(["killer", "gun", "!killer whale", "!water gun"])
    screen = StreamScreen(words.find, 40, overlap_for(words), phrase_starts(words))
    shown = "".join(
        screen.feed(piece).release for piece in ["A ", "killer ", "whale ", "and ", "a ", "water"]
    )
    assert shown == "A killer whale and a "  # "water" waits: "water gun" would be harmless
    assert screen.feed(" gun ").release == "water gun "
    assert screen.tripped is None
    assert screen.feed("and a killer ").hit is None  # waits for the word after "killer"
    assert screen.feed("shark ").hit == "killer"
