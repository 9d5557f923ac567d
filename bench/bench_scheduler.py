"""Scheduler cost with 10,000 waiting runs: admission, slot hand-over, position updates,
and the ETA refresh pass.

Run: .venv/bin/python bench/bench_scheduler.py [--waiting 10000] [--handovers 200]
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from server.engine.scheduler import (
    PoolSettings,
    QueueInfo,
    RunTicket,
    Scheduler,
    SchedulerSettings,
)
from server.engine.scheduler._queueing import RunPriority, SlotQueue, WaitKey


class Clock:
    """The scheduler's clock, moved by hand so the refresh pass has ETAs to refresh."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, info: QueueInfo) -> None:
        self.calls += 1


async def hold(ticket: RunTicket, gate: asyncio.Future[None], entered: asyncio.Event) -> None:
    async with ticket, ticket.slot("gpu", "image"):
        entered.set()
        await gate


async def until(check: object, rounds: int = 100_000) -> None:
    for _ in range(rounds):
        if callable(check) and check():
            return
        await asyncio.sleep(0)
    raise RuntimeError("did not settle")


async def bench(waiting: int, handovers: int) -> None:
    settings = SchedulerSettings(
        pools=(PoolSettings(name="gpu", slots=1),),
        max_waiting_runs=waiting + 10,
        queue_update_interval=0.0,
        max_runs_in_flight_per_person=2,
    )
    clock = Clock()
    scheduler = Scheduler(settings, clock=clock)
    counter = Counter()
    loop = asyncio.get_running_loop()
    await measure_one_job(scheduler, clock)

    t0 = time.perf_counter()
    tickets = [scheduler.admit(f"r{i}", f"s{i}", on_queue=counter) for i in range(waiting + 1)]
    admit = time.perf_counter() - t0
    per = admit / (waiting + 1) * 1e6
    print(f"admit: {waiting + 1} runs in {admit * 1e3:.1f} ms = {per:.2f} us/run")

    gates = [loop.create_future() for _ in tickets]
    entered = [asyncio.Event() for _ in tickets]
    t0 = time.perf_counter()
    parts = zip(tickets, gates, entered, strict=True)
    tasks = [asyncio.create_task(hold(t, g, e)) for t, g, e in parts]
    await until(lambda: scheduler.snapshot().pools["gpu"].waiting == waiting)
    enqueue = time.perf_counter() - t0
    print(
        f"enqueue: {waiting} slot waits (tasks started, queued) in {enqueue * 1e3:.1f} ms"
        f" = {enqueue / waiting * 1e6:.2f} us/wait"
    )

    pool = scheduler._pools["gpu"]
    before = counter.calls
    t0 = time.perf_counter()
    scheduler._tell(pool)  # nothing changed: the cost of computing, not of notifying
    flush = time.perf_counter() - t0
    print(
        f"position/ETA pass over {waiting} waiters, {counter.calls - before} callbacks:"
        f" {flush * 1e3:.2f} ms"
    )

    bench_refresh(scheduler, clock, counter, waiting)

    counter.calls = 0
    t0 = time.perf_counter()
    for i in range(handovers):
        gates[i].set_result(None)
        await asyncio.wait_for(entered[i + 1].wait(), 10)
    await until(lambda: not pool.notifier.pending)
    cycle = time.perf_counter() - t0
    print(
        f"hand-over + position updates: {handovers} hand-overs in {cycle * 1e3:.1f} ms ="
        f" {cycle / handovers * 1e3:.2f} ms each, {counter.calls / handovers:.0f} callbacks each"
    )

    t0 = time.perf_counter()
    for i in range(handovers, 2 * handovers):
        pool.queue.release()  # the pure core alone: pop the head, nothing else
        pool.queue.request(WaitKey(0, RunPriority(-1, 0, -i), -i), None)  # type: ignore[arg-type]
    core = time.perf_counter() - t0
    print(
        f"pure core: {handovers} head releases + head re-inserts (a run returning for its"
        f" next stage) with {waiting} waiting: {core / handovers * 1e6:.2f} us each"
    )

    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    scheduler.close()


async def measure_one_job(scheduler: Scheduler, clock: Clock) -> None:
    """One finished 6 s job, so every waiter has a known ETA."""
    gate, entered = asyncio.get_running_loop().create_future(), asyncio.Event()
    task = asyncio.create_task(hold(scheduler.admit("warm", "warm"), gate, entered))
    await entered.wait()
    clock.now += 6.0
    gate.set_result(None)
    await task


def bench_refresh(
    scheduler: Scheduler, clock: Clock, counter: Counter, waiting: int, repeats: int = 5
) -> None:
    """The ETA refresh pass: with nothing to tell, and after a stall that makes every ETA stale
    (the holder overran by far more than the 10 % even the last waiter may drift); best and
    median of `repeats` passes, as the machine's neighbours make single figures noisy."""
    for label, advance in (("nothing drifted", 0.0), ("after a long stall", 1e6)):
        times, calls = [], []
        for _ in range(repeats):
            clock.now += advance
            before = counter.calls
            t0 = time.perf_counter()
            scheduler.refresh_etas()
            times.append(time.perf_counter() - t0)
            calls.append(counter.calls - before)
        print(
            f"ETA refresh pass over {waiting} waiters, {label}: {min(calls)}-{max(calls)}"
            f" callbacks, best {min(times) * 1e3:.2f} ms, median"
            f" {statistics.median(times) * 1e3:.2f} ms"
        )


def bench_pure_queue(waiting: int) -> None:
    queue: SlotQueue[int] = SlotQueue(1)
    queue.request(WaitKey(0, RunPriority(0, 0, 0), 0), 0)
    t0 = time.perf_counter()
    for i in range(1, waiting + 1):
        queue.request(WaitKey(0, RunPriority(i, 0, i), i), i)
    tail = time.perf_counter() - t0
    t0 = time.perf_counter()
    positions = sum(1 for _ in queue)
    walk = time.perf_counter() - t0
    print(
        f"pure core: {waiting} tail inserts {tail / waiting * 1e6:.2f} us each;"
        f" ordered walk of {positions} waiters {walk * 1e3:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--handovers", type=int, default=200)
    args = parser.parse_args()
    bench_pure_queue(args.waiting)
    asyncio.run(bench(args.waiting, args.handovers))


if __name__ == "__main__":
    main()
