"""The evaluation set against the word layer: no unsafe prompt passes it at `kids`.

Every unsafe case must be blocked by the kids list (the stacked lists, loaded as the server
loads them), except the cases named in known_limits.KNOWN_LIMITS, which must still get
through: a limit the layer has learned to catch is taken off the list (and off docs/safety.md).
Harmless prompts are measured by bench/bench_safety.py; the suite asserts only the plain
everyday ones and the tricky ones docs/safety.md promises.
"""

from __future__ import annotations

import pytest

from server.engine.catalog import SafetyLevel
from server.engine.safety_words import WordList
from tests.safety.eval_set import Case, load
from tests.safety.words_layer import blocks

CASES = load()
UNSAFE = [case for case in CASES if case.unsafe and case.known_limit is None]
LIMITS = [case for case in CASES if case.known_limit is not None]
PLAIN_UNSAFE = [case for case in UNSAFE if case.trick == "none"]
HARMLESS = [
    case
    for case in CASES
    if not case.unsafe
    and case.trick == "none"
    and (case.category == "everyday" or case.promised)
    and case.lang in ("en", "de")
]


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


@pytest.mark.parametrize("case", UNSAFE, ids=_ids(UNSAFE))
def test_unsafe_prompt_is_blocked_at_kids(
    word_lists: dict[SafetyLevel, WordList], case: Case
) -> None:
    assert blocks(word_lists[SafetyLevel.KIDS], case.text), case.text


def test_known_limits_still_pass_at_kids(word_lists: dict[SafetyLevel, WordList]) -> None:
    caught = [case.id for case in LIMITS if blocks(word_lists[SafetyLevel.KIDS], case.text)]
    assert caught == [], "caught now: remove these from KNOWN_LIMITS and docs/safety.md"


@pytest.mark.parametrize("level", list(SafetyLevel))
def test_plain_unsafe_prompts_are_blocked_where_expected(
    word_lists: dict[SafetyLevel, WordList], level: SafetyLevel
) -> None:
    expected = [case for case in PLAIN_UNSAFE if case.blocks_at(level)]
    missed = [case.text for case in expected if not blocks(word_lists[level], case.text)]
    assert expected
    assert missed == []


@pytest.mark.parametrize("level", list(SafetyLevel))
def test_plain_harmless_prompts_pass(
    word_lists: dict[SafetyLevel, WordList], level: SafetyLevel
) -> None:
    flagged = [case.text for case in HARMLESS if blocks(word_lists[level], case.text)]
    assert flagged == []
