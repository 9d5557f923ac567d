"""A class's rules at run start, over real sockets: its perspectives, its lower limits and its
stricter safety level apply to its members' runs, and to nobody else's."""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession

from server.engine.people.identity import ClassRules
from tests.hostile.run_queue_support import (
    StartClass,
    socket_of,
    start_class_fixture,  # noqa: F401 - the `start_class` fixture
    student,
    try_run,
)
from tests.pipeline_support import assert_nothing_left, demo_of, run_done, stage_trail

#: "gun" is on the kids list only: youth lets weapons through to the LLM check, which the demo
#: responder passes.
KIDS_ONLY_PROMPT = "a knight with a gun on a hill"

PEOPLE = {
    "mika": student("m-1", "Mika", ClassRules(perspectives=["passthrough", "haiku"])),
    "kids": student("m-2", "Ida", ClassRules(safety_level="kids")),
    "careful": student("m-3", "Ben", ClassRules(max_runs_in_flight=1, max_queued_runs=0)),
    "plain": student("m-4", "Noa"),
}


async def test_a_perspective_outside_the_classs_list_is_refused_in_the_students_words(
    start_class: StartClass,
) -> None:
    server = await start_class(PEOPLE, safety_level="adult")
    mika = await socket_of(server, "mika")
    refused = await try_run(mika, "a fox", "bauhaus")
    assert (refused["type"], refused["code"]) == ("error", "unknown_config")
    assert (
        refused["message"] == "Your class does not use this perspective. Please choose another one."
    )
    german = await try_run(mika, "ein Fuchs", "bauhaus", lang="de")
    assert (
        german["message"] == "Deine Klasse nutzt diese Perspektive nicht. Bitte wähle eine andere."
    )
    accepted = await try_run(mika, "a fox", "passthrough")
    assert accepted["type"] == "run.accepted"
    assert (await run_done(mika, str(accepted["run"])))["status"] == "completed"
    plain = await socket_of(server, "plain")  # no list: the whole catalog
    other = await try_run(plain, "a fox", "bauhaus")
    assert other["type"] == "run.accepted"
    await run_done(plain, str(other["run"]))
    assert_nothing_left(server)


async def test_a_kids_class_on_a_youth_server_is_checked_at_the_kids_level(
    start_class: StartClass,
) -> None:
    server = await start_class(PEOPLE, safety_level="youth")
    kids, plain = await socket_of(server, "kids"), await socket_of(server, "plain")
    blocked = str((await try_run(kids, KIDS_ONLY_PROMPT))["run"])
    passed = str((await try_run(plain, KIDS_ONLY_PROMPT))["run"])
    assert (await run_done(kids, blocked))["status"] == "blocked"
    assert stage_trail(kids, blocked) == [("safety", "started"), ("safety", "blocked")]
    stage = next(
        m
        for m in kids.messages
        if m.get("run") == blocked and m["type"] == "stage" and m["status"] == "blocked"
    )
    assert stage["detail"] == {"check": "words"}
    assert (await run_done(plain, passed))["status"] == "completed"
    safety = next(
        m
        for m in plain.messages
        if m.get("run") == passed
        and m["type"] == "stage"
        and m["stage"] == "safety"
        and m["status"] == "done"
    )
    assert safety["detail"]["level"] == "youth"
    assert_nothing_left(server)


async def test_a_classs_lower_limits_bound_its_members_only(start_class: StartClass) -> None:
    server = await start_class(PEOPLE, safety_level="adult")
    held = demo_of(server).comfyui.hold_after(1)  # no run ends while the test counts
    careful, plain = await socket_of(server, "careful"), await socket_of(server, "plain")
    runs = [str((await try_run(careful, "a quiet lake"))["run"])]
    assert (await try_run(careful, "a second lake"))["code"] == "too_many_runs"
    for prompt in ("a lake", "a river", "a sea"):  # the operator's 2 in flight and 8 queued
        answer = await try_run(plain, prompt)
        assert answer["type"] == "run.accepted"
        runs.append(str(answer["run"]))
    async with asyncio.timeout(10):
        await held.wait()
    demo_of(server).comfyui.release()
    for client, run in [(careful, runs[0]), *((plain, r) for r in runs[1:])]:
        assert (await run_done(client, run, timeout=30))["status"] == "completed"
    assert_nothing_left(server)


async def test_a_class_shows_its_members_only_its_own_perspectives_and_lower_limits(
    start_class: StartClass,
) -> None:
    server = await start_class(PEOPLE, safety_level="adult")
    async with ClientSession() as http:
        listed = await (await http.get(server.make_url("/api/catalog?as=mika"))).json()
        everything = await (await http.get(server.make_url("/api/catalog?as=plain"))).json()
    assert {i["id"] for i in listed["interceptions"]} == {"passthrough", "haiku"}
    assert len(everything["interceptions"]) > 2
    careful, plain = await socket_of(server, "careful"), await socket_of(server, "plain")
    assert careful.welcome is not None
    assert plain.welcome is not None
    assert careful.welcome["limits"]["max_runs_in_flight"] == 1
    assert plain.welcome["limits"]["max_runs_in_flight"] == 2
