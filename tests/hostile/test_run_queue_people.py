"""The whole way, with real cookies: a teacher's class rules, stored and proven by the joined
student's identity cookie, bound that student's runs over every socket they open."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import ClientWebSocketResponse

from tests.people_support import create_class, joined_student, logged_in_teacher, open_socket
from tests.pipeline_support import StartPipeline, assert_nothing_left, demo_of

RULES = {
    "perspectives": ["passthrough"],
    "safety_level": "kids",
    "max_runs_in_flight": 1,
    "max_queued_runs": 0,
}


async def answer(ws: ClientWebSocketResponse, run: str | None = None) -> dict[str, Any]:
    """The next `run.accepted` or `error`, or (given `run`) that run's `run.done`."""
    async with asyncio.timeout(30):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            if run is None and message["type"] in ("run.accepted", "error"):
                return message
            if run is not None and message["type"] == "run.done" and message["run"] == run:
                return message


async def start(ws: ClientWebSocketResponse, prompt: str, interception: str) -> dict[str, Any]:
    await ws.send_json({"type": "run.start", "prompt": prompt, "interception": interception})
    return await answer(ws)


async def test_a_joined_students_class_rules_hold_on_every_socket_of_theirs(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="youth")
    held = demo_of(server).comfyui.hold_after(1)  # the first picture holds its place
    teacher = await logged_in_teacher(server)
    klass = await create_class(teacher, server, "4b", rules=RULES)
    mika = await joined_student(server, klass["code"], "Mika")
    try:
        first, _ = await open_socket(mika, server)
        second, _ = await open_socket(mika, server)  # another tab: another session
        refused = await start(first, "a fox", "bauhaus")
        assert (refused["type"], refused["code"]) == ("error", "unknown_config")
        running = await start(first, "a fox in the snow", "passthrough")
        assert running["type"] == "run.accepted"
        assert (await start(second, "a second fox", "passthrough"))["code"] == "too_many_runs"
        async with asyncio.timeout(10):
            await held.wait()
        demo_of(server).comfyui.release()
        assert (await answer(first, str(running["run"])))["status"] == "completed"
        blocked = await start(second, "a knight with a gun", "passthrough")  # kids list only
        assert (await answer(second, str(blocked["run"])))["status"] == "blocked"
        for ws in (first, second):
            await ws.close()
    finally:
        await mika.close()
        await teacher.close()
    assert_nothing_left(server)
