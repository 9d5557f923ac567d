"""Slots across instances (`GlobalSlots`): the same contract tests against both back ends, the
Redis one on a real `redis-server` (tests/state_support.py), then what only a shared store can
show: two instances on one pool of 1 slot never hold 2 leases, a dead instance's lease comes
back within its lease, a cancelled waiter leaves no lease."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from server.engine.state.redis_slots import POLL_SECONDS, RedisSlots, slot_keys
from server.engine.state.slots import GlobalSlots, LocalSlots, open_slots
from tests.state_support import redis_server, redis_url

__all__ = ["redis_server", "redis_url"]  # fixtures

POOL = "comfyui:gpu-1"
#: A short lease, so a dead instance's slot comes back quickly in the test.
LEASE = 0.6
#: Bound on any wait that is expected to end (a hang fails the test instead of stalling it).
BOUND = 10.0


class Instances:
    """Instances of one back end: `open()` makes one more (on one Redis, or each its own)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.opened: list[GlobalSlots] = []

    def open(self, slots: int = 1, lease: float = LEASE) -> GlobalSlots:
        one: GlobalSlots
        if self.url is None:
            one = LocalSlots()
        else:
            one = RedisSlots.from_url(self.url, {POOL: slots}, lease, f"i{len(self.opened)}")
        self.opened.append(one)
        return one


@pytest.fixture(params=["embedded", "redis"])
async def instances(request: pytest.FixtureRequest) -> AsyncIterator[Instances]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    made = Instances(url)
    yield made
    for one in made.opened:
        await one.aclose()


@pytest.fixture
async def shared(redis_url: str) -> AsyncIterator[Instances]:
    made = Instances(redis_url)
    yield made
    for one in made.opened:
        await one.aclose()


def never() -> None:
    raise AssertionError("waited for a slot that was free")


async def settled(slots: GlobalSlots) -> None:
    """Wait for the releases an instance sent (they leave in the background)."""
    if isinstance(slots, RedisSlots):
        await slots.settled()


# -- the contract, both back ends


async def test_a_slot_is_held_for_the_block_and_given_back(instances: Instances) -> None:
    slots = instances.open(slots=2)
    async with slots.hold(POOL, never):
        assert await slots.held(POOL) == 1
        async with slots.hold(POOL, never):
            assert await slots.held(POOL) == 2
    await settled(slots)
    assert await slots.held(POOL) == 0


async def test_a_failing_block_gives_its_slot_back(instances: Instances) -> None:
    slots = instances.open()
    with pytest.raises(RuntimeError):
        async with slots.hold(POOL, never):
            raise RuntimeError("the job failed")
    await settled(slots)
    assert await slots.held(POOL) == 0
    async with slots.hold(POOL, never):  # free again at once: no wait
        assert await slots.held(POOL) == 1


async def test_a_cancelled_holder_gives_its_slot_back(instances: Instances) -> None:
    slots = instances.open()
    inside = asyncio.Event()

    async def job() -> None:
        async with slots.hold(POOL, never):
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(job())
    async with asyncio.timeout(BOUND):
        await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await settled(slots)
    assert await slots.held(POOL) == 0


async def test_open_slots_names_the_back_end(redis_url: str) -> None:
    async with open_slots("embedded", redis_url, {POOL: 1}, LEASE) as local:
        assert isinstance(local, LocalSlots)
    async with open_slots("redis", redis_url, {POOL: 1}, LEASE) as shared:
        assert isinstance(shared, RedisSlots)
        async with shared.hold(POOL, never):
            assert await shared.held(POOL) == 1
    async with open_slots("redis", redis_url, {POOL: 1}, LEASE) as again:
        assert await again.held(POOL) == 0  # closing gave it back


# -- across instances: Redis only (the embedded back end is one instance by definition)


async def test_two_instances_never_hold_more_than_the_pool_has(shared: Instances) -> None:
    a, b = shared.open(), shared.open()
    inside = 0
    most = 0
    waited: list[int] = []

    async def job(slots: GlobalSlots) -> None:
        nonlocal inside, most
        async with slots.hold(POOL, lambda: waited.append(1)):
            inside += 1
            most = max(most, inside)
            assert await slots.held(POOL) == 1  # Redis agrees: one lease, this one
            await asyncio.sleep(0)  # let the others ask while it is held
            inside -= 1

    async with asyncio.timeout(BOUND):
        await asyncio.gather(*(job(one) for _ in range(15) for one in (a, b)))
    assert most == 1
    assert waited  # they did contend
    assert isinstance(a, RedisSlots)
    assert isinstance(b, RedisSlots)
    assert a.stats.grants == b.stats.grants == 15
    await settled(a)
    await settled(b)
    assert await a.held(POOL) == 0


async def test_a_renewed_lease_outlives_its_lease_time(shared: Instances) -> None:
    # A lease of 1 s renewed every 1/3 s: a loaded machine's stall of up to 2/3 s is no loss.
    a, b = shared.open(lease=1.0), shared.open(lease=1.0)
    assert isinstance(a, RedisSlots)
    waiting = asyncio.Event()
    async with a.hold(POOL, never):
        other = asyncio.create_task(_take(b, waiting))
        async with asyncio.timeout(BOUND):
            await waiting.wait()
        done, _ = await asyncio.wait([other], timeout=2.0)  # two leases' time
        assert not done, "another instance got a slot that was renewed"
        assert a.stats.renewals >= 2
    async with asyncio.timeout(BOUND):
        await other  # released: its turn
    assert a.stats.lost == 0


async def _take(slots: GlobalSlots, waiting: asyncio.Event) -> None:
    async with slots.hold(POOL, waiting.set):
        pass


async def test_a_dead_instance_s_slot_comes_back_within_its_lease(shared: Instances) -> None:
    a, b = shared.open(), shared.open()
    assert isinstance(a, RedisSlots)
    await a.acquire(POOL, never)
    for task in a._tasks:  # it dies: no renewal, no release, its connections gone
        task.cancel()
    await a.client.connection_pool.disconnect()
    waiting = asyncio.Event()
    # The promise: back within its lease, asked again at once or at the latest after a poll
    # (plus a second for a loaded machine: the bench measures the exact time, 1.00 s at 1 s).
    async with asyncio.timeout(LEASE + POLL_SECONDS + 1.0):
        async with b.hold(POOL, waiting.set):
            pass
    assert waiting.is_set()  # it was held when b asked
    a._held.clear()  # dead: nothing to give back at close


async def test_a_cancelled_waiter_leaves_no_lease(shared: Instances) -> None:
    a, b = shared.open(), shared.open()
    waiting = asyncio.Event()
    async with a.hold(POOL, never):
        task = asyncio.create_task(_take(b, waiting))
        async with asyncio.timeout(BOUND):
            await waiting.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await settled(a)
    await settled(b)
    assert await a.held(POOL) == 0
    assert isinstance(b, RedisSlots)
    assert [await b.client.zcard(key) for key in slot_keys(POOL)] == [0, 0, 0]  # nor its place
    async with a.hold(POOL, never):  # nobody took it behind the cancel
        pass


async def test_a_job_is_never_stuck_on_a_redis_that_does_not_answer() -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    slots = RedisSlots.from_url(f"redis://127.0.0.1:{port}/0", {POOL: 1}, LEASE)
    async with asyncio.timeout(BOUND), slots.hold(POOL, never):  # its local slot bounds it
        pass
    assert slots.counters()["unreachable"] >= 1
    assert LocalSlots().counters() == {}  # the embedded back end adds no metrics
    await slots.aclose()


async def test_a_freed_slot_goes_to_the_instance_that_asked_first(shared: Instances) -> None:
    a, b, c = shared.open(), shared.open(), shared.open()
    order: list[str] = []

    async def queued(slots: GlobalSlots, name: str) -> asyncio.Task[None]:
        waiting = asyncio.Event()

        async def job() -> None:
            async with slots.hold(POOL, waiting.set):
                order.append(name)

        task = asyncio.create_task(job())
        async with asyncio.timeout(BOUND):
            await waiting.wait()  # refused once: it stands in line
        return task

    async with a.hold(POOL, never):
        # b, then c, then a's own next job: a released slot is not a's again first.
        tasks = [await queued(b, "b"), await queued(c, "c"), await queued(a, "a")]
    async with asyncio.timeout(BOUND):
        await asyncio.gather(*tasks)
    assert order == ["b", "c", "a"]


async def test_a_dead_instance_s_waiter_loses_its_place(shared: Instances) -> None:
    a, b, c = shared.open(), shared.open(), shared.open()
    assert isinstance(b, RedisSlots)
    b.waiter_ms = 300  # how long its place outlives its last ask
    b_waits, c_waits = asyncio.Event(), asyncio.Event()
    async with a.hold(POOL, never):
        dead = asyncio.create_task(_take(b, b_waits))
        async with asyncio.timeout(BOUND):
            await b_waits.wait()
        setattr(b, "_send_release", lambda pool, member: None)  # noqa: B010 (it dies: nothing sent)
        dead.cancel()
        for task in b._tasks:
            task.cancel()
        await b.client.connection_pool.disconnect()
        alive = asyncio.create_task(_take(c, c_waits))
        async with asyncio.timeout(BOUND):
            await c_waits.wait()
    async with asyncio.timeout(BOUND):  # after b's place ran out, not forever behind it
        await alive
