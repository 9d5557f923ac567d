"""The wire protocol's models, parsing and encoding, without any socket."""

from __future__ import annotations

import orjson
import pytest

from server.protocol import (
    SERVER_MODELS,
    ClassPicture,
    ErrorCode,
    Hello,
    ProtocolError,
    RunCancel,
    RunStart,
    Stage,
    Token,
    encode,
    parse_client,
    server_adapter,
)


def test_hello_parses_with_resume_credentials() -> None:
    msg = parse_client(b'{"type":"hello","protocol":1,"session":"abc","secret":"s","last_seq":7}')
    assert msg == Hello(type="hello", protocol=1, session="abc", secret="s", last_seq=7)


def test_run_start_parses_optional_fields() -> None:
    msg = parse_client(
        orjson.dumps(
            {
                "type": "run.start",
                "prompt": "a red fox",
                "interception": "bauhaus",
                "seed": 42,
                "width": 512,
                "height": 768,
                "lang": "de",
            }
        )
    )
    assert isinstance(msg, RunStart)
    assert (msg.seed, msg.width, msg.height, msg.lang, msg.output) == (42, 512, 768, "de", None)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", ErrorCode.BAD_JSON),
        (b"[1, 2]", ErrorCode.BAD_JSON),
        (b'{"type": "run.explode"}', ErrorCode.UNKNOWN_TYPE),
        (b'{"no_type": 1}', ErrorCode.UNKNOWN_TYPE),
        (b'{"type": "run.start", "prompt": "", "interception": "x"}', ErrorCode.INVALID_FIELD),
        (b'{"type": "run.start", "prompt": "p"}', ErrorCode.INVALID_FIELD),
        (b'{"type": "run.cancel", "run": "../etc"}', ErrorCode.INVALID_FIELD),
        (b'{"type": "hello", "protocol": 1, "extra": true}', ErrorCode.INVALID_FIELD),
        (b'{"type": "hello", "protocol": 1, "last_seq": -1}', ErrorCode.INVALID_FIELD),
    ],
)
def test_bad_client_messages_raise_stable_codes(raw: bytes, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client(raw)
    assert info.value.code is code
    assert info.value.message


def test_invalid_field_message_names_the_field() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client(b'{"type": "run.start", "prompt": "p", "interception": "x", "seed": -5}')
    assert info.value.message.startswith("seed:")


def test_run_cancel_requires_a_run_id() -> None:
    assert parse_client(b'{"type":"run.cancel","run":"r-1"}') == RunCancel(
        type="run.cancel", run="r-1"
    )


def test_encoded_token_is_compact_json_with_type_first() -> None:
    data = encode(Token(seq=3, run="r1", stage="interception", text="Hel"))
    assert data.startswith(b'{"type":"token","seq":3,')
    assert orjson.loads(data)["text"] == "Hel"


def test_every_server_model_round_trips_through_the_union() -> None:
    for model in SERVER_MODELS:
        fields = model.model_fields
        assert list(fields)[:2] == ["type", "seq"], model.__name__
        assert fields["type"].default == model.model_fields["type"].default
        kind = fields["type"].default
        assert isinstance(kind, str)
        assert server_adapter.validate_python({"type": kind, "seq": 1, **_minimal(model)})


def _minimal(model: type) -> dict[str, object]:
    examples: dict[str, object] = {
        "session": "s",
        "secret": "x",
        "resumed": False,
        "heartbeat_interval": 25.0,
        "demo": True,
        "time": 0.0,
        "runs": [],
        "code": "bad_json",
        "message": "m",
        "run": "r",
        "interception": "i",
        "output": "o",
        "stage": "safety",
        "position": 1,
        "length": 2,
        "eta": None,
        "status": "completed",
        "text": "t",
        "value": 1,
        "max": 2,
        "mime": "image/png",
        "data": "",
        "url": "/media/r/1.png",
        "kind": "llm",
        "instance": "a",
        "state": "healthy",
        "total": 1.0,
        "you": {"role": "student", "nickname": "Mika", "class_name": "4b"},
        "access": "codes",
        "class_id": 3,
        "name": "4b",
        "paused": False,
        "lesson_open": True,
        "students": [],
        "queue": [],
        "limits": {
            "max_message_bytes": 1,
            "max_prompt_chars": 1,
            "max_meta_prompt_chars": 1,
            "max_runs_in_flight": 1,
            "messages_per_second": 1.0,
        },
    }
    required = [n for n, f in model.model_fields.items() if f.is_required() and n != "seq"]  # type: ignore[attr-defined]
    values = {name: examples[name] for name in required}
    if model is Stage:
        values["status"] = "done"
    if model is ClassPicture:
        values["kind"] = "hidden"
    return values
