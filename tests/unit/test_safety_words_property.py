"""Properties of normalization and matching over arbitrary text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine.safety_verdict import parse_verdict
from server.engine.safety_words import WordList, needs_translation, normalize

WORDS = WordList.from_text("kill\nself harm\nporno*\n*kinderporno*\nmörder\nass\n")


@settings(max_examples=300)
@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=300)
@given(st.text())
def test_find_never_raises_and_returns_a_listed_entry(text: str) -> None:
    found = WORDS.find(text)
    assert found is None or found in WORDS.entries


@settings(max_examples=200)
@given(st.text(), st.text())
def test_a_listed_word_between_spaces_is_always_found(before: str, after: str) -> None:
    assert WORDS.find(f"{before} kill {after}") is not None


@settings(max_examples=200)
@given(st.text())
def test_helpers_never_raise(text: str) -> None:
    assert isinstance(needs_translation(text), bool)
    assert isinstance(parse_verdict(text).safe, bool)
