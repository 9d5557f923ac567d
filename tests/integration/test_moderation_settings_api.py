"""A class's settings over real HTTP and sockets: a class that turns editing off refuses an
edited meta-prompt and its students' `welcome` says so; an unknown perspective is a clear 400;
the class's safety level is reported as it holds (never below the operator's)."""

from __future__ import annotations

from tests.moderation_support import socket_answers
from tests.people_support import api_json, api_send, error_of
from tests.pictures_support import classroom
from tests.pipeline_support import StartPipeline

EDITED = {
    "type": "run.start",
    "prompt": "a fox",
    "interception": "bauhaus",
    "meta_prompt": "Paint everything pink.",
}


async def test_a_class_without_editing_refuses_an_edit_and_its_welcome_says_so(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    path = f"/api/classes/{room.klass['id']}"
    welcome, seen = await socket_answers(room.students["Mika"], server, EDITED)
    assert welcome["limits"]["edit_instructions"] is True
    assert (seen[-1]["type"], seen[-1]["status"]) == ("run.done", "completed")
    rules = {"edit_instructions": False}
    info = await api_json(room.teacher, server, "PATCH", path, {"rules": rules})
    assert info["rules"] == rules
    welcome, seen = await socket_answers(room.students["Mika"], server, EDITED)
    assert welcome["limits"]["edit_instructions"] is False
    assert (seen[-1]["type"], seen[-1]["code"]) == ("error", "edit_not_allowed")
    await room.close()


async def test_a_perspective_the_catalog_does_not_offer_is_a_clear_400(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server)
    unknown = {"rules": {"perspectives": ["bauhaus", "no-such-perspective"]}}
    path = f"/api/classes/{room.klass['id']}"
    async with await api_send(room.teacher, server, "PATCH", path, unknown) as response:
        assert await error_of(response) == (400, "unknown_perspective")
    await room.close()


async def test_the_class_reports_the_safety_level_that_holds(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="youth")
    room = await classroom(server)
    assert room.klass["safety_level"] == "youth"  # no level of its own: the operator's
    path = f"/api/classes/{room.klass['id']}"
    for chosen, holds in (("research", "youth"), ("kids", "kids")):
        body = {"rules": {"safety_level": chosen}}
        info = await api_json(room.teacher, server, "PATCH", path, body)
        assert (info["rules"]["safety_level"], info["safety_level"]) == (chosen, holds)
    async with room.teacher.get(server.make_url(path)) as response:
        assert (await response.json())["safety_level"] == "kids"
    await room.close()
