"""A teacher watches their class live over their own socket: the state, the runs as they go,
online flags, a removed student gone; nobody else may watch it; a console that stops reading
changes nothing for the students."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.engine.stats import SocketStats
from server.handlers.keys import CLASSES
from server.harness.client import AtelierClient, Message
from server.harness.demo import DemoSpeed
from tests.conftest import ws_url
from tests.people_support import ID_COOKIE, api_json, cookie
from tests.pictures_support import classroom
from tests.pipeline_support import StartPipeline, assert_nothing_left, events_of, run_done
from tests.unit.test_class_hub import teacher

PROMPT = "a lighthouse on a cliff above a stormy sea"
#: Messages whose number depends on timing (sent at most so often), left out of comparisons.
THROTTLED = ("queue", "heartbeat", "progress", "preview")
#: Tokens slow enough that the console sees the interception's text grow over a few flushes.
STREAMING = DemoSpeed(tokens_per_second=40, first_token_delay=0, step_time=0.005, steps=3)


async def socket_of(server: TestServer, http: ClientSession) -> AtelierClient:
    """A socket with the client's identity cookie, said hello."""
    client = AtelierClient(
        ws_url(server), headers={"Cookie": f"{ID_COOKIE}={cookie(http, ID_COOKIE)}"}
    )
    welcome = await client.connect()
    assert welcome["type"] == "welcome", welcome
    return client


async def watch(console: AtelierClient, class_id: int) -> Message:
    """`class.watch`; the answer (a `class.state` or an `error`)."""
    await console.send({"type": "class.watch", "class_id": class_id})
    return await console.wait_for(lambda m: m["type"] in ("class.state", "error"))


async def start(client: AtelierClient, prompt: str = PROMPT) -> str:
    await client.send({"type": "run.start", "prompt": prompt, "interception": "bauhaus", "seed": 7})
    accepted = await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))
    assert accepted["type"] == "run.accepted", accepted
    return str(accepted["run"])


async def test_the_teacher_sees_the_class_and_a_students_run_live(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="adult", speed=STREAMING)
    room = await classroom(server, "Mika", "Noah")
    console = await socket_of(server, room.teacher)
    try:
        state = await watch(console, room.klass["id"])
        assert state["type"] == "class.state", state
        assert [(s["nickname"], s["online"]) for s in state["students"]] == [
            ("Mika", False),
            ("Noah", False),
        ]
        mika = await socket_of(server, room.students["Mika"])
        online = await console.wait_for(lambda m: m["type"] == "class.state")
        assert [s["online"] for s in online["students"]] == [True, False]
        run = await start(mika)
        views: list[dict[str, Any]] = []
        while not (views and views[-1]["done"]):
            update = await console.wait_for(lambda m: m["type"] == "class.run", timeout=30)
            views += [v for v in update["runs"] if v["run"] == run]
        done = await run_done(mika, run)
        assert (views[-1]["status"], views[-1]["nickname"]) == (done["status"], "Mika")
        assert views[-1]["prompt"] == PROMPT
        texts: dict[str, str] = {}  # each stage's text as the console rebuilds it
        for view in views:
            if view["stage"] is not None:
                held = texts.get(view["stage"], "")
                texts[view["stage"]] = held[: view["at"]] + view["piece"]
        final = next(
            m["text"]
            for m in events_of(mika, run)
            if m["type"] == "stage" and m["stage"] == "interception" and m["status"] == "done"
        )
        assert texts["interception"]
        assert final.startswith(texts["interception"])
        assert_nothing_left(server)
        await mika.close()
        [noah] = [s["member"] for s in state["students"] if s["nickname"] == "Noah"]
        path = f"/api/classes/{room.klass['id']}/members/{noah}"
        await api_json(room.teacher, server, "DELETE", path, status=204)
        removed = await console.wait_for(lambda m: m["type"] == "class.state")
        assert [s["nickname"] for s in removed["students"]] == ["Mika"]
    finally:
        await console.close()
        await room.close()


async def test_another_teacher_a_student_and_a_missing_class_are_refused(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="adult")
    room = await classroom(server, "Mika")
    other = await classroom(server, teacher="mr-kim")
    theirs = await socket_of(server, other.teacher)
    mika = await socket_of(server, room.students["Mika"])
    try:
        refused = await watch(theirs, room.klass["id"])
        assert (refused["type"], refused["code"]) == ("error", "unknown_class")
        missing = await watch(theirs, 9999)
        assert (missing["type"], missing["code"]) == ("error", "unknown_class")
        student = await watch(mika, room.klass["id"])
        assert (student["type"], student["code"]) == ("error", "unknown_type")
        own = await watch(theirs, other.klass["id"])  # their own class still works
        assert own["type"] == "class.state"
    finally:
        await theirs.close()
        await mika.close()
        await room.close()
        await other.close()


def what_the_student_saw(client: AtelierClient, run: str) -> list[tuple[Any, ...]]:
    """The run's events without what varies from run to run (ids, seqs, times, the tokens'
    split, how many throttled updates): each stage's text joined, every other message by
    type, stage, status and text."""
    seen: list[tuple[Any, ...]] = []
    for m in events_of(client, run):
        if m["type"] == "token":
            if seen and seen[-1][:2] == ("text", m["stage"]):
                seen[-1] = ("text", m["stage"], seen[-1][2] + m["text"])
            else:
                seen.append(("text", m["stage"], m["text"]))
        elif m["type"] not in THROTTLED:
            seen.append((m["type"], m.get("stage"), m.get("status"), m.get("text")))
    return seen


async def test_a_console_that_stops_reading_is_dropped_and_changes_nothing_for_students(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="adult")
    room = await classroom(server, "Mika")
    mika = await socket_of(server, room.students["Mika"])
    try:
        alone = await start(mika)
        await run_done(mika, alone)
        # A console that stops reading: its outbox (the welcome and one more) fills at once.
        stats = SocketStats()
        stalled, outbox = teacher(limit=2, stats=stats)
        hub = server.app[CLASSES]
        hub.watch(room.klass["id"], stalled)
        watched = await start(mika)
        await run_done(mika, watched)
        assert what_the_student_saw(mika, watched) == what_the_student_saw(mika, alone)
        assert stats.outbox_overflows == 1  # dropped by the outbox rule, once
        assert outbox.closing
        await stalled.close()
    finally:
        await mika.close()
        await room.close()
