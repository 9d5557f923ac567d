"""Compare runs over real sockets: one prompt through several perspectives, one `group`, in the
record and the gallery; refused as a whole; one unit of the person's limits; fair to classmates.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import ClientWebSocketResponse

from server.engine.compare import MAX_COMPARE
from server.engine.people.identity import ClassRules
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
from tests.people_support import open_socket
from tests.pictures_support import classroom, gallery
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    demo_of,
    pipeline_of,
    record_of,
    run_done,
    until,
)

THREE = ["bauhaus", "haiku", "fairy_tale"]


def compare(prompt: str, perspectives: list[str], **fields: Any) -> dict[str, Any]:
    return {"type": "compare.start", "prompt": prompt, "perspectives": perspectives, **fields}


async def accepted_runs(ws: ClientWebSocketResponse, count: int) -> list[dict[str, Any]]:
    """The compare's `run.accepted`s (asserting no `error` came instead), then its runs'
    `run.done`s: the accepted messages, each with its `done` added."""
    accepted: list[dict[str, Any]] = []
    done: dict[str, dict[str, Any]] = {}
    async with asyncio.timeout(30):
        while len(done) < count:
            message: dict[str, Any] = await ws.receive_json()
            assert message["type"] != "error", message
            if message["type"] == "run.accepted":
                accepted.append(message)
            elif message["type"] == "run.done":
                done[message["run"]] = message
    return [{**a, "done": done[a["run"]]} for a in accepted]


async def test_a_compare_of_three_is_three_runs_of_one_group_in_record_and_gallery(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    ws, _ = await open_socket(room.students["Mika"], server)
    await ws.send_json(compare("a fox in the snow", THREE, ref="cmp-1"))
    runs = await accepted_runs(ws, 3)
    await ws.close()
    assert [r["interception"] for r in runs] == THREE  # in the order chosen
    [group] = {r["group"] for r in runs}
    assert group.startswith("c-")
    assert {r["ref"] for r in runs} == {"cmp-1"}
    assert {r["done"]["status"] for r in runs} == {"completed"}
    seeds = {record_of(server, r["run"])["inputs"]["seed"] for r in runs}
    assert len(seeds) == 1  # one seed: only the perspective differs
    assert {record_of(server, r["run"])["group"] for r in runs} == {group}
    pictures = await gallery(room.students["Mika"], server)
    assert sorted(p["run"] for p in pictures) == sorted(r["run"] for r in runs)
    assert {p["group"] for p in pictures} == {group}
    await room.close()
    assert_nothing_left(server)


async def refusal(client: AtelierClient, message: dict[str, Any]) -> Message:
    await client.send(message)
    answer = await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))
    assert answer["type"] == "error", answer
    return answer


async def test_a_compare_with_one_bad_perspective_is_refused_whole(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline()
    client = await connected(server)
    five = ["bauhaus", "haiku", "fairy_tale", "passthrough", "the_opposite"][: MAX_COMPARE + 1]
    too_many = await refusal(client, compare("a fox", five, ref="five"))
    assert (too_many["code"], too_many["ref"]) == ("invalid_field", "five")
    twice = await refusal(client, compare("a fox", ["haiku", "bauhaus", "haiku"]))
    assert twice["code"] == "invalid_field"
    alone = await refusal(client, compare("a fox", ["haiku"]))
    assert alone["code"] == "invalid_field"
    unknown = await refusal(client, compare("a fox", ["haiku", "no_such_one", "bauhaus"]))
    assert unknown["code"] == "unknown_config"
    assert client.of_type("run.accepted") == []  # not one run of any of them started
    assert pipeline_of(server).services.scheduler.snapshot().active_runs == 0
    await client.close()


async def test_a_compare_is_one_unit_of_the_persons_limits_all_or_none(
    start_class: StartClass,
) -> None:
    rules = ClassRules(max_runs_in_flight=1, max_queued_runs=0)
    server = await start_class({"mika": student("m-1", "Mika", rules)})
    held = demo_of(server).comfyui.hold_after(1)
    mika = await socket_of(server, "mika")
    await mika.send(compare("a red fox", THREE))
    group = [await mika.wait_for(lambda m: m["type"] == "run.accepted") for _ in THREE]
    async with asyncio.timeout(10):
        await held.wait()
    # One in-flight place holds all three: each of them started, none waits for a place.
    snapshot = pipeline_of(server).services.scheduler.snapshot()
    assert (snapshot.active_runs, snapshot.queued_for_person) == (3, 0)
    refused = await refusal(mika, compare("a blue boat", ["haiku", "bauhaus"]))
    assert refused["code"] == "too_many_runs"
    assert (await try_run(mika, "a green frog"))["code"] == "too_many_runs"
    assert len(mika.of_type("run.accepted")) == 3  # the refused compare started nothing
    demo_of(server).comfyui.release()
    for accepted in group:
        assert (await run_done(mika, accepted["run"]))["status"] == "completed"
    await mika.close()
    assert_nothing_left(server)


async def test_a_classmates_run_is_not_put_behind_the_whole_compare(
    start_class: StartClass,
) -> None:
    server = await start_class({"mika": student("m-1", "Mika"), "noah": student("m-2", "Noah")})
    held = demo_of(server).comfyui.hold_after(1)  # the compare's first picture holds the slot
    mika, noah = await socket_of(server, "mika"), await socket_of(server, "noah")
    await mika.send(compare("a red fox", THREE))
    compared = [await mika.wait_for(lambda m: m["type"] == "run.accepted") for _ in THREE]
    async with asyncio.timeout(10):
        await held.wait()
    boat = await try_run(noah, "a blue boat")  # started after the whole compare
    await until(lambda: image_waiting(server) == 3)
    demo_of(server).comfyui.release()
    for accepted in compared:
        assert (await run_done(mika, accepted["run"]))["status"] == "completed"
    assert (await run_done(noah, boat["run"]))["status"] == "completed"
    # Noah's picture goes after ONE of the compare's waiting ones, not after all three. The
    # held picture is whichever of the compare's reached the image server first (the demo's
    # perspectives write texts of different lengths): if that was not the compare's first run,
    # the first one, started before Noah's, still goes ahead of him; its others go after him.
    ranked = ["circles", "spring", "upon"]  # words of the demo's bauhaus, haiku, fairy tale texts
    order = render_order(demo_of(server), [*ranked, "boat"])
    rendered, first = order[0], [] if order[0] == ranked[0] else ranked[:1]
    assert order == [rendered, *first, "boat", *[p for p in ranked[1:] if p != rendered]], order
    for client in (mika, noah):
        await client.close()
    assert_nothing_left(server)
