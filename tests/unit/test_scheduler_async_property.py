"""Property: random admissions, completions, failures and cancels never leak a slot, never
grant one twice, and always hand a freed slot to the waiter with the smallest priority.

Each example runs real tasks on a fresh event loop; after every step the loop is drained
(`settle`: no timers, the update interval is 0), so the driver is deterministic.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine.scheduler import Busy, RunPhase, Scheduler, WaitReason
from tests.scheduler_support import Job, make_scheduler, settle

STAGE_PLANS = [
    (("llm", "safety"),),
    (("llm", "interception"), ("llm", "translation")),
    (("llm", "interception"), ("comfy", "image")),
]
step = st.one_of(
    st.tuples(st.just("admit"), st.integers(0, 3), st.integers(0, len(STAGE_PLANS) - 1)),
    st.tuples(st.sampled_from(["finish", "fail", "cancel"]), st.integers(0, 63), st.just(0)),
)


def waiting_in(jobs: list[Job], pool: str) -> list[Job]:
    return [
        j
        for j in jobs
        if not j.task.done()
        and not j.holding
        and j.ticket.phase is RunPhase.ACTIVE
        and j.stages[j.current][0] == pool
    ]


def wait_order(job: Job, jobs: list[Job]) -> tuple[int, tuple[int, ...]]:
    """The model of a waiter's place: its share of its person's runs in flight (how many of
    them started before it), then its run's priority."""
    priority = job.ticket.priority
    assert priority is not None
    share = sum(
        1
        for other in jobs
        if other.ticket.person == job.ticket.person
        and other.ticket.phase is RunPhase.ACTIVE
        and other.ticket.priority is not None
        and other.ticket.priority.start_seq < priority.start_seq
    )
    return share, tuple(priority)


def check_invariants(scheduler: Scheduler, jobs: list[Job]) -> None:
    snapshot = scheduler.snapshot()
    for name, pool in snapshot.pools.items():
        holders = [j for j in jobs if j.holding and j.stages[j.current][0] == name]
        waiters = sorted(waiting_in(jobs, name), key=lambda j: wait_order(j, jobs))
        assert len(holders) == pool.running <= pool.slots, "slot count drifted"
        assert len(waiters) == pool.waiting
        assert not waiters or pool.running == pool.slots, "a slot idles while a run waits"
        for position, job in enumerate(waiters, 1):
            info = job.recorder.last
            assert info is not None
            assert (info.reason, info.pool, info.position) == (WaitReason.SLOT, name, position)


async def scenario(slots: int, script: list[tuple[str, int, int]]) -> None:
    scheduler = make_scheduler(
        slots=slots,
        max_runs_in_flight_per_person=2,
        max_queued_runs_per_person=3,
        max_waiting_runs=10,
    )
    served: list[str] = []
    jobs: list[Job] = []
    for number, (op, a, b) in enumerate(script):
        if op == "admit":
            before = scheduler.snapshot()
            try:
                job = Job(scheduler, f"r{number}", f"s{a}", served, stages=STAGE_PLANS[b])
            except Busy:  # also TooManyRuns: refused at once, nothing queued is touched
                after = scheduler.snapshot()
                assert after.refusals == before.refusals + 1
                assert (after.waiting_runs, after.held_slots) == (
                    before.waiting_runs,
                    before.held_slots,
                )
                continue
            jobs.append(job)
            await settle()
        else:
            live = [j for j in jobs if not j.task.done()]
            if not live:
                continue
            await apply(op, live[a % len(live)], jobs)
        check_invariants(scheduler, jobs)
    await drain(jobs)
    assert scheduler.snapshot().held_slots == 0
    assert scheduler.waiting_runs == 0
    assert scheduler.snapshot().people == 0


async def apply(op: str, job: Job, jobs: list[Job]) -> None:
    if op == "cancel" or not job.holding:
        job.task.cancel()
        await settle()
        return
    pool = job.stages[job.current][0]
    before = {id(j) for j in jobs if j.holding}
    queued = {id(j) for j in jobs if j.ticket.phase is RunPhase.QUEUED}
    expected = min(waiting_in(jobs, pool), key=lambda j: wait_order(j, jobs), default=None)
    job.finish(job.current) if op == "finish" else job.fail(job.current)
    await settle()
    granted = [
        j
        for j in jobs
        if j.holding and id(j) not in before and j.stages[j.current][0] == pool and j is not job
    ]
    if expected is None:  # only a run of the closing run's person line may start now
        assert all(id(j) in queued for j in granted)
    else:
        assert granted[:1] == [expected], "the slot did not go to the oldest waiter"


async def drain(jobs: list[Job]) -> None:
    async with asyncio.timeout(10):
        while live := [j for j in jobs if not j.task.done()]:
            for job in live:
                if job.holding:
                    job.finish(job.current)
            await settle()
    results = await asyncio.gather(*(j.task for j in jobs), return_exceptions=True)
    for job, result in zip(jobs, results, strict=True):
        assert not job.holding
        assert result is None or isinstance(result, asyncio.CancelledError | RuntimeError)


@settings(max_examples=150, deadline=None)
@given(slots=st.integers(1, 3), script=st.lists(step, min_size=1, max_size=40))
def test_random_interleavings_never_leak_slots_and_keep_order(
    slots: int, script: list[tuple[str, int, int]]
) -> None:
    asyncio.run(scenario(slots, script))
