"""The German page's perspectives read German: each one's instructions have a German text the
catalog sends for `lang=de`, and a child who leaves it as shown has not edited anything."""

from __future__ import annotations

import re

import pytest

from server.engine.admission import EditNotAllowed, admit_inputs
from server.engine.catalog import Lang
from server.engine.catalog_listing import listing
from server.protocol import RunStart
from server.wiring import load_definitions
from tests.conftest import make_settings

CATALOG, WORKFLOWS = load_definitions(make_settings())
OUTPUTS = [{"id": name, "name": name} for name in WORKFLOWS]
#: Words of every English sentence that no German one has (anglicisms like "cool" are fine).
ENGLISH = frozenset(
    {"the", "and", "of", "with", "you", "your", "is", "are", "to", "that", "this", "it"}
    | {"for", "into", "never", "only", "from", "what", "which"}
)


def listed(lang: Lang) -> dict[str, dict[str, object]]:
    return {item["id"]: item for item in listing(CATALOG, lang, OUTPUTS)["interceptions"]}


def english_words(text: str) -> list[str]:
    return [word for word in re.findall(r"[a-zäöüß]+", text.lower()) if word in ENGLISH]


def test_the_german_catalog_has_no_english_instruction_text() -> None:
    german, english = listed("de"), listed("en")
    for config_id, item in german.items():
        text = str(item["meta_prompt"])
        if item["passthrough"]:
            assert text == ""
            continue
        assert text != english[config_id]["meta_prompt"], config_id
        assert english_words(text) == [], config_id
        assert english_words(str(english[config_id]["meta_prompt"])), "the check can fail"


def test_the_english_catalog_keeps_the_instructions_the_model_gets() -> None:
    for config_id, item in listed("en").items():
        assert item["meta_prompt"] == CATALOG.interceptions[config_id].meta_prompt


def admit(meta_prompt: str, *, editing: bool) -> tuple[str, bool]:
    message = RunStart.model_validate(
        {
            "type": "run.start",
            "prompt": "ein Fuchs",
            "interception": "bauhaus",
            "lang": "de",
            "meta_prompt": meta_prompt,
        }
    )
    inputs = admit_inputs(
        message,
        CATALOG,
        WORKFLOWS,
        max_prompt_chars=100,
        max_meta_prompt_chars=8000,
        edit_instructions=editing,
    )
    return inputs.meta_prompt, inputs.meta_prompt_edited


def test_the_german_text_sent_back_as_shown_is_not_an_edit() -> None:
    config = CATALOG.interceptions["bauhaus"]
    # Even where the class does not allow editing; the model gets the English original.
    assert admit(config.instructions("de"), editing=False) == (config.meta_prompt, False)
    edited = config.instructions("de") + " Nur in Blau."
    assert admit(edited, editing=True) == (edited, True)
    with pytest.raises(EditNotAllowed):
        admit(edited, editing=False)
