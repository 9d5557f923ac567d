"""Teachers manage their classes over real HTTP: create, list, read, rename, set rules, rotate
the code, and nobody else's class is visible (404, never 403)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from tests.conftest import StartServer
from tests.people_support import (
    api_json,
    api_send,
    create_class,
    error_of,
    logged_in_teacher,
)
from tests.pipeline_support import StartPipeline

CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")


async def test_a_class_is_created_with_a_code_and_listed_for_its_teacher(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        rules = {"safety_level": "kids", "max_runs_in_flight": 1}
        created = await create_class(teacher, server, "4b", rules=rules, code_expires_hours=2)
        listed = await api_json(teacher, server, "GET", "/api/classes")
        fetched = await api_json(teacher, server, "GET", f"/api/classes/{created['id']}")
    assert CODE.fullmatch(created["code"])
    assert created["name"] == "4b"
    assert created["rules"] == rules
    assert created["code_expires"] is not None
    assert listed == {"classes": [created]}
    assert fetched == created


async def test_a_class_is_renamed_and_given_stricter_rules(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server, "4b")
        path = f"/api/classes/{klass['id']}"
        changed = await api_json(
            teacher, server, "PATCH", path, {"name": "5a", "rules": {"max_queued_runs": 2}}
        )
    assert (changed["name"], changed["rules"], changed["code"]) == (
        "5a",
        {"max_queued_runs": 2},
        klass["code"],
    )


async def refusal(
    teacher: ClientSession, server: TestServer, method: str, path: str, body: Any
) -> tuple[int, str]:
    async with await api_send(teacher, server, method, path, body) as response:
        return await error_of(response)


async def test_bad_names_and_rules_are_refused_with_their_code(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        post = "/api/classes"
        assert await refusal(teacher, server, "POST", post, {"name": ""}) == (400, "invalid_field")
        assert await refusal(teacher, server, "POST", post, {"name": "\x00"}) == (
            400,
            "invalid_name",
        )
        typed_too_long = {"name": "x" * 321}
        assert await refusal(teacher, server, "POST", post, typed_too_long) == (
            400,
            "invalid_field",
        )
        long_name = {"name": "x" * 320}
        async with await api_send(teacher, server, "POST", post, long_name) as response:
            assert (await response.json())["error"] == {
                "code": "invalid_name",
                "message": "A class's name can have at most 80 characters.",
            }
        for rules in ({"safety_level": "wild"}, {"max_runs_in_flight": 0}, {"colour": "red"}):
            body = {"name": "4b", "rules": rules}
            assert await refusal(teacher, server, "POST", post, body) == (400, "invalid_field")
        expired = {"name": "4b", "code_expires_hours": 0}
        assert await refusal(teacher, server, "POST", post, expired) == (400, "invalid_field")
        assert await refusal(teacher, server, "POST", post, {"name": "4b", "x": 1}) == (
            400,
            "invalid_field",
        )


async def test_perspectives_must_be_ones_the_catalog_offers(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    async with await logged_in_teacher(server) as teacher:
        known = await create_class(teacher, server, rules={"perspectives": ["bauhaus"]})
        assert known["rules"] == {"perspectives": ["bauhaus"]}
        body = {"name": "4b", "rules": {"perspectives": ["no-such-one"]}}
        assert await refusal(teacher, server, "POST", "/api/classes", body) == (
            400,
            "unknown_perspective",
        )


async def test_another_teachers_class_is_not_found(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as owner:
        klass = await create_class(owner, server, "4b")
    async with await logged_in_teacher(server, "mr-ng") as other:
        assert await api_json(other, server, "GET", "/api/classes") == {"classes": []}
        base = f"/api/classes/{klass['id']}"
        for method, path in [
            ("GET", base),
            ("PATCH", base),
            ("DELETE", base),
            ("POST", f"{base}/code"),
            ("GET", f"{base}/members"),
            ("POST", f"{base}/members/1/pin"),
            ("DELETE", f"{base}/members/1"),
        ]:
            assert await refusal(other, server, method, path, {}) == (404, "not_found"), path
        for path in ("/api/classes/999", "/api/classes/abc", "/api/classes/" + "9" * 40):
            assert await refusal(other, server, "GET", path, None) == (404, "not_found")


async def test_a_code_lasts_at_most_a_school_year_and_rules_have_at_most_16_keys(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        year = await create_class(teacher, server, code_expires_hours=24 * 366)
        assert year["code_expires"] is not None
        for body in (
            {"name": "4b", "code_expires_hours": 24 * 366 + 1},
            {"name": "4b", "rules": {f"k{i}": 1 for i in range(17)}},
        ):
            assert await refusal(teacher, server, "POST", "/api/classes", body) == (
                400,
                "invalid_field",
            )
        path = f"/api/classes/{year['id']}/code"
        too_long = {"code_expires_hours": 24 * 366 + 1}
        assert await refusal(teacher, server, "POST", path, too_long) == (400, "invalid_field")
