"""Slots across instances (`state/redis_slots.py`): what a job grant costs on Redis, and how
quickly a freed slot reaches a job waiting on another instance.

Starts its own `redis-server` (bench_state's) unless --url names one. Three measures:

  dead      - a process takes a pool's only slot and is killed (SIGKILL: no release, its
              connection gone): how long until a job of another instance gets the slot, for
              each --dead lease time;

  alone     - one instance, a free pool: N holds one after the other: Redis round trips per
              grant (the acquire script, the release script) and the time of a hold's way in
              (acquire) and way out (release sent until Redis answered);
  contended - I instances on one pool of S slots, each with S jobs (what its scheduler lets
              ask at once: one per local slot) holding --hold ms in a loop for --seconds:
              round trips per grant (including retries after refusals and renewals) and the
              hand-over delay: from a holder's release to the next grant on another instance
              (pub/sub wake-up) or on the same one (its own release, awaited first).

Run: .venv/bin/python bench/bench_slots.py [--instances 2 3] [--slots 1 2] [--hold 20]
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

import uvloop
from bench_state import connected, redis_server
from redis.asyncio import Redis

from server.engine.state.redis_slots import RedisSlots

POOL = "comfyui:gpu-1"
LEASE = 10.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def ms(values: list[float]) -> str:
    p50, p99, top = pct(values, 0.5), pct(values, 0.99), max(values, default=float("nan"))
    return f"p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, max {top * 1000:.1f} ms"


async def bench_alone(url: str, holds: int) -> None:
    slots = RedisSlots.from_url(url, {POOL: 1}, LEASE, "alone")
    ins: list[float] = []
    outs: list[float] = []
    for _ in range(holds):
        start = time.perf_counter()
        member = await slots.acquire(POOL, lambda: None)
        ins.append(time.perf_counter() - start)
        start = time.perf_counter()
        slots.release(POOL, member)
        await slots.settled()
        outs.append(time.perf_counter() - start)
    trips = slots.stats.round_trips / slots.stats.grants
    print(f"alone: {holds} holds, {trips:.2f} round trips per grant (acquire + release)")
    print(f"  acquire {ms(ins)}; release {ms(outs)}")
    await slots.aclose()


class Timeline:
    """Grants and releases of every instance, on one clock: the hand-over delays."""

    def __init__(self) -> None:
        self.freed: list[tuple[float, str]] = []  # (when, instance), in order
        self.cross: list[float] = []
        self.same: list[float] = []
        self.held = 0.0  # seconds of slot time really held (a sleep overshoots under load)

    def released(self, instance: str) -> None:
        self.freed.append((time.perf_counter(), instance))

    def granted(self, instance: str, asked: float) -> None:
        now = time.perf_counter()
        # The release this grant followed: the latest one before it, after the job asked.
        before = [(t, who) for t, who in self.freed if asked <= t <= now]
        if before:
            t, who = before[-1]
            (self.same if who == instance else self.cross).append(now - t)


async def job(slots: RedisSlots, line: Timeline, hold: float, until: float) -> None:
    while time.perf_counter() < until:
        asked = time.perf_counter()
        member = await slots.acquire(POOL, lambda: None)
        line.granted(slots.instance, asked)
        got = time.perf_counter()
        await asyncio.sleep(hold)
        line.released(slots.instance)
        line.held += time.perf_counter() - got
        slots.release(POOL, member)


async def bench_contended(
    url: str, instances: int, pool_slots: int, hold: float, seconds: float
) -> None:
    async with Redis.from_url(url) as client:
        await client.flushall()
    fleet = [RedisSlots.from_url(url, {POOL: pool_slots}, LEASE, f"i{n}") for n in range(instances)]
    for slots in fleet:  # subscribed, scripts loaded: the rounds measure the steady state
        slots.release(POOL, await slots.acquire(POOL, lambda: None))
        await slots.settled()
    line = Timeline()
    until = time.perf_counter() + seconds
    await asyncio.gather(*(job(s, line, hold, until) for s in fleet for _ in range(pool_slots)))
    grants = sum(s.stats.grants for s in fleet)
    trips = sum(s.stats.round_trips for s in fleet)
    busy = line.held / (seconds * pool_slots)
    print(
        f"contended: {instances} instances, {pool_slots} slot(s), {hold * 1000:.0f} ms holds:"
        f" {grants} grants, {trips / grants:.2f} round trips per grant, slots busy {busy:.0%}"
    )
    shares = " / ".join(str(s.stats.grants) for s in fleet)
    print(f"  grants per instance (equal demand): {shares}")
    for where, delays in (("another", line.cross), ("the same", line.same)):
        if delays:
            print(f"  hand-over to {where} instance ({len(delays)}): {ms(delays)}")
    for s in fleet:
        await s.aclose()


HOLDER = """
import asyncio, sys
from server.engine.state.redis_slots import RedisSlots

async def main():
    slots = RedisSlots.from_url(sys.argv[1], {sys.argv[2]: 1}, float(sys.argv[3]), "dying")
    await slots.acquire(sys.argv[2], lambda: None)
    print("held", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def bench_dead(url: str, lease: float) -> None:
    """A process takes the only slot and is killed (SIGKILL): how long until another
    instance's waiting job gets it."""
    async with Redis.from_url(url) as client:
        await client.flushall()
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, url, POOL, str(lease), stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    assert (await holder.stdout.readline()).strip() == b"held"
    slots = RedisSlots.from_url(url, {POOL: 1}, lease, "survivor")
    holder.kill()
    killed = time.perf_counter()
    await holder.wait()
    await slots.acquire(POOL, lambda: None)
    back = time.perf_counter() - killed
    print(f"dead: lease {lease:.0f} s, slot back {back:.2f} s after the holder's SIGKILL")
    await slots.aclose()


async def main(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(redis_server())
        await connected(url)
        for lease in args.dead:
            await bench_dead(url, lease)
        await bench_alone(url, args.holds)
        for instances in args.instances:
            for pool_slots in args.slots:
                await bench_contended(url, instances, pool_slots, args.hold / 1000, args.seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a Redis to use (its data is flushed!)")
    parser.add_argument("--holds", type=int, default=2000)
    parser.add_argument("--instances", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--hold", type=float, default=20.0, help="ms a job holds its slot")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--dead", type=float, nargs="*", default=[1.0, 3.0, 10.0])
    uvloop.run(main(parser.parse_args()))
