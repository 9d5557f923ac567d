"""One student with many sessions cannot take the run queue: runs are bounded per person.

Issue 15, item 5: a student with 55 sessions got 503 runs admitted, closed every socket, and a
classmate's run took 112.6 s instead of 3.2 s. Here Mallory opens several sessions of her one
identity on a real port; she gets `max_runs_in_flight` + `max_queued_runs` runs across all of
them, closing her sockets gives her none back, and Victor's run beside her full quota waits
only for her runs in flight, never for her queue. Order and positions are asserted, not times:
the image server (one slot) is held on its first render, and what it rendered, in order, is
read from its own journal afterwards.
"""

from __future__ import annotations

import asyncio
import functools

from aiohttp.test_utils import TestServer

from server.harness.client import AtelierClient, Message
from tests.hostile.run_queue_support import (
    StartClass,
    image_waiting,
    render_order,
    socket_of,
    start_class_fixture,  # noqa: F401 - the `start_class` fixture
    student,
    try_run,
)
from tests.pipeline_support import assert_nothing_left, demo_of, pipeline_of, run_done, until

IN_FLIGHT, QUEUED = 2, 3
QUOTA = IN_FLIGHT + QUEUED
SESSIONS = 4
PEOPLE = {"mallory": student("m-101", "Mallory"), "victor": student("m-102", "Victor")}
MARKERS = [f"mallory-{n}" for n in ("alpha", "bravo", "charlie", "delta", "echo")]


def is_queue_of(message: Message, run: str) -> bool:
    return message["type"] == "queue" and message.get("run") == run


async def start(start_class: StartClass) -> TestServer:
    server = await start_class(
        PEOPLE, safety_level="adult", max_runs_in_flight=IN_FLIGHT, max_queued_runs=QUEUED
    )
    demo_of(server).comfyui.hold_after(1)  # the first render holds the image slot
    return server


async def image_slot_held(server: TestServer) -> None:
    """The first render is held (a release before it would be lost) and a second run waits."""
    async with asyncio.timeout(10):
        await demo_of(server).comfyui.executor.held.wait()
    await until(lambda: image_waiting(server) == IN_FLIGHT - 1)


async def fill_quota(server: TestServer) -> tuple[list[AtelierClient], list[tuple[int, str]]]:
    """Mallory's sessions, each asking for runs in turn until every one is refused; her
    accepted runs as (session index, run id), in the order they were accepted."""
    sessions = [await socket_of(server, "mallory") for _ in range(SESSIONS)]
    accepted: list[tuple[int, str]] = []
    refused = 0
    for attempt in range(2 * SESSIONS):
        index = attempt % SESSIONS
        marker = MARKERS[len(accepted)] if len(accepted) < QUOTA else "mallory-extra"
        answer = await try_run(sessions[index], f"a quiet lake, picture {marker}")
        if answer["type"] == "run.accepted":
            accepted.append((index, str(answer["run"])))
        else:
            assert answer["code"] == "too_many_runs", answer
            refused += 1
    assert (len(accepted), refused) == (QUOTA, 2 * SESSIONS - QUOTA)
    return sessions, accepted


async def test_one_student_holds_no_more_runs_than_their_bound_across_sessions(
    start_class: StartClass,
) -> None:
    server = await start(start_class)
    sessions, accepted = await fill_quota(server)
    snapshot = pipeline_of(server).services.scheduler.snapshot()
    assert (snapshot.active_runs, snapshot.queued_for_person, snapshot.people) == (
        IN_FLIGHT,
        QUEUED,
        1,
    )
    assert len({index for index, _ in accepted}) == SESSIONS  # spread over every session
    for client in sessions:
        await client.close()  # the sessions detach; their runs go on and still count
    fresh = await socket_of(server, "mallory")
    assert (await try_run(fresh, "one more lake"))["code"] == "too_many_runs"
    resumed = sessions[0]
    await resumed.connect()
    assert (await try_run(resumed, "and another lake"))["code"] == "too_many_runs"
    await image_slot_held(server)
    demo_of(server).comfyui.release()
    await until(lambda: pipeline_of(server).active_runs == 0, timeout=30)
    assert (await try_run(fresh, "a lake at last"))["type"] == "run.accepted"
    await run_done(fresh, str(fresh.messages[-1]["run"]))
    assert_nothing_left(server)


async def test_a_classmates_run_waits_only_for_the_attackers_runs_in_flight(
    start_class: StartClass,
) -> None:
    server = await start(start_class)
    sessions, accepted = await fill_quota(server)
    demo = demo_of(server)
    await image_slot_held(server)
    victor = await socket_of(server, "victor")
    answer = await try_run(victor, "a lighthouse, picture victor-own")
    assert answer["type"] == "run.accepted", answer
    run = str(answer["run"])
    told = await victor.wait_for(
        lambda m: m["type"] == "queue" and m["run"] == run and m["stage"] == "generation"
    )
    # In line with her second run only (which of the two goes first is the fairness window's
    # call: starts within a second are ties, won by whoever has started fewer runs).
    assert told["length"] == IN_FLIGHT
    for index, rid in accepted[IN_FLIGHT:]:  # her other runs wait in her own line
        queued = await sessions[index].expect(functools.partial(is_queue_of, run=rid))
        assert queued["stage"] is None
    assert pipeline_of(server).services.scheduler.snapshot().queued_for_person == QUEUED
    demo.comfyui.release()
    assert (await run_done(victor, run, timeout=30))["status"] == "completed"
    for index, rid in accepted:
        assert (await run_done(sessions[index], rid, timeout=30))["status"] == "completed"
    generation = [m for m in victor.messages if m["type"] == "queue" and m["run"] == run]
    positions = [m["position"] for m in generation]
    assert positions == sorted(positions, reverse=True)  # never pushed back by her queue
    assert max(positions) <= IN_FLIGHT
    assert max(m["length"] for m in generation) <= IN_FLIGHT
    order = render_order(demo, [*MARKERS, "victor-own"])
    assert order[0] == MARKERS[0]  # it held the slot when Victor came
    assert sorted(order[1 : IN_FLIGHT + 1]) == sorted([*MARKERS[1:IN_FLIGHT], "victor-own"])
    assert order[IN_FLIGHT + 1 :] == MARKERS[IN_FLIGHT:]  # her queue, all after Victor
    assert_nothing_left(server)
