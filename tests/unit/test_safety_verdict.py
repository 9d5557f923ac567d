"""Reading the LLM's verdict fail-closed: every shape a model may answer in, hostile ones too."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from server.engine.safety_verdict import (
    MAX_ANSWER_CHARS,
    MAX_REASON_CHARS,
    VERDICT_SCHEMA,
    Verdict,
    parse_verdict,
)


def verdict_json(decision: object, reason: object = "fine") -> str:
    return json.dumps({"decision": decision, "reason": reason})


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ('{"decision": "safe", "reason": "a cat on the moon"}', "a cat on the moon"),
        ('{ "decision" : "SAFE", "reason" : "ok" }', "ok"),
        ('{"Decision": "Safe", "Reason": "ok"}', "ok"),
        ('{"decision": "safe"}', None),
        ('{"decision": "safe", "reason": ""}', None),
        ('```json\n{"decision": "safe", "reason": "ok"}\n```', "ok"),
        ('Here is my verdict: {"decision": "safe", "reason": "ok"} Thanks!', "ok"),
        ('<think>a cat, fine</think>{"decision": "safe", "reason": "ok"}', "ok"),
        ('{"decision": "safe", "reason": "ok", "confidence": 0.9}', "ok"),
    ],
)
def test_json_saying_safe_is_safe(answer: str, reason: str | None) -> None:
    assert parse_verdict(answer) == Verdict(safe=True, reason=reason, read_as="json")


@pytest.mark.parametrize(
    "answer",
    [
        verdict_json("unsafe", "shows a weapon"),
        '```\n{"decision": "unsafe", "reason": "shows a weapon"}\n```',
        'I think: {"decision": "unsafe", "reason": "shows a weapon"}',
    ],
)
def test_json_saying_unsafe_is_unsafe_with_its_reason(answer: str) -> None:
    assert parse_verdict(answer) == Verdict(safe=False, reason="shows a weapon", read_as="json")


@pytest.mark.parametrize(
    "answer",
    [
        verdict_json("maybe"),
        verdict_json("safe-ish"),
        verdict_json(""),
        verdict_json(None),
        verdict_json(True),
        verdict_json(1),
        verdict_json(["safe"]),
        verdict_json({"decision": "safe"}),
        verdict_json("safe", reason=["ok"]),
        verdict_json("safe", reason={"nested": "safe"}),
        verdict_json("safe", reason=7),
        '{"reason": "ok"}',
        '{"verdict": "safe"}',
        '["safe", "unsafe"]',
        "{}",
        "null",
    ],
)
def test_json_breaking_the_schema_is_unsafe(answer: str) -> None:
    assert parse_verdict(answer).safe is False


def test_a_key_given_twice_is_unsafe_whichever_comes_last() -> None:
    for twice in (
        '{"decision": "unsafe", "decision": "safe", "reason": "x"}',
        '{"decision": "safe", "Decision": "safe", "reason": "x"}',
        '{"decision": "safe", "reason": {"a": 1, "a": 2}}',
    ):
        assert parse_verdict(twice).safe is False, twice


@pytest.mark.parametrize(
    "answer",
    [
        'UNSAFE {"decision": "safe", "reason": "x"}',
        '{"decision": "safe", "reason": "x"} Actually it is not safe.',
        '```json\n{"decision": "safe", "reason": "x"}\n``` This is inappropriate.',
    ],
)
def test_prose_taking_back_a_json_safe_is_unsafe(answer: str) -> None:
    assert parse_verdict(answer).safe is False


@pytest.mark.parametrize(
    "answer",
    [
        '{"decision": "safe", "reason": "x"',  # cut short by max_tokens
        '{"decision": "unsafe"} {"decision": "safe"}',  # two objects: neither counts
        "{decision: safe}",
        '{"decision": "safe", "reason": "x"}}',
        "```json\n```",
    ],
)
def test_broken_json_is_unsafe(answer: str) -> None:
    assert parse_verdict(answer).safe is False


def test_deeply_nested_json_is_unsafe_without_an_error() -> None:
    deep = '{"decision": "safe", "reason": ' + "[" * 5000 + "]" * 5000 + "}"
    assert len(deep) <= MAX_ANSWER_CHARS
    assert parse_verdict(deep).safe is False


def test_an_answer_at_the_length_bound_is_read_and_one_beyond_is_not() -> None:
    answer = '{"decision": "safe", "reason": "ok"}'
    at_bound = answer + " " * (MAX_ANSWER_CHARS - len(answer))
    assert len(at_bound) == MAX_ANSWER_CHARS
    assert parse_verdict(at_bound).safe is True
    assert parse_verdict(at_bound + " ") == Verdict(safe=False)


def test_a_long_reason_is_one_line_cut_to_the_bound() -> None:
    verdict = parse_verdict(verdict_json("unsafe", "very\nlong\t\x00 " * 100))
    assert verdict.reason is not None
    assert len(verdict.reason) == MAX_REASON_CHARS
    assert all(ch.isprintable() for ch in verdict.reason)


@pytest.mark.parametrize(
    "answer",
    ["SAFE", "safe", "  Safe.  ", "**SAFE**", "`SAFE`", '"SAFE"\n', "<think>hm</think>\nSAFE"],
)
def test_plain_safe_word_is_safe(answer: str) -> None:
    assert parse_verdict(answer) == Verdict(safe=True, read_as="words")


def test_plain_unsafe_words_give_their_reason() -> None:
    assert parse_verdict("**Unsafe** - shows a weapon\n") == Verdict(
        safe=False, reason="shows a weapon", read_as="words"
    )
    assert parse_verdict("UNSAFE:") == Verdict(safe=False, read_as="words")


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "   ",
        "banana",
        "Safe-ish",
        "I think it is SAFE but",
        "SAFE, although the knife is questionable",
        "SAFE\nReason: nothing wrong",
        "Not safe",
        "The prompt is safe.",
        "<think>it is SAFE",
        '<think>{"decision": "safe"}',
        "<think>looks fine</think>",
        "\u2705",
    ],
)
def test_anything_else_is_unreadable_and_unsafe(answer: str) -> None:
    assert parse_verdict(answer) == Verdict(safe=False)


def test_the_schema_asks_for_exactly_decision_and_reason() -> None:
    assert VERDICT_SCHEMA["required"] == ["decision", "reason"]
    assert VERDICT_SCHEMA["properties"]["decision"]["enum"] == ["safe", "unsafe"]
    assert VERDICT_SCHEMA["properties"]["reason"]["maxLength"] == MAX_REASON_CHARS
    assert VERDICT_SCHEMA["additionalProperties"] is False


@given(st.text(max_size=400))
def test_any_text_gives_a_verdict(text: str) -> None:
    verdict = parse_verdict(text)
    assert isinstance(verdict.safe, bool)
    assert verdict.reason is None or len(verdict.reason) <= MAX_REASON_CHARS


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_any_json_value_without_a_decision_is_unsafe(value: object) -> None:
    text = json.dumps(value)
    assume("decision" not in text.casefold())
    assert parse_verdict(text).safe is False
