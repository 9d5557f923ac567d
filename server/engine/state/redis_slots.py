"""The Redis back end of `GlobalSlots`: per pool, a sorted set of leases that expire.

Key `atelier:slots:{<pool>}`: one member per held slot (`<instance>:<n>`), scored by when its
lease runs out, in Redis's own milliseconds (`TIME` inside the scripts: the instances' clocks
never matter); beside it the pool's waiters, in the order they first asked. Three Lua scripts
keep each change atomic: ACQUIRE sweeps the leases that ran out and gives a free slot to the
first waiters (across instances: first come, first served, so no instance's jobs starve),
RELEASE removes a lease or a waiter that gave up and publishes the pool's name on `CHANNEL`,
RENEW pushes this instance's leases on (one pipeline for every pool, every lease/3 s). A
waiter asks again when a release is published, at once when a job of its own instance
released, and otherwise when the earliest lease runs out or after `POLL_SECONDS`, whichever is
first: a lost message costs at most that, and the slot of a dead instance (no more renewals)
is free again when its lease runs out; its waiters drop out of line after `WAITER_MS`. A job
is never stuck on the store: when Redis does not answer, the job goes by its own instance's
slot (logged) and its lease is written by the next renewal that gets through, if there is
room by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from server.engine.state.slot_scripts import ACQUIRE, HELD, RELEASE, RENEW
from server.engine.state.slots import WaitHook

log = structlog.get_logger(__name__)

#: Where releases are published (the message is the pool's name).
CHANNEL = "atelier:slots:freed"
#: Longest a waiter goes without asking again: what a lost release message costs at most.
POLL_SECONDS = 1.0
#: A waiter that has not asked for this long (its instance died) loses its place in line.
WAITER_MS = round(3 * POLL_SECONDS * 1000)
#: Seconds one call to Redis may take before the job stops waiting for it.
CALL_TIMEOUT = 5.0


def slot_key(pool: str) -> str:
    return f"atelier:slots:{{{pool}}}"


def slot_keys(pool: str) -> list[str]:
    """The pool's leases, its waiters in the order they first asked, and their liveness."""
    key = slot_key(pool)
    return [key, f"{key}:w", f"{key}:wl"]


@dataclass(slots=True)
class SlotStats:
    """What this instance asked of Redis: round trips, grants, waits, renewals, troubles."""

    round_trips: int = 0
    grants: int = 0
    waits: int = 0
    renewals: int = 0
    lost: int = 0
    unreachable: int = 0


class RedisSlots:
    """One instance's leases on the pools' slots of one Redis."""

    def __init__(
        self,
        client: Redis,
        pools: Mapping[str, int],
        lease_seconds: float,
        instance: str | None = None,
    ) -> None:
        self.client = client
        self.instance = instance or secrets.token_urlsafe(9)
        self.pools = dict(pools)
        self.lease_ms = max(1, round(lease_seconds * 1000))
        self.waiter_ms = WAITER_MS
        self.stats = SlotStats()
        self._seq = itertools.count(1)
        self._held: dict[str, set[str]] = {}  # pool: this instance's members, renewed
        self._freed: dict[str, asyncio.Event] = {}  # pool: set (and replaced) on a release
        self._releasing: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []  # the listener and the renewer
        self._ready: asyncio.Future[None] | None = None
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._acquire = client.register_script(ACQUIRE)
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(RENEW)
        self._held_script = client.register_script(HELD)

    @classmethod
    def from_url(
        cls, url: str, pools: Mapping[str, int], lease_seconds: float, instance: str | None = None
    ) -> RedisSlots:
        return cls(Redis.from_url(url), pools, lease_seconds, instance)

    @contextlib.asynccontextmanager
    async def hold(self, pool: str, on_wait: WaitHook) -> AsyncIterator[None]:
        member = await self.acquire(pool, on_wait)
        try:
            yield
        finally:
            self.release(pool, member)

    async def acquire(self, pool: str, on_wait: WaitHook) -> str:
        """Wait for a lease on a slot of `pool`; its member name (for `release`)."""
        member = f"{self.instance}:{next(self._seq)}"
        try:
            await self._wait_for(pool, member, on_wait)
        except BaseException:
            self._send_release(pool, member)  # the script may have taken it as we were cancelled
            raise
        self._held.setdefault(pool, set()).add(member)
        self.stats.grants += 1
        return member

    def release(self, pool: str, member: str) -> None:
        """Give the lease back. No longer renewed from now on, so even a release that never
        reaches Redis frees the slot within a lease."""
        self._held.get(pool, set()).discard(member)
        self._send_release(pool, member)

    def counters(self) -> dict[str, int]:
        return dataclasses.asdict(self.stats)

    async def settled(self) -> None:
        """Wait (bounded) until the releases sent so far are answered."""
        if self._releasing:
            await asyncio.wait(list(self._releasing), timeout=CALL_TIMEOUT)

    async def held(self, pool: str) -> int:
        return int(await self._held_script(keys=[slot_key(pool)]))

    async def renew(self) -> None:
        """Push every lease of this instance on: one round trip for all pools."""
        held = [(pool, sorted(members)) for pool, members in self._held.items() if members]
        if not held:
            return
        try:
            answers = await self._renew_all(held)
        except NoScriptError:  # the first round, or Redis restarted: load it, renew again
            await self.client.script_load(RENEW)
            answers = await self._renew_all(held)
        self.stats.renewals += 1
        for (pool, _), lost in zip(held, answers, strict=True):
            if lost:
                self.stats.lost += len(lost)
                log.warning("slot_lease_lost", pool=pool, leases=len(lost))

    async def _renew_all(self, held: list[tuple[str, list[str]]]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for pool, members in held:
            pipe.evalsha(
                self._renew.sha, 1, slot_key(pool), self.lease_ms, self._slots(pool), *members
            )
        self.stats.round_trips += 1
        async with asyncio.timeout(CALL_TIMEOUT):
            return list(await pipe.execute())

    def _slots(self, pool: str) -> int:
        return self.pools.get(pool, 1)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for pool, members in self._held.items():
            for member in members:
                self._send_release(pool, member)
        self._held.clear()
        await self.settled()
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self.client.aclose()

    # -- waiting

    async def _wait_for(self, pool: str, member: str, on_wait: WaitHook) -> None:
        await self._start()
        await self.settled()  # this instance's own releases land first: no needless refusal
        told = False
        while True:
            freed = self._freed.setdefault(pool, asyncio.Event())  # before asking: no lost wake
            wait = await self._try(pool, member)
            if wait is None:
                return
            if not told:
                told = True
                self.stats.waits += 1
                on_wait()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(wait, POLL_SECONDS)):
                    await freed.wait()

    async def _try(self, pool: str, member: str) -> float | None:
        """Take a lease (None) or say how long until the earliest one runs out (seconds)."""
        args: list[str | int] = [member, self._slots(pool), self.lease_ms, CHANNEL, pool]
        args.append(self.waiter_ms)
        self.stats.round_trips += 1
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                taken, wait_ms = await self._acquire(keys=slot_keys(pool), args=args)
        except (RedisError, TimeoutError) as exc:
            self.stats.unreachable += 1
            log.warning("slots_unreachable", pool=pool, error=repr(exc))
            return None  # this instance's own slots still bound its jobs
        return None if taken else max(int(wait_ms), 1) / 1000

    def _wake(self, pool: str) -> None:
        event = self._freed.pop(pool, None)
        if event is not None:
            event.set()

    def _send_release(self, pool: str, member: str) -> None:
        task = asyncio.get_running_loop().create_task(self._release_now(pool, member))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    async def _release_now(self, pool: str, member: str) -> None:
        self.stats.round_trips += 1
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                await self._release(keys=slot_keys(pool), args=[member, CHANNEL, pool])
        except (RedisError, TimeoutError) as exc:  # its lease runs out by itself
            log.warning("slot_release_failed", pool=pool, error=repr(exc))
        self._wake(pool)

    # -- the instance's two tasks

    async def _start(self) -> None:
        """Subscribe to releases and start renewing, once (the first job that asks)."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._start_now())
        await asyncio.shield(self._ready)

    async def _start_now(self) -> None:
        with contextlib.suppress(RedisError, TimeoutError):  # the listener tries again
            async with asyncio.timeout(CALL_TIMEOUT):
                await self._pubsub.subscribe(CHANNEL)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._renew_forever())]

    async def _listen(self) -> None:
        failing = False  # logged once per outage, not once a second
        while True:
            try:
                if not self._pubsub.subscribed:
                    await self._pubsub.subscribe(CHANNEL)
                async for message in self._pubsub.listen():
                    failing = False
                    self._on_message(message)
            except (RedisError, OSError) as exc:  # meanwhile waiters ask every POLL_SECONDS
                if not failing:
                    log.warning("slots_listen_failed", error=repr(exc))
                failing = True
            await asyncio.sleep(POLL_SECONDS)

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") == "message":
            data = message["data"]
            self._wake(data.decode() if isinstance(data, bytes) else str(data))

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                await self.renew()
            except (RedisError, TimeoutError) as exc:
                log.warning("slot_renew_failed", error=repr(exc))
