"""A class that does not let students edit a perspective's instructions: `run.start` with an
edited meta-prompt is refused in the student's words, an unedited one passes, and `welcome`'s
limits say so. Pure."""

from __future__ import annotations

import pytest

from server.engine.admission import EditNotAllowed, admit_inputs
from server.engine.people.identity import ClassRules
from server.engine.session import limits_for
from server.protocol import Limits, RunStart
from server.wiring import load_definitions
from tests.conftest import make_settings

CATALOG, WORKFLOWS = load_definitions(make_settings())
OPERATOR = Limits(
    max_message_bytes=65536,
    max_prompt_chars=2000,
    max_meta_prompt_chars=8000,
    max_runs_in_flight=2,
    messages_per_second=20.0,
)


def admit(meta_prompt: str | None, edit_instructions: bool, lang: str = "en") -> str:
    fields = {"type": "run.start", "prompt": "a fox", "interception": "bauhaus", "lang": lang}
    if meta_prompt is not None:
        fields["meta_prompt"] = meta_prompt
    inputs = admit_inputs(
        RunStart.model_validate(fields),
        CATALOG,
        WORKFLOWS,
        max_prompt_chars=100,
        max_meta_prompt_chars=200,
        edit_instructions=edit_instructions,
    )
    return inputs.meta_prompt


@pytest.mark.parametrize(
    ("lang", "start"),
    [("en", "In your class, the instructions"), ("de", "In deiner Klasse bleibt die Anleitung")],
)
def test_an_edited_meta_prompt_is_refused_when_the_class_turned_editing_off(
    lang: str, start: str
) -> None:
    with pytest.raises(EditNotAllowed) as refused:
        admit("Draw it all in pink.", edit_instructions=False, lang=lang)
    assert refused.value.code == "edit_not_allowed"
    assert str(refused.value).startswith(start)


def test_the_perspectives_own_instructions_pass_when_editing_is_off() -> None:
    own = CATALOG.interceptions["bauhaus"].meta_prompt
    assert admit(None, edit_instructions=False) == own
    assert admit(own, edit_instructions=False) == own  # sent back unchanged: no edit


def test_an_edit_is_kept_where_the_class_allows_it() -> None:
    assert admit("Draw it all in pink.", edit_instructions=True) == "Draw it all in pink."


@pytest.mark.parametrize(
    ("rules", "editable"),
    [
        (None, True),
        (ClassRules(), True),
        (ClassRules(edit_instructions=True), True),
        (ClassRules(edit_instructions=False), False),
    ],
)
def test_welcome_tells_the_page_whether_it_may_edit(
    rules: ClassRules | None, editable: bool
) -> None:
    assert limits_for(OPERATOR, rules).edit_instructions is editable
    assert limits_for(OPERATOR, rules).max_runs_in_flight == 2
