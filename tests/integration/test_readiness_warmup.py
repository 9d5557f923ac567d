"""Workshop preparation over real HTTP against the simulators: every backend kind's state, the
warm-up started from the console with its progress, one at a time; teachers only."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from tests.people_support import api_json, api_send, error_of, logged_in_teacher, people_client
from tests.pictures_support import classroom
from tests.pipeline_support import StartPipeline, demo_of, pipeline_of, until


async def readiness(http: ClientSession, server: TestServer) -> dict[str, Any]:
    async with http.get(server.make_url("/api/teacher/backends")) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


def warm_up_state(server: TestServer) -> str:
    warm_up = pipeline_of(server).services.warm_up
    assert warm_up is not None
    return warm_up.progress().state


async def test_a_teacher_sees_every_kind_ready_and_warms_the_models(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    teacher = await logged_in_teacher(server)
    before = await readiness(teacher, server)
    llm, comfyui = before["kinds"]
    assert (llm["kind"], llm["state"], llm["instances"], llm["healthy"]) == ("llm", "ready", 1, 1)
    assert (comfyui["kind"], comfyui["state"], comfyui["models"]) == ("comfyui", "ready", None)
    assert llm["models"]
    assert not any(model["warm"] for model in llm["models"])
    assert before["warmup"] == {"state": "idle", "done": 0, "total": 0, "failed": 0}

    started = await api_json(teacher, server, "POST", "/api/teacher/warmup")
    assert started["state"] == "running"
    assert started["total"] == len(llm["models"])
    await until(lambda: warm_up_state(server) == "done")
    after = await readiness(teacher, server)
    assert all(model["warm"] for model in after["kinds"][0]["models"])
    total = started["total"]
    assert after["warmup"] == {"state": "done", "done": total, "total": total, "failed": 0}
    await teacher.close()


async def test_a_second_start_while_one_runs_answers_its_progress(
    start_pipeline: StartPipeline,
) -> None:
    # The first model's load hangs until its time bound (3 s): long enough that the warm-up
    # is still at its first model when the second call comes.
    server = await start_pipeline(access="codes", warm_up_timeout=3)
    teacher = await logged_in_teacher(server)
    llm = demo_of(server).llm
    llm.faults.hang_after_tokens = 0
    first = await api_json(teacher, server, "POST", "/api/teacher/warmup")
    second = await api_json(teacher, server, "POST", "/api/teacher/warmup")
    assert first["state"] == "running"
    assert second == first

    await until(lambda: llm.counters.generating == 1)  # the first model hangs
    llm.faults.hang_after_tokens = None  # the later ones load
    await until(lambda: warm_up_state(server) != "running")
    progress = (await readiness(teacher, server))["warmup"]
    total = first["total"]
    # A second warm-up would have hung on its first model too: two failures, more loads.
    assert progress == {"state": "failed", "done": total, "total": total, "failed": 1}
    assert llm.counters.completed == total - 1
    await teacher.close()


async def test_the_warm_up_setting_starts_it_with_the_server(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", warm_up=True)
    await until(lambda: warm_up_state(server) == "done")
    teacher = await logged_in_teacher(server)
    [llm, _] = (await readiness(teacher, server))["kinds"]
    assert all(model["warm"] for model in llm["models"])
    await teacher.close()


async def test_readiness_and_warm_up_are_for_teachers_only(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    mika = room.students["Mika"]
    async with mika.get(server.make_url("/api/teacher/backends")) as response:
        assert await error_of(response) == (403, "teachers_only")
    async with await api_send(mika, server, "POST", "/api/teacher/warmup") as response:
        assert await error_of(response) == (403, "teachers_only")
    async with (
        people_client() as nobody,
        nobody.get(server.make_url("/api/teacher/backends")) as response,
    ):
        assert await error_of(response) == (401, "join_required")
    assert warm_up_state(server) == "idle"
    await room.close()
