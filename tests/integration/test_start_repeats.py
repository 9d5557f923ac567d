"""One click, one run, over a real socket: a `run.start` or `compare.start` sent twice with the
same `ref` is answered twice with the same `run.accepted` and makes one run (`repeats.py`)."""

from __future__ import annotations

from typing import Any

from server.harness.client import AtelierClient, Message
from tests.pipeline_support import StartPipeline, connected, run_done

START = {"type": "run.start", "prompt": "a fox in the snow", "interception": "bauhaus"}
COMPARE = {
    "type": "compare.start",
    "prompt": "a fox in the snow",
    "perspectives": ["bauhaus", "haiku"],
}


async def accepted(client: AtelierClient, count: int) -> list[Message]:
    """The first `count` answers to starts, asserting none was an `error`."""
    answers = [
        await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))
        for _ in range(count)
    ]
    assert all(m["type"] == "run.accepted" for m in answers), answers
    return answers


async def double_send(client: AtelierClient, message: dict[str, Any]) -> None:
    await client.send(message)
    await client.send(message)  # the second click, before the first is answered


async def test_a_double_click_makes_one_run_answered_twice(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline()
    client = await connected(server)
    await double_send(client, {**START, "ref": "c-1"})
    first, again = await accepted(client, 2)
    assert first["run"] == again["run"]
    assert again["ref"] == "c-1"
    assert (again["interception"], again["output"]) == (first["interception"], first["output"])
    await run_done(client, first["run"])
    assert {m["run"] for m in client.messages if "run" in m} == {first["run"]}
    await client.close()


async def test_another_ref_is_another_run(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline()
    client = await connected(server)
    await client.send({**START, "ref": "c-1"})
    await client.send({**START, "ref": "c-2"})
    one, two = await accepted(client, 2)
    assert one["run"] != two["run"]
    await run_done(client, one["run"])
    await run_done(client, two["run"])
    await client.close()


async def test_a_compare_sent_twice_is_one_compare(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline()
    client = await connected(server)
    await double_send(client, {**COMPARE, "ref": "cmp-1"})
    answers = await accepted(client, 4)
    runs = [m["run"] for m in answers]
    assert runs[:2] == runs[2:]  # the same two runs, told again in the same order
    assert len({m["group"] for m in answers}) == 1
    for run in runs[:2]:
        await run_done(client, run)
    assert {m["run"] for m in client.messages if "run" in m} == set(runs)
    await client.close()


async def test_a_refused_start_sent_again_is_checked_again(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline()
    client = await connected(server)
    await client.send({**START, "interception": "no_such_perspective", "ref": "c-1"})
    refused = await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))
    assert (refused["type"], refused["ref"]) == ("error", "c-1")
    await client.send({**START, "ref": "c-1"})  # the student picked a perspective, same click id
    [started] = await accepted(client, 1)
    await run_done(client, started["run"])
    await client.close()
