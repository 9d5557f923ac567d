"""What a class's rules make of a run at admission: its perspectives and its safety level. Pure."""

from __future__ import annotations

import pytest

from server.engine.admission import UnknownConfig, admit_inputs, run_safety_level
from server.engine.catalog import SafetyLevel
from server.engine.people.identity import ClassRules
from server.protocol import RunStart
from server.wiring import load_definitions
from tests.conftest import make_settings

CATALOG, WORKFLOWS = load_definitions(make_settings())


def admit(interception: str, perspectives: list[str] | None, lang: str = "en") -> str:
    message = RunStart.model_validate(
        {"type": "run.start", "prompt": "a fox", "interception": interception, "lang": lang}
    )
    inputs = admit_inputs(
        message,
        CATALOG,
        WORKFLOWS,
        max_prompt_chars=100,
        max_meta_prompt_chars=200,
        perspectives=perspectives,
    )
    return inputs.interception


def test_a_perspective_on_the_class_list_is_admitted() -> None:
    assert admit("bauhaus", ["bauhaus", "haiku"]) == "bauhaus"


def test_without_a_class_list_every_perspective_of_the_catalog_is_admitted() -> None:
    assert admit("haiku", None) == "haiku"


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("en", "Your class does not use this perspective. Please choose another one."),
        ("de", "Deine Klasse nutzt diese Perspektive nicht. Bitte wähle eine andere."),
    ],
)
def test_a_perspective_the_class_does_not_use_is_refused_in_the_students_words(
    lang: str, sentence: str
) -> None:
    with pytest.raises(UnknownConfig) as refused:
        admit("haiku", ["bauhaus"], lang)
    assert refused.value.code == "unknown_config"
    assert str(refused.value) == sentence


def test_an_empty_class_list_allows_no_perspective() -> None:
    with pytest.raises(UnknownConfig):
        admit("bauhaus", [])


@pytest.mark.parametrize(
    ("operator", "chosen", "expected"),
    [
        (SafetyLevel.YOUTH, "kids", SafetyLevel.KIDS),  # stricter: taken
        (SafetyLevel.KIDS, "adult", SafetyLevel.KIDS),  # looser: ignored
        (SafetyLevel.ADULT, "youth", SafetyLevel.YOUTH),
        (SafetyLevel.RESEARCH, None, SafetyLevel.RESEARCH),
    ],
)
def test_a_run_is_checked_at_the_stricter_of_the_operators_and_the_classs_level(
    operator: SafetyLevel, chosen: str | None, expected: SafetyLevel
) -> None:
    rules = ClassRules.model_validate({"safety_level": chosen})
    assert run_safety_level(operator, rules) is expected


def test_a_student_without_a_class_gets_the_operators_level() -> None:
    assert run_safety_level(SafetyLevel.ADULT, None) is SafetyLevel.ADULT
