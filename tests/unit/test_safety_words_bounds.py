"""Normalization and matching cost stay linear: expanding and stacked characters are refused."""

from __future__ import annotations

import contextlib
import types
import unicodedata
from collections.abc import Callable

import pytest

from server.engine import safety_normalize
from server.engine.admission import InvalidRun
from server.engine.safety_normalize import (
    _MAX_ROUNDS,
    EXPANSION_SLACK,
    MAX_COMBINING_RUN,
    MAX_EXPANSION,
    TextTooLong,
    normalize,
)
from server.engine.safety_spelling import spellings
from server.engine.safety_words import WordList
from server.protocol import ErrorCode
from tests.unit.test_pipeline_admission import admit

ARABIC_LIGATURE = "\ufdfa"  # NFKC makes 18 characters of it


class CountingUnicodedata(types.SimpleNamespace):
    """unicodedata with its per-character lookups counted: the Python-level work per text."""

    def __init__(self) -> None:
        super().__init__(normalize=unicodedata.normalize, calls=0)

    def category(self, ch: str) -> str:
        self.calls += 1
        return unicodedata.category(ch)

    def combining(self, ch: str) -> int:
        self.calls += 1
        return unicodedata.combining(ch)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], int]:
    counter = CountingUnicodedata()
    monkeypatch.setattr(safety_normalize, "unicodedata", counter)

    def count(text: str) -> int:
        counter.calls = 0
        with contextlib.suppress(TextTooLong):
            normalize(text)
        return int(counter.calls)

    return count


def linear_bound(text: str) -> int:
    """The combining-run check, then per round two loops over at most the bounded length."""
    return len(text) + _MAX_ROUNDS * 2 * (MAX_EXPANSION * len(text) + EXPANSION_SLACK)


ADVERSARIAL = {
    "expanding": ARABIC_LIGATURE,
    "umlauts": "ä",
    "ligatures": "ﬃ",
    "separators": "-_ ",
    "repeated": "a",
    "near_matches": "kil ",
    "accents": "e\u0301\u0316",
    "lookalikes": "кі",
    "leet_words": "5h!7 ",
    "spaced_letters": "g ",
}


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_counted_work_is_linear_in_the_input(work: Callable[[str], int], unit: str) -> None:
    for size in (500, 1000, 2000):
        text = unit * size
        assert work(text) <= linear_bound(text)
    assert work(unit * 2000) <= 2 * work(unit * 1000) + len(unit) * 2


def test_a_text_that_expands_eighteenfold_is_refused_not_matched() -> None:
    words = WordList.from_text("kill\n")
    with pytest.raises(TextTooLong) as refused:
        words.find("kill " + ARABIC_LIGATURE * 200)
    assert refused.value.code is ErrorCode.INVALID_FIELD


def test_a_few_expanding_characters_in_a_normal_prompt_pass() -> None:
    assert normalize(f"a castle {ARABIC_LIGATURE} at dawn").startswith("a castle ")
    assert normalize("㍿") == "株式会社"
    assert normalize("ä" * 500) == "ae" * 500


def test_combining_marks_stack_up_to_the_stream_safe_limit() -> None:
    assert normalize("e" + "\u0301" * MAX_COMBINING_RUN) == "e"
    with pytest.raises(TextTooLong, match="accent marks"):
        normalize("e" + "\u0301\u0316" * MAX_COMBINING_RUN)


def test_admission_refuses_an_expanding_prompt_naming_the_field() -> None:
    with pytest.raises(InvalidRun, match="prompt: grows to more than") as refused:
        admit(prompt=ARABIC_LIGATURE * 60)
    assert refused.value.code is ErrorCode.INVALID_FIELD
    with pytest.raises(InvalidRun, match="meta_prompt: more than 30 accent marks"):
        admit(meta_prompt="o" + "\u0308" * 40)


@pytest.mark.parametrize("unit", ["g ", "g.", "ö ", "5 ", "a-", "kiii"])
def test_spelling_forms_stay_as_long_as_the_normalized_text(unit: str) -> None:
    text = normalize(unit * 2000)
    assert all(len(form) <= len(text) for form in spellings(text))
