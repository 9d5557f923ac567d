"""Hypothesis fuzzing of every client message type through the pure parser and admission.

Frames come from `tests/protocol_fuzz_support.py`: structure-aware (built from the models'
schemas), each one valid or spoiled by a wrong JSON type in any field, unknown keys, deep
nesting, huge numbers, a missing field or broken JSON. Every frame parses or gets one of the
three codes of a bad message; every parsed `run.start` is admitted or refused with a stable
code of its own. `internal` is never an answer. The same frames go over a real socket in
`tests/hostile/test_protocol_fuzz_socket.py`.
"""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine.admission import admit_inputs
from server.engine.errors import AtelierError
from server.protocol import CLIENT_MODELS, ErrorCode, ProtocolError, RunStart, parse_client
from server.wiring import load_definitions
from tests.conftest import make_settings
from tests.protocol_fuzz_support import (
    BAD_MESSAGE,
    SCHEMAS,
    json_types,
    nesting,
    spoiled_frame,
    type_name,
    valid_message,
    with_raw_field,
    wrong_value,
)

SETTINGS = make_settings()
CATALOG, WORKFLOWS = load_definitions(SETTINGS)
IDS = {"interception": sorted(CATALOG.interceptions), "output": sorted(WORKFLOWS)}
#: Codes admission may refuse a parsed `run.start` with (a picture for an output that takes
#: none, or none for one that starts from a picture: `uploads/admit.py`).
ADMISSION = frozenset(
    {
        ErrorCode.INVALID_FIELD,
        ErrorCode.UNKNOWN_CONFIG,
        ErrorCode.IMAGE_NOT_ACCEPTED,
        ErrorCode.IMAGE_REQUIRED,
    }
)


def answer(frame: bytes) -> str:
    """'ok', or the stable code the frame gets from the parser and then admission."""
    try:
        message = parse_client(frame)
    except ProtocolError as exc:
        refused = exc
    else:
        return admitted(message) if isinstance(message, RunStart) else "ok"
    assert refused.code in BAD_MESSAGE, refused.code
    assert refused.message
    return refused.code.value


def admitted(message: RunStart) -> str:
    try:
        admit_inputs(
            message,
            CATALOG,
            WORKFLOWS,
            max_prompt_chars=SETTINGS.max_prompt_chars,
            max_meta_prompt_chars=SETTINGS.max_meta_prompt_chars,
        )
    except AtelierError as exc:
        code = exc.code
    else:
        return "ok"
    assert code in ADMISSION, code
    return str(code)


def test_every_client_message_type_has_a_schema_to_fuzz() -> None:
    assert set(SCHEMAS) == {type_name(model) for model in CLIENT_MODELS}
    assert {"hello", "run.start", "run.cancel"} <= set(SCHEMAS)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(spoiled_frame(IDS))
def test_every_spoiled_frame_gets_a_stable_code_never_internal(frame: bytes) -> None:
    assert answer(frame) != ErrorCode.INTERNAL.value


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=150)
@given(data=st.data())
def test_valid_messages_of_every_type_parse(name: str, data: st.DataObject) -> None:
    message = data.draw(valid_message(name, IDS))
    parsed = parse_client(orjson.dumps(message))
    assert parsed.type == name


@pytest.mark.parametrize(
    ("name", "field"), [(n, f) for n, schema in SCHEMAS.items() for f in schema["properties"]]
)
@settings(max_examples=60)
@given(data=st.data())
def test_a_wrong_json_type_in_any_field_is_refused(
    name: str, field: str, data: st.DataObject
) -> None:
    spec = SCHEMAS[name]["properties"][field]
    message = {**data.draw(valid_message(name, IDS)), field: data.draw(wrong_value(spec))}
    code = answer(orjson.dumps(message))
    # A string where a number belongs ("7") is refused too: the models are strict on types.
    expected = "unknown_type" if field == "type" else "invalid_field"
    assert code == expected, (message, json_types(spec))


@pytest.mark.parametrize("depth", [1, 100, 1023, 1024, 1025, 5000])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_in_a_field_is_refused(depth: int, opener: str) -> None:
    frame = with_raw_field({"type": "run.cancel", "run": "r-1"}, "run", nesting(depth, opener))
    assert answer(frame) in {"bad_json", "invalid_field"}


@pytest.mark.parametrize("raw", ["1e999", "1" + "0" * 400, "18446744073709551616", "-1e999"])
def test_huge_numbers_are_refused(raw: str) -> None:
    for field in ("protocol", "last_seq"):
        frame = with_raw_field({"type": "hello", "protocol": 1}, field, raw)
        assert answer(frame) in {"bad_json", "invalid_field"}
