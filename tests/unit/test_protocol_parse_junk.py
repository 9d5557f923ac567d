"""Any JSON value where an object or a field belongs: `parse_client` answers with a stable code.

Generated: the whole message as any JSON value, `type` as any JSON value, and each field of each
client message replaced by any JSON value (nested lists and objects included). The only outcomes
allowed are a parsed message or a ProtocolError with one of the three codes for a bad message.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.protocol import CLIENT_MODELS, ErrorCode, ProtocolError, parse_client

BAD_MESSAGE = {ErrorCode.BAD_JSON, ErrorCode.UNKNOWN_TYPE, ErrorCode.INVALID_FIELD}

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson reads
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)

#: One valid message of each type: each field is then replaced by junk.
VALID: dict[str, dict[str, Any]] = {
    "hello": {"type": "hello", "protocol": 1, "session": "s1", "secret": "x", "last_seq": 3},
    "run.start": {
        "type": "run.start",
        "prompt": "a fox",
        "interception": "bauhaus",
        "output": "sd35",
        "meta_prompt": "m",
        "seed": 1,
        "width": 512,
        "height": 512,
        "lang": "de",
        "ref": "c-1",
        "image": "u-Qm3x9TbZk1Lp0aWc",
    },
    "run.cancel": {"type": "run.cancel", "run": "r-1"},
    "class.watch": {"type": "class.watch", "class_id": 3},
    "class.unwatch": {"type": "class.unwatch"},
    "compare.start": {
        "type": "compare.start",
        "prompt": "a fox",
        "perspectives": ["bauhaus", "haiku"],
        "output": "sd35",
        "seed": 1,
        "lang": "de",
        "ref": "c-2",
    },
}
FIELDS = [(kind, name) for kind, message in VALID.items() for name in message]


def outcome(raw: object) -> str:
    """'ok', or the error code; any other exception fails the test."""
    try:
        parse_client(orjson.dumps(raw))
    except ProtocolError as exc:
        failure = exc
    else:
        return "ok"
    assert failure.code in BAD_MESSAGE, failure.code
    assert failure.message
    return failure.code.value


def test_every_field_of_every_client_message_is_covered() -> None:
    assert {kind: set(message) for kind, message in VALID.items()} == {
        model.model_fields["type"].annotation.__args__[0]: set(model.model_fields)  # type: ignore[union-attr]
        for model in CLIENT_MODELS
    }
    assert all(outcome(message) == "ok" for message in VALID.values())


@pytest.mark.parametrize(
    "raw",
    [{"type": []}, {"type": {}}, {"type": 1}, {"type": None}, {"type": True}, {"type": [[{}]]}],
)
def test_a_type_that_is_not_a_string_is_an_unknown_type(raw: object) -> None:
    assert outcome(raw) == "unknown_type"


@given(JSON)
def test_any_json_type_field_gets_a_stable_code(kind: object) -> None:
    code = outcome({"type": kind, "run": "r-1"})
    assert code == ("ok" if kind == "run.cancel" else "unknown_type")


@given(JSON.filter(lambda value: not isinstance(value, dict)))
def test_a_message_that_is_not_an_object_is_bad_json(raw: object) -> None:
    assert outcome(raw) == "bad_json"


@given(st.sampled_from(FIELDS), JSON)
def test_any_json_value_in_any_field_parses_or_gets_a_stable_code(
    field: tuple[str, str], value: object
) -> None:
    kind, name = field
    outcome({**VALID[kind], name: value})


@given(st.sampled_from(list(VALID)), st.dictionaries(st.text(max_size=8), JSON, max_size=6))
def test_unknown_and_junk_fields_in_any_message_get_a_stable_code(
    kind: str, extra: dict[str, object]
) -> None:
    outcome({**extra, **VALID[kind]})


def test_an_error_lists_a_few_problems_not_thousands() -> None:
    raw = {**VALID["run.cancel"], **{f"x{i}": i for i in range(5000)}}
    with pytest.raises(ProtocolError) as error:
        parse_client(orjson.dumps(raw))
    assert error.value.code is ErrorCode.INVALID_FIELD
    assert error.value.message.endswith("and 4995 more")
    assert len(error.value.message) < 400
