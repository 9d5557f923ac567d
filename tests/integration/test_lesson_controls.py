"""A teacher steers a class in session over real HTTP and sockets: pause and resume its queue
(another class is served meanwhile), end the lesson (every run cancelled, new ones refused,
also after a restart) and open the next, cancel one run (the image server gets the
interrupt), change the rules of live sessions; nobody else may."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.harness.client import AtelierClient
from tests.conftest import ws_url
from tests.people_support import ID_COOKIE, api_json, api_send, cookie, error_of, people_client
from tests.pictures_support import Classroom, classroom
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    demo_of,
    events_of,
    run_done,
    start_run,
)


async def student_socket(server: TestServer, http: ClientSession) -> AtelierClient:
    """The student's own socket (their identity cookie), said hello."""
    client = AtelierClient(
        ws_url(server), headers={"Cookie": f"{ID_COOKIE}={cookie(http, ID_COOKIE)}"}
    )
    welcome = await client.connect()
    assert welcome["type"] == "welcome", welcome
    return client


async def control(room: Classroom, server: TestServer, action: str) -> dict[str, Any]:
    return await api_json(room.teacher, server, "POST", f"/api/classes/{room.klass['id']}/{action}")


async def refused_start(client: AtelierClient) -> str:
    await client.send({"type": "run.start", "prompt": "a red kite", "interception": "bauhaus"})
    answer = await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))
    assert answer["type"] == "error", answer
    return str(answer["code"])


async def queued(client: AtelierClient, run: str) -> dict[str, Any]:
    """The run's first `queue` event (already received or still to come)."""
    return await client.expect(lambda m: m["type"] == "queue" and m["run"] == run)


async def test_a_paused_class_waits_while_another_class_is_served_until_it_is_resumed(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="adult", queue_update_interval=0)
    paused_room = await classroom(server, "Mika")
    other_room = await classroom(server, "Noah", teacher="mr-kim")
    mika = await student_socket(server, paused_room.students["Mika"])
    noah = await student_socket(server, other_room.students["Noah"])
    try:
        info = await control(paused_room, server, "pause")
        assert (info["paused"], info["lesson_open"]) == (True, True)
        held = await start_run(mika, "a lighthouse in the fog")
        told = await queued(mika, held)
        assert (told["paused"], told["eta"]) == (True, None)
        served = await start_run(noah, "a fox in the snow")
        assert (await run_done(noah, served))["status"] == "completed"
        assert not [m for m in events_of(mika, held) if m["type"] in ("token", "run.done")]
        info = await control(paused_room, server, "resume")
        assert info["paused"] is False
        assert (await run_done(mika, held))["status"] == "completed"
        mine = await api_json(
            paused_room.teacher, server, "GET", f"/api/classes/{paused_room.klass['id']}"
        )
        assert mine["paused"] is False
        assert_nothing_left(server)
    finally:
        await mika.close()
        await noah.close()
        await paused_room.close()
        await other_room.close()


async def test_ending_the_lesson_cancels_every_run_and_refuses_new_ones_until_it_opens(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="adult")
    room = await classroom(server, "Mika", "Noah")
    sockets = [await student_socket(server, room.students[n]) for n in ("Mika", "Noah")]
    try:
        await control(room, server, "pause")  # both runs stay in flight, waiting
        runs = [await start_run(s, "a castle made of clouds") for s in sockets]
        for client, run in zip(sockets, runs, strict=True):
            await queued(client, run)
        info = await control(room, server, "end")
        assert info["lesson_open"] is False
        for client, run in zip(sockets, runs, strict=True):
            done = await run_done(client, run)
            assert done["status"] == "cancelled"
            assert done["reason"] == "Your teacher ended the lesson, so this picture was stopped."
        assert await refused_start(sockets[0]) == "lesson_closed"

        info = await control(room, server, "open")
        assert (info["paused"], info["lesson_open"]) == (False, True)
        run = await start_run(sockets[1], "a castle made of clouds")
        assert (await run_done(sockets[1], run))["status"] == "completed"
        assert_nothing_left(server)
    finally:
        for client in sockets:
            await client.close()
        await room.close()


async def test_an_ended_lesson_stays_ended_after_a_restart(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes", safety_level="adult")
    room = await classroom(server, "Mika")
    try:
        await control(room, server, "end")
        restarted = await start_pipeline(access="codes", safety_level="adult")  # same data_dir
        mika = await student_socket(restarted, room.students["Mika"])
        try:
            assert await refused_start(mika) == "lesson_closed"
        finally:
            await mika.close()
        path = f"/api/classes/{room.klass['id']}"
        assert (await api_json(room.teacher, restarted, "GET", path))["lesson_open"] is False
    finally:
        await room.close()


async def test_a_teacher_cancels_one_run_and_the_image_server_gets_the_interrupt(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="adult")
    demo = demo_of(server)
    demo.comfyui.hold_after(2)
    room = await classroom(server, "Mika")
    mika = await student_socket(server, room.students["Mika"])
    try:
        run = await start_run(mika, "a calm lake")
        await mika.wait_for(lambda m: m["type"] == "progress")
        info = await control(room, server, f"runs/{run}/cancel")
        assert info["id"] == room.klass["id"]
        await demo.comfyui.state.interrupt_requested.wait()  # bounded by the run_done below
        demo.comfyui.release()
        done = await run_done(mika, run)
        assert (done["status"], done["reason"]) == (
            "cancelled",
            "Your teacher stopped this picture.",
        )
        assert demo.comfyui.interrupted == 1
        async with await api_send(
            room.teacher, server, "POST", f"/api/classes/{room.klass['id']}/runs/{run}/cancel"
        ) as response:
            assert await error_of(response) == (404, "not_found")  # it has ended
        assert_nothing_left(server)
    finally:
        await mika.close()
        await room.close()


async def test_changed_rules_reach_a_live_session_at_its_next_run(
    start_pipeline: StartPipeline,
) -> None:
    """Perspectives, safety level and run limits, each changed while the student is online."""
    server = await start_pipeline(access="codes", safety_level="adult")
    room = await classroom(server, "Mika")
    mika = await student_socket(server, room.students["Mika"])
    try:
        before = await start_run(mika, "a water pistol", "passthrough")
        assert (await run_done(mika, before))["status"] == "completed"  # fine for adults
        rules = {
            "perspectives": ["passthrough"],
            "safety_level": "kids",
            "max_runs_in_flight": 1,
            "max_queued_runs": 0,
        }
        path = f"/api/classes/{room.klass['id']}"
        await api_json(room.teacher, server, "PATCH", path, {"rules": rules})
        assert await refused_start(mika) == "unknown_config"  # bauhaus is no longer offered
        after = await start_run(mika, "a water pistol", "passthrough")
        assert (await run_done(mika, after))["status"] == "blocked"  # checked as for kids now
        demo_of(server).comfyui.hold_after(1)
        held = await start_run(mika, "a red kite", "passthrough")
        await mika.wait_for(lambda m: m["type"] == "progress" and m["run"] == held)
        await mika.send({"type": "run.start", "prompt": "a kite", "interception": "passthrough"})
        refused = await mika.wait_for(lambda m: m["type"] in ("run.accepted", "error"))
        assert refused.get("code") == "too_many_runs"  # one run at a time in this class now
        demo_of(server).comfyui.release()
        assert (await run_done(mika, held))["status"] == "completed"
    finally:
        await mika.close()
        await room.close()


async def test_only_the_class_teacher_may_steer_it(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes", safety_level="adult")
    room = await classroom(server, "Mika")
    other = await classroom(server, "Noah", teacher="mr-kim")
    demo_of(server).comfyui.hold_after(1)
    noah = await student_socket(server, other.students["Noah"])
    nobody = people_client()
    try:
        theirs = await start_run(noah, "a quiet forest")
        klass = room.klass["id"]
        paths = [f"/api/classes/{klass}/{a}" for a in ("pause", "resume", "end", "open")]
        paths.append(f"/api/classes/{klass}/runs/{theirs}/cancel")
        for path in paths:
            for http, expected in (
                (other.teacher, (404, "not_found")),  # another teacher's class
                (room.students["Mika"], (403, "teachers_only")),
                (nobody, (401, "join_required")),
            ):
                async with await api_send(http, server, "POST", path) as response:
                    assert await error_of(response) == expected, (path, expected)
        async with await api_send(  # the class's teacher, but a run of another class
            room.teacher, server, "POST", f"/api/classes/{klass}/runs/{theirs}/cancel"
        ) as response:
            assert await error_of(response) == (404, "not_found")
        async with room.teacher.post(server.make_url(f"/api/classes/{klass}/pause")) as response:
            assert await error_of(response) == (403, "csrf")  # no CSRF token
        mine = await api_json(room.teacher, server, "GET", f"/api/classes/{klass}")
        assert (mine["paused"], mine["lesson_open"]) == (False, True)  # nothing took effect
        demo_of(server).comfyui.release()
        assert (await run_done(noah, theirs))["status"] == "completed"
    finally:
        await noah.close()
        await nobody.close()
        await room.close()
        await other.close()


async def test_a_watching_console_hears_each_change_as_a_fresh_class_state(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="adult")
    room = await classroom(server, "Mika")
    console = await student_socket(server, room.teacher)  # the teacher's own socket
    try:
        await console.send({"type": "class.watch", "class_id": room.klass["id"]})
        first = await console.wait_for(lambda m: m["type"] in ("class.state", "error"))
        assert (first["type"], first["paused"], first["lesson_open"]) == (
            "class.state",
            False,
            True,
        )
        for action, paused, lesson_open in (
            ("pause", True, True),
            ("end", True, False),
            ("open", False, True),
        ):
            await control(room, server, action)
            state = await console.wait_for(lambda m: m["type"] == "class.state")
            assert (state["paused"], state["lesson_open"]) == (paused, lesson_open), action
            assert state["class_id"] == room.klass["id"]
    finally:
        await console.close()
        await room.close()
