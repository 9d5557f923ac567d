"""The ASCII fast path of `normalize` gives what the full path gives, for every ASCII text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.engine.safety_normalize import normalize

ASCII = st.text(st.characters(max_codepoint=127), max_size=200)


def full_path(text: str) -> str:
    """`normalize` with the fast path taken away: a non-ASCII character that every step
    removes (a zero-width space) forces the full path, and is gone from the result."""
    return normalize("\u200b" + text)


@given(ASCII)
def test_ascii_text_normalizes_as_the_full_path_does(text: str) -> None:
    assert normalize(text) == full_path(text)


def test_every_ascii_character_alone_agrees() -> None:
    for code in range(128):
        assert normalize(chr(code)) == full_path(chr(code)), repr(chr(code))


@given(ASCII)
def test_one_pass_settles_ascii(text: str) -> None:
    """`normalize` stops after one pass for ASCII: a second changes nothing."""
    once = normalize(text)
    assert once.isascii()
    assert normalize(once) == once
