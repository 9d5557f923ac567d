"""LLM verdicts in the plain-word form (`SAFE`, `UNSAFE: reason`), read fail-closed by
`safety_verdict.parse_verdict`, and the translation heuristic."""

from __future__ import annotations

import pytest

from server.engine.safety_verdict import parse_verdict
from server.engine.safety_words import needs_translation


@pytest.mark.parametrize(
    "answer",
    [
        "SAFE",
        "safe",
        "  Safe.  ",
        "**SAFE**",
        "`SAFE`",
        '"SAFE"\n',
        "<think>hmm, a cat</think>\nSAFE",
    ],
)
def test_clear_safe_answers_are_safe(answer: str) -> None:
    v = parse_verdict(answer)
    assert (v.safe, v.reason) == (True, None)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "   ",
        "Safe-ish",
        "I think it is SAFE but",
        "SAFE, although the knife is questionable",
        "SAFE\nReason: nothing wrong",
        "Not safe",
        "UNSAFE",
        "SAFE UNSAFE",
        "<think>it is SAFE",
        "<think>looks fine</think>",
        "The prompt is safe.",
        '{"verdict": "SAFE"}',
        "\u2705",
    ],
)
def test_anything_not_clearly_safe_is_unsafe(answer: str) -> None:
    assert parse_verdict(answer).safe is False


def test_unsafe_answer_gives_its_reason() -> None:
    verdict = parse_verdict("UNSAFE: Das Bild würde Gewalt zeigen.")
    assert (verdict.safe, verdict.reason) == (False, "Das Bild würde Gewalt zeigen")


def test_unsafe_reason_is_found_after_markdown_and_thinking() -> None:
    verdict = parse_verdict("<think>weapons...</think>\n**Unsafe** - shows a weapon\n")
    assert (verdict.safe, verdict.reason) == (False, "shows a weapon")


def test_unsafe_without_reason_has_none() -> None:
    v = parse_verdict("UNSAFE:")
    assert (v.safe, v.reason) == (False, None)


def test_unsafe_reason_is_one_line_and_bounded() -> None:
    verdict = parse_verdict("UNSAFE: " + "very long\n" * 100)
    assert verdict.reason is not None
    assert "\n" not in verdict.reason
    assert len(verdict.reason) <= 200


def test_garbage_has_no_reason() -> None:
    v = parse_verdict("banana")
    assert (v.safe, v.reason) == (False, None)


@pytest.mark.parametrize(
    "text",
    [
        "Eine Katze mit Hut auf dem Mond",
        "Der Hund spielt im Park",
        "Ein Haus am See",
        "Schöne Blumen",
        "Straße bei Nacht",
        "un chat avec un chapeau dans la rue",
        "кошка в шляпе",
        "猫と帽子",
    ],
)
def test_non_english_prompts_need_translation(text: str) -> None:
    assert needs_translation(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "A cat with a hat on the moon",
        "the dog is playing in the park at night",
        "neon astronaut, synthwave, 8k",
        "I'm drawing a castle in the clouds",
        "we've got two cats",
        "",
    ],
)
def test_plain_english_prompts_do_not_need_translation(text: str) -> None:
    assert needs_translation(text) is False


def test_known_limit_short_german_without_stopwords_reads_as_english() -> None:
    # Documented limit of the heuristic: no umlaut and no stopword, nothing to go on.
    assert needs_translation("Katze Mond Rakete") is False
