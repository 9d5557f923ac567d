"""docs/http-api.md and the HTTP API must describe the same API: its bodies
(`server/protocol/_http.py`), its error codes with their statuses, and the app's routes."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from server.app import create_app
from server.handlers.problems import TEXTS
from server.protocol._http import ANSWER_MODELS, REQUEST_MODELS, ApiErrorCode, Body
from server.protocol._http_console import CONSOLE_ANSWER_MODELS
from tests.conftest import make_settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "http-api.md").read_text()
MODELS = (*REQUEST_MODELS, *ANSWER_MODELS, *CONSOLE_ANSWER_MODELS)


def sections() -> dict[str, str]:
    bodies = DOC.split("## Bodies", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### `([A-Za-z]+)`\s*$", bodies, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def table_fields(section: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def name_of(model: type[Body]) -> str:
    return model.__name__


def test_every_body_has_exactly_one_section_and_no_section_is_stale() -> None:
    assert sorted(sections()) == sorted(name_of(m) for m in MODELS)


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_a_section_lists_exactly_the_models_fields(model: type[Body]) -> None:
    assert table_fields(sections()[name_of(model)]) == set(model.model_fields)


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_a_sections_example_is_valid_and_shows_every_field(model: type[Body]) -> None:
    [example] = re.findall(r"```json\n(.*?)\n```", sections()[name_of(model)], re.S)
    data = orjson.loads(example)
    model.model_validate(data)
    assert set(data) == set(model.model_fields)


def test_every_error_code_is_documented_with_its_status() -> None:
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", DOC, flags=re.MULTILINE))
    assert rows == {code.value: str(TEXTS[code][0]) for code in ApiErrorCode}


def test_every_route_of_the_app_has_a_row_and_every_row_a_route() -> None:
    app = create_app(make_settings(demo="on"))
    routes = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
        if not route.resource.canonical.startswith("/static")
    }
    table = DOC.split("## Endpoints", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| ([A-Z]+) \| `([^`]+)` \|", table, flags=re.MULTILINE))
    assert rows == routes
