"""`encode_event`'s shortcut for `token` and `progress` writes exactly what the models write."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from server.protocol import (
    Heartbeat,
    Progress,
    ServerEvent,
    StageName,
    Token,
    encode,
    encode_event,
)
from server.protocol._encode import progress_dict, token_dict

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
SEQ = st.integers(min_value=0, max_value=2**63 - 1)
TEXT = st.text()  # every code point hypothesis draws, controls and astral planes included


def by_model(message_type: type[ServerEvent], seq: int, fields: dict[str, Any]) -> bytes:
    return encode(message_type(seq=seq, **fields))


@given(
    seq=SEQ,
    run=TEXT,
    stage=st.sampled_from(list(StageName)),
    text=TEXT,
    clear=st.none() | st.booleans(),
)
def test_token_shortcut_writes_the_models_bytes(
    seq: int, run: str, stage: StageName, text: str, clear: bool | None
) -> None:
    fields: dict[str, Any] = {"run": run, "stage": stage, "text": text}
    if clear is not None:
        fields["clear"] = clear
    assert token_dict(seq, fields) is not None  # the shortcut, not the model, answered
    assert encode_event(Token, seq, fields) == by_model(Token, seq, fields)


@given(seq=SEQ, run=TEXT, value=INT64, max_=INT64)
def test_progress_shortcut_writes_the_models_bytes(
    seq: int, run: str, value: int, max_: int
) -> None:
    fields = {"run": run, "value": value, "max": max_}
    assert progress_dict(seq, fields) is not None
    assert encode_event(Progress, seq, fields) == by_model(Progress, seq, fields)


@pytest.mark.parametrize(
    ("message_type", "fields"),
    [
        (Token, {"run": "r-1", "stage": "interception", "text": "a"}),  # a str, not the enum
        (Progress, {"run": "r-1", "value": 3.0, "max": 10}),  # a float the model coerces
        (Progress, {"run": "r-1", "value": True, "max": 10}),  # a bool is not an int here
    ],
)
def test_values_the_model_would_coerce_go_through_the_model(
    message_type: type[ServerEvent], fields: dict[str, Any]
) -> None:
    assert encode_event(message_type, 4, fields) == by_model(message_type, 4, fields)


@pytest.mark.parametrize(
    ("message_type", "fields"),
    [
        (Token, {"run": "r-1", "stage": StageName.SAFETY, "text": "a", "extra": 1}),
        (Token, {"run": "r-1", "stage": StageName.SAFETY}),
        (Token, {"run": "r-1", "stage": "nowhere", "text": "a"}),
        (Progress, {"run": "r-1", "value": 1}),
        (Progress, {"run": "r-1", "value": 1, "max": 2, "eta": 3}),
        (Progress, {"run": "r-1", "value": "many", "max": 2}),
    ],
)
def test_invalid_fields_are_refused_as_by_the_model(
    message_type: type[ServerEvent], fields: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        encode_event(message_type, 1, fields)


def test_other_messages_are_encoded_by_their_model() -> None:
    data = encode_event(Heartbeat, 9, {"time": 1.5})
    assert orjson.loads(data) == {"type": "heartbeat", "seq": 9, "time": 1.5}
