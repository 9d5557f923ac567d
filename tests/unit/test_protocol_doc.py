"""docs/protocol.md and server/protocol/ must describe the same protocol."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from server.protocol import (
    CLIENT_MODELS,
    SERVER_MODELS,
    BackendReason,
    CloseCode,
    ErrorCode,
    Message,
    parse_client,
    server_adapter,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
ALL_MODELS: tuple[type[Message], ...] = (*CLIENT_MODELS, *SERVER_MODELS)


def sections() -> dict[str, str]:
    parts = re.split(r"^### `([a-z.]+)`\s*$", DOC, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def type_of(model: type[Message]) -> str:
    default = model.model_fields["type"].default
    if isinstance(default, str):
        return default
    return str(model.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]


def table_fields(section: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def examples(section: str) -> list[dict[str, object]]:
    return [orjson.loads(block) for block in re.findall(r"```json\n(.*?)\n```", section, re.S)]


def test_every_message_has_exactly_one_section_and_no_section_is_stale() -> None:
    assert sorted(sections()) == sorted(type_of(m) for m in ALL_MODELS)


@pytest.mark.parametrize("model", ALL_MODELS, ids=type_of)
def test_section_lists_exactly_the_model_fields(model: type[Message]) -> None:
    assert table_fields(sections()[type_of(model)]) == set(model.model_fields)


@pytest.mark.parametrize("model", ALL_MODELS, ids=type_of)
def test_section_example_validates_against_its_model(model: type[Message]) -> None:
    found = examples(sections()[type_of(model)])
    assert len(found) == 1
    [example] = found
    assert example["type"] == type_of(model)
    parsed = (
        parse_client(orjson.dumps(example))
        if model in CLIENT_MODELS
        else (server_adapter.validate_python(example))
    )
    assert isinstance(parsed, model)
    if model in SERVER_MODELS:  # examples show every field, as the server sends them
        assert set(example) == set(model.model_fields)


def test_every_error_code_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \| [^|]+\|$", DOC, flags=re.MULTILINE))
    assert {code.value for code in ErrorCode} <= documented


def test_every_close_code_is_documented_with_its_number() -> None:
    for code in CloseCode:
        assert re.search(rf"^\| {code.value} \| `{code.name}` \|", DOC, flags=re.MULTILINE), code


def test_every_backend_reason_is_documented_in_the_backend_section() -> None:
    listed = re.findall(r"^- `([a-z_]+)`: ", sections()["backend"], flags=re.MULTILINE)
    assert listed == [reason.value for reason in BackendReason]
