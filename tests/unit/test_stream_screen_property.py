"""Properties of the stream screen over generated answers and arbitrary splits: it reaches the
whole text's verdict, and what it released never holds a listed entry."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine.safety_words import WordList
from server.engine.stream_screen import StreamScreen, overlap_for

WORDS = WordList.from_text("gun\nblood splatter\nschwanz\nkill\nporno*\nmörder\nass\n")
TAIL = 40

#: Listed words, near misses and harmless words (compounds included), in both languages.
VOCABULARY = (
    *("gun", "guns", "gunner", "kill", "skill", "killer", "blood", "splatter", "schwanz"),
    *("schwanzflosse", "porno", "pornofilm", "mörder", "moerder", "Mörder", "ass", "class"),
    *("passage", "lake", "see", "calm", "ruhig", "Fuchs", "fox", "the", "a", "ein", "und"),
)
SEPARATORS = (" ", "  ", ", ", ". ", "-", "_", "\n", "! ", "\u200b", "; ")

words = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=30)
separators = st.lists(st.sampled_from(SEPARATORS), min_size=30, max_size=30)
cuts = st.lists(st.integers(min_value=1, max_value=400), max_size=80)


def compose(chosen: list[str], seps: list[str]) -> str:
    return "".join(w + s for w, s in zip(chosen, seps, strict=False))


def split(text: str, positions: list[int]) -> list[str]:
    points = sorted({p % (len(text) + 1) for p in positions} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


def run(pieces: list[str], flush_every: int = 0) -> tuple[str, str | None]:
    screen = StreamScreen(WORDS.find, TAIL, overlap_for(WORDS))
    shown: list[str] = []
    for number, piece in enumerate(pieces, start=1):
        step = screen.feed(piece)
        shown.append(step.release)
        if step.hit is not None:
            return "".join(shown), step.hit
        if flush_every and number % flush_every == 0:
            shown.append(screen.flush().release)
    end = screen.finish("".join(pieces))
    shown.append(end.release)
    return "".join(shown), end.hit


@settings(max_examples=300)
@given(words, separators, cuts)
def test_the_screen_agrees_with_the_whole_text_check(
    chosen: list[str], seps: list[str], positions: list[int]
) -> None:
    text = compose(chosen, seps)
    shown, hit = run(split(text, positions))
    assert hit == WORDS.find(text)
    if hit is None:
        assert shown == text  # everything released, in order, nothing lost
    else:
        assert WORDS.find(shown) is None  # nothing released that holds an entry
        assert text.startswith(shown)


@settings(max_examples=200)
@given(words, separators, cuts, st.integers(min_value=1, max_value=5))
def test_timed_flushes_never_release_an_entry(
    chosen: list[str], seps: list[str], positions: list[int], every: int
) -> None:
    # A flush checks a tail as if its word ended there; it may show a word's beginning, never
    # a whole listed entry, and never blocks a harmless text.
    text = compose(chosen, seps)
    shown, hit = run(split(text, positions), flush_every=every)
    if hit is None:
        assert WORDS.find(text) is None
        assert shown == text
    else:
        assert WORDS.find(text) is not None
        assert WORDS.find(shown) is None
