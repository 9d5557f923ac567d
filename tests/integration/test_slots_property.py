"""Property, on a real `redis-server`: random asks, releases and cancels of jobs on three
instances sharing one pool never put more jobs in it than it has slots, and in the end every
job still asking gets its slot and no lease or place in line is left behind.

Each example runs on a fresh event loop and an emptied Redis; a step lets the loop run until
Redis answered what the step sent (`settled`, a bounded wait on an event, not a sleep)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from server.engine.state.redis_slots import RedisSlots, slot_keys
from tests.state_support import RedisServer, redis_server

__all__ = ["redis_server"]  # fixtures

POOL = "comfyui:gpu-1"
BOUND = 10.0
step = st.tuples(
    st.sampled_from(["ask", "ask", "release", "cancel"]), st.integers(0, 2), st.integers()
)


class Pool:
    """The jobs of one example, and what the test sees of the pool: who is inside."""

    def __init__(self, fleet: list[RedisSlots], slots: int) -> None:
        self.fleet = fleet
        self.slots = slots
        self.inside = 0
        self.most = 0
        self.jobs: list[tuple[asyncio.Task[None], asyncio.Event]] = []

    def ask(self, instance: int) -> None:
        done = asyncio.Event()
        self.jobs.append((asyncio.create_task(self._job(self.fleet[instance], done)), done))

    async def _job(self, slots: RedisSlots, done: asyncio.Event) -> None:
        async with slots.hold(POOL, lambda: None):
            self.inside += 1
            self.most = max(self.most, self.inside)
            try:
                await done.wait()
            finally:
                self.inside -= 1

    def live(self) -> list[tuple[asyncio.Task[None], asyncio.Event]]:
        return [(task, done) for task, done in self.jobs if not task.done()]

    async def settled(self) -> None:
        for _ in range(3):  # a hand-over: release, then the next job's ask
            await asyncio.sleep(0.005)
            for slots in self.fleet:
                await slots.settled()


async def scenario(url: str, slots: int, steps: list[tuple[str, int, int]]) -> Pool:
    async with Redis.from_url(url) as client:
        await client.flushall()
    pool = Pool([RedisSlots.from_url(url, {POOL: slots}, 10.0, f"i{n}") for n in range(3)], slots)
    try:
        for action, instance, pick in steps:
            live = pool.live()
            if action == "ask":
                pool.ask(instance)
            elif live and action == "release":
                live[pick % len(live)][1].set()
            elif live:
                live[pick % len(live)][0].cancel()
            await pool.settled()
        async with asyncio.timeout(BOUND):  # everyone still asking gets in, one after another
            for _, done in pool.jobs:
                done.set()
            await asyncio.gather(*(task for task, _ in pool.jobs), return_exceptions=True)
        for slots_of in pool.fleet:
            await slots_of.settled()
        async with Redis.from_url(url) as client:
            left = [await client.zcard(key) for key in slot_keys(POOL)]
        assert left == [0, 0, 0], "a lease or a place in line was left behind"
        return pool
    finally:
        for one in pool.fleet:
            await one.aclose()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(slots=st.integers(1, 2), steps=st.lists(step, min_size=3, max_size=12))
def test_random_jobs_on_three_instances_never_overfill_a_pool_nor_leak(
    redis_server: RedisServer, slots: int, steps: list[tuple[str, int, int]]
) -> None:
    pool = asyncio.run(scenario(redis_server.url, slots, steps))
    assert pool.most <= slots
    assert all(task.done() for task, _ in pool.jobs)
