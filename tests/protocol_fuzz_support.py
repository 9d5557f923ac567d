"""Hypothesis strategies for client frames, built from the message models themselves.

Every model of `CLIENT_MODELS` is read through its JSON schema, so a message type added later
is fuzzed without anyone writing its strategy. A frame starts as a valid message of one type
and is then spoiled in one of the ways a hostile or broken client spoils it: a field of the
wrong JSON type, unknown keys, deep nesting, numbers beyond what JSON parsers hold, a field
missing, or bytes that are no JSON at all. Frames are bytes: nesting and huge numbers are
spliced in as text, which no Python value would serialise to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from hypothesis import strategies as st

from server.protocol import CLIENT_MODELS, ErrorCode

#: The codes a message that cannot be accepted may get from the parser.
BAD_MESSAGE = frozenset({ErrorCode.BAD_JSON, ErrorCode.UNKNOWN_TYPE, ErrorCode.INVALID_FIELD})
#: Longest generated string: the models' caps are checked by their own tests, not here.
MAX_TEXT = 80

Schema = dict[str, Any]
#: One way of spoiling a valid message: (draw, message, a field of it) -> the frame.
Spoiler = Callable[[st.DrawFn, dict[str, Any], str], bytes]

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
#: Number literals that overflow a double or a 64-bit integer, or sit at their edges.
HUGE_NUMBERS = st.sampled_from(
    [
        "1e999",
        "-1e999",
        "1" + "0" * 400,
        "-" + "9" * 400,
        "18446744073709551616",
        "-9223372036854775809",
        "9007199254740993",
        "1.7976931348623157e308",
        "5e-324",
        "-0",
        "1E+2",
        "0.0000000000000000000000001",
    ]
) | st.integers(min_value=2**53, max_value=2**80).map(str)


def type_name(model: type[Any]) -> str:
    name: str = model.model_json_schema()["properties"]["type"]["const"]
    return name


SCHEMAS: dict[str, Schema] = {type_name(m): m.model_json_schema() for m in CLIENT_MODELS}


def _choices(schema: Schema) -> list[Schema]:
    return list(schema.get("anyOf", [schema]))


def json_types(schema: Schema) -> frozenset[str]:
    """The JSON types a field's schema accepts (`integer` also means `number` here)."""
    return frozenset(choice.get("type", "any") for choice in _choices(schema))


def valid_value(
    schema: Schema, extra: st.SearchStrategy[Any] | None = None
) -> st.SearchStrategy[Any]:
    """A value the field accepts; `extra` adds values a field should sometimes have (an id
    from the catalog)."""
    options = [_valid_choice(choice) for choice in _choices(schema)]
    if extra is not None:
        options.append(extra)
    return st.one_of(options)


def _valid_choice(schema: Schema) -> st.SearchStrategy[Any]:
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return _valid_string(schema)
    if kind == "integer":
        # What orjson writes; beyond it are the huge numbers, spliced in as text.
        return st.integers(schema.get("minimum", -(2**63)), schema.get("maximum", 2**64 - 1))
    if kind == "null":
        return st.none()
    if kind == "array":  # `compare.start`'s perspectives: a list of strings within its bounds
        items = _valid_choice(schema["items"])
        return st.lists(
            items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 8)
        )
    return JSON


def _valid_string(schema: Schema) -> st.SearchStrategy[str]:
    low = schema.get("minLength", 0)
    high = min(schema.get("maxLength", MAX_TEXT), MAX_TEXT)
    if "pattern" in schema:
        pattern = st.from_regex(str(schema["pattern"]), fullmatch=True)
        return pattern.filter(lambda text: low <= len(text) <= high)
    return st.text(min_size=low, max_size=high)


_KIND_OF: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    dict: "object",
    type(None): "null",
}


def wrong_value(schema: Schema) -> st.SearchStrategy[Any]:
    """Any JSON value of a type the field does not accept."""
    accepted = json_types(schema)
    if "integer" in accepted:
        accepted |= {"number"}
    return JSON.filter(lambda value: _KIND_OF[type(value)] not in accepted)


def valid_message(name: str, ids: dict[str, list[str]]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid message of type `name`; fields named in `ids` sometimes take one of those."""
    schema = SCHEMAS[name]
    fields = {
        field: valid_value(spec, st.sampled_from(ids[field]) if ids.get(field) else None)
        for field, spec in schema["properties"].items()
    }
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    )


def with_raw_field(message: dict[str, Any], field: str, raw: str) -> bytes:
    """`message` with `field` set to the JSON text `raw`, spliced in as it is."""
    rest = {k: v for k, v in message.items() if k != field}
    head = orjson.dumps(rest)[:-1]
    comma = b"," if rest else b""
    return head + comma + orjson.dumps(field) + b":" + raw.encode() + b"}"


def nesting(depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + "0" + closer * depth


@st.composite
def spoiled_frame(draw: st.DrawFn, ids: dict[str, list[str]]) -> bytes:
    """One valid message of any type, spoiled in one way (or, sometimes, left valid)."""
    name = draw(st.sampled_from(sorted(SCHEMAS)))
    message: dict[str, Any] = draw(valid_message(name, ids))
    fields = sorted(SCHEMAS[name]["properties"])
    field = draw(st.sampled_from(fields))
    how = draw(st.sampled_from(SPOILERS))
    return how(draw, message, field)


def _valid(draw: st.DrawFn, message: dict[str, Any], field: str) -> bytes:
    return orjson.dumps(message)


def _wrong_type(draw: st.DrawFn, message: dict[str, Any], field: str) -> bytes:
    spec = SCHEMAS[message["type"]]["properties"][field]
    return orjson.dumps({**message, field: draw(wrong_value(spec))})


def _unknown_keys(draw: st.DrawFn, message: dict[str, Any], field: str) -> bytes:
    extra = draw(st.dictionaries(st.text(max_size=12), JSON, min_size=1, max_size=8))
    return orjson.dumps({**extra, **message})


def _deep(draw: st.DrawFn, message: dict[str, Any], field: str) -> bytes:
    depth = draw(st.integers(1, 1100))  # orjson's limit is 1024
    return with_raw_field(message, field, nesting(depth, draw(st.sampled_from(["[", '{"a":']))))


def _huge_number(draw: st.DrawFn, message: dict[str, Any], field: str) -> bytes:
    return with_raw_field(message, field, draw(HUGE_NUMBERS))


def _missing(draw: st.DrawFn, message: dict[str, Any], field: str) -> bytes:
    return orjson.dumps({k: v for k, v in message.items() if k != field})


def _not_json(draw: st.DrawFn, message: dict[str, Any], field: str) -> bytes:
    text = orjson.dumps(message)
    cut = draw(st.integers(0, len(text) - 1))
    return text[:cut] + draw(st.binary(max_size=8)).replace(b"}", b"")


SPOILERS: tuple[Spoiler, ...] = (
    _valid,
    _wrong_type,
    _unknown_keys,
    _deep,
    _huge_number,
    _missing,
    _not_json,
)
