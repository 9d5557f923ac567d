"""Decoding and validating one client frame: a message, or a ProtocolError with a stable code.

Any JSON value may arrive where an object or a field is expected (a list as `type`, a number as
the whole message, nested junk in a field): each one ends as a ProtocolError, never as another
exception, so the socket answers with an `error` and stays open.
"""

from __future__ import annotations

from typing import get_args

import orjson
from pydantic import ValidationError

from server.protocol._client import (
    CLIENT_MODELS,
    CLIENT_TYPES,
    ClientMessage,
    client_adapter,
)
from server.protocol._vocabulary import ErrorCode

#: An error lists this many problems of one message at most: a message with thousands of
#: unknown fields must not get an answer larger than itself.
MAX_PROBLEMS_LISTED = 5
#: How much of an unknown `type` the error repeats back.
MAX_ECHOED_CHARS = 64

_JSON_KINDS: dict[type, str] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


#: Each client message type's field names (its `type` included).
_FIELDS: dict[str, frozenset[str]] = {
    get_args(model.model_fields["type"].annotation)[0]: frozenset(model.model_fields)
    for model in CLIENT_MODELS
}


class ProtocolError(Exception):
    """A client message that cannot be accepted; carries the wire error code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_client(data: str | bytes) -> ClientMessage:
    """Decode and validate one client frame, or raise ProtocolError with a stable code."""
    raw = _json_object(data)
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, _unknown_type(kind))
    _refuse_unknown_keys(raw, _FIELDS[kind])
    try:
        return client_adapter.validate_python(raw)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.INVALID_FIELD, describe_validation(exc)) from None


def _refuse_unknown_keys(raw: dict[str, object], known: frozenset[str]) -> None:
    """Refuse keys a message type does not have before pydantic sees them: pydantic builds
    one error object per unknown key (11 ms for a 60 KiB message of 7,100 keys), where this is
    one pass over the keys. The first few are named, in the message's order, then a count."""
    unknown = [key for key in raw if key not in known]
    if not unknown:
        return
    listed = unknown[:MAX_PROBLEMS_LISTED]
    parts = [f"{key[:MAX_ECHOED_CHARS]}: Extra inputs are not permitted" for key in listed]
    if len(unknown) > len(listed):
        parts.append(f"and {len(unknown) - len(listed)} more")
    raise ProtocolError(ErrorCode.INVALID_FIELD, "; ".join(parts))


def _json_object(data: str | bytes) -> dict[str, object]:
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_JSON, f"not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ProtocolError(
            ErrorCode.BAD_JSON, f"a message must be a JSON object, not {json_kind(raw)}"
        )
    return raw


def _unknown_type(kind: object) -> str:
    if kind is None:
        return "a message needs a `type`"
    if not isinstance(kind, str):
        return f"`type` must be a string, not {json_kind(kind)}"
    return f"unknown message type {kind[:MAX_ECHOED_CHARS]!r}"


def json_kind(value: object) -> str:
    """What JSON calls the type of a decoded value."""
    return _JSON_KINDS.get(type(value), "a value")


def describe_validation(exc: ValidationError) -> str:
    """One readable line per problem: `prompt: String should have at most 2000 characters`."""
    errors = exc.errors(include_url=False)
    parts = [_problem(err["loc"], err["msg"]) for err in errors[:MAX_PROBLEMS_LISTED]]
    if len(errors) > MAX_PROBLEMS_LISTED:
        parts.append(f"and {len(errors) - MAX_PROBLEMS_LISTED} more")
    return "; ".join(parts)


def _problem(loc: tuple[int | str, ...], msg: str) -> str:
    where = ".".join(str(p) for p in loc[1:]) or "message"  # loc[0] is the message type
    # A field name is the client's text: a 60 KiB key must not come back five times.
    return f"{where[:MAX_ECHOED_CHARS]}: {msg}"
