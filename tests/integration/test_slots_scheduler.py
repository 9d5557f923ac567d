"""Two schedulers (two instances) on one Redis share a pool's slot: the hook in `RunTicket.slot`.

A run's job holds its local slot and, inside it, a lease across instances; while it waits for
the lease its run is told it is first here with no ETA; a run cancelled there gives back
both (the next local run gets the slot, no lease is left behind)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from server.engine.scheduler import RunTicket, Scheduler, WaitReason
from server.engine.state.redis_slots import RedisSlots
from tests.scheduler_support import Recorder, make_scheduler
from tests.state_support import redis_server, redis_url

__all__ = ["redis_server", "redis_url"]  # fixtures

POOL = "comfy"  # make_scheduler's pool of 1 slot
BOUND = 10.0


@pytest.fixture
async def instances(redis_url: str) -> AsyncIterator[tuple[Scheduler, Scheduler]]:
    pair = (make_scheduler(), make_scheduler())
    opened = []
    for n, scheduler in enumerate(pair):
        slots = RedisSlots.from_url(redis_url, {POOL: 1, "llm": 1}, 1.0, f"i{n}")
        scheduler.global_slots = slots
        opened.append(slots)
    yield pair
    for scheduler, slots in zip(pair, opened, strict=True):
        scheduler.close()
        await slots.aclose()


async def test_runs_on_two_instances_never_run_two_jobs_on_one_slot(
    instances: tuple[Scheduler, Scheduler],
) -> None:
    inside = most = 0

    async def run(scheduler: Scheduler, run_id: str) -> None:
        nonlocal inside, most
        async with scheduler.admit(run_id, f"p-{run_id}") as ticket, ticket.slot(POOL, "image"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            inside -= 1

    async with asyncio.timeout(BOUND):
        await asyncio.gather(
            *(run(s, f"{n}-{k}") for k in range(6) for n, s in enumerate(instances))
        )
    assert most == 1
    for scheduler in instances:
        assert scheduler.held_slots == 0


async def test_a_run_waiting_for_another_instance_is_told_so_and_cancels_cleanly(
    instances: tuple[Scheduler, Scheduler],
) -> None:
    a, b = instances
    holding, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with a.admit("a-1", "anne") as ticket, ticket.slot(POOL, "image"):
            holding.set()
            await release.wait()

    told = Recorder()
    first = asyncio.create_task(holder())
    async with asyncio.timeout(BOUND):
        await holding.wait()
    ticket = b.admit("b-1", "bert", on_queue=told)
    waiting = asyncio.create_task(_job(ticket))
    info = await told.until(lambda i: True)
    # First in b's line (it holds b's slot), and nobody here knows when a's job ends.
    assert (info.reason, info.pool, info.position, info.eta_seconds) == (
        WaitReason.SLOT,
        POOL,
        1,
        None,
    )
    assert b.held_slots == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    ticket.close(cancelled=True)
    assert b.held_slots == 0  # the local slot is back
    release.set()
    await first
    slots_a = a.global_slots
    assert isinstance(slots_a, RedisSlots)
    for scheduler in instances:
        slots = scheduler.global_slots
        assert isinstance(slots, RedisSlots)
        await slots.settled()
    assert await slots_a.held(POOL) == 0  # no lease left behind by the cancelled wait
    async with asyncio.timeout(BOUND):  # and b's next run gets the slot
        async with b.admit("b-2", "bert") as again, again.slot(POOL, "image"):
            pass


async def _job(ticket: RunTicket) -> None:
    async with ticket.slot(POOL, "image"):
        raise AssertionError("got a slot another instance holds")
