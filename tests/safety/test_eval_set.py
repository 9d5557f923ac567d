"""The evaluation set itself: built from its sources, big enough, every trick present.

These tests keep the data honest whatever the word layer does: the file is exactly what
build_eval_set.py writes, each disguised case really hides its word, and each trick is
applied to unsafe prompts in both languages.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

from server.engine.catalog import SafetyLevel
from tests.safety import build_eval_set, tricks
from tests.safety.eval_set import ALLOW, BLOCK, PATH, load
from tests.safety.known_limits import KNOWN_LIMITS

CASES = load()


def test_file_is_what_the_builder_writes() -> None:
    assert PATH.read_text(encoding="utf-8") == build_eval_set.render(build_eval_set.build())


def test_set_holds_at_least_300_prompts_in_german_and_english() -> None:
    langs = Counter(case.lang for case in CASES)
    assert len(CASES) >= 300
    assert langs["de"] >= 100
    assert langs["en"] >= 100


def test_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_every_trick_disguises_unsafe_prompts_in_both_languages() -> None:
    seen = {(case.trick, case.lang) for case in CASES if case.unsafe}
    for trick in tricks.TRICKS:
        assert {(trick, "de"), (trick, "en")} <= seen, trick
    assert any(case.trick == "other_language" and case.unsafe for case in CASES)


def test_each_case_expects_a_verdict_at_every_level() -> None:
    levels = {level.value for level in SafetyLevel}
    for case in CASES:
        assert set(case.expect) == levels, case.id
        assert set(case.expect.values()) <= {BLOCK, ALLOW}, case.id


def test_levels_stack_in_the_expectations() -> None:
    # What youth blocks, kids blocks too; what adult blocks, youth blocks too.
    order = (SafetyLevel.ADULT, SafetyLevel.YOUTH, SafetyLevel.KIDS)
    for case in CASES:
        verdicts = [case.blocks_at(level) for level in order]
        assert verdicts == sorted(verdicts), case.id


def test_a_disguised_case_hides_its_word_and_nothing_else() -> None:
    for case in CASES:
        assert case.word in case.base, case.id
        if case.trick in tricks.TRICKS:
            assert case.text != case.base, case.id
            assert case.word not in case.text, case.id


def test_known_limits_are_unsafe_cases_with_a_reason() -> None:
    limits = {case.id: case.known_limit for case in CASES if case.known_limit is not None}
    assert limits == KNOWN_LIMITS
    assert all(case.unsafe for case in CASES if case.known_limit is not None)


def test_homoglyphs_leave_no_latin_letter_that_has_a_look_alike() -> None:
    disguised = tricks.homoglyph("escape", 0)
    assert not any(char.isascii() for char in disguised)
    assert all(unicodedata.name(char).startswith("CYRILLIC") for char in disguised)


def test_zero_width_characters_are_invisible_format_characters() -> None:
    for style in range(len(tricks.ZERO_WIDTH)):
        hidden = tricks.zero_width("gun", style).replace("g", "").replace("u", "").replace("n", "")
        assert {unicodedata.category(char) for char in hidden} == {"Cf"}


def test_marks_never_make_an_umlaut() -> None:
    for style in range(len(tricks.MARKS)):
        marked = unicodedata.normalize("NFC", tricks.diacritics("pour", style))
        assert not set("äöü") & set(marked)


def test_docs_name_every_known_limit() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "safety.md").read_text(encoding="utf-8")
    missing = [case_id for case_id in KNOWN_LIMITS if f"`{case_id}`" not in docs]
    assert missing == []
