"""The scheduler's async behaviour: order, fairness, limits, backpressure (futures as gates)."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from server.engine.scheduler import (
    Busy,
    PoolSettings,
    QueueInfo,
    RunPhase,
    Scheduler,
    SchedulerSettings,
    TooManyRuns,
    UnknownPool,
    WaitReason,
)
from tests.scheduler_support import FakeClock, Job, finish_all, make_scheduler, settle


async def test_slots_are_granted_in_admission_order() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", f"s{i}", served) for i in range(5)]
    await settle()
    for job in jobs:
        await job.wait_entered()
        job.finish()
        assert await job.outcome() is None
    assert served == [f"r{i}:interception" for i in range(5)]
    assert scheduler.held_slots == 0


async def test_a_run_in_a_later_stage_goes_before_fresh_first_stage_work() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    two_stages = [("llm", "interception"), ("llm", "translation")]
    older = Job(scheduler, "older", "s1", served, stages=two_stages)
    await older.wait_entered(0)
    newer = [Job(scheduler, f"new{i}", f"s{i + 2}", served) for i in range(2)]
    await settle()
    older.finish(0)  # the slot goes to new0 at once; older asks again for stage 2
    await newer[0].wait_entered()
    await settle()
    newer[0].finish()
    await older.wait_entered(1)  # ahead of new1, which asked before it
    older.finish(1)
    newer[1].finish()
    for job in [older, *newer]:
        assert await job.outcome() is None
    assert served == [
        "older:interception",
        "new0:interception",
        "older:translation",
        "new1:interception",
    ]


async def test_a_single_run_does_not_wait_behind_another_persons_whole_burst() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=2)
    served: list[str] = []
    burst = [Job(scheduler, f"g{i}", "greedy", served) for i in range(6)]
    lone = Job(scheduler, "lone", "modest", served)
    await settle()
    for job in [burst[0], lone, *burst[1:]]:
        await job.wait_entered()
        job.finish()
        await job.outcome()
    # Behind the one of greedy's two runs in flight that holds the slot: greedy's second run
    # in flight goes after everyone's first, and the rest of the burst after that.
    assert served.index("lone:interception") == 1


async def test_ties_in_a_fairness_window_interleave_people() -> None:
    scheduler = make_scheduler(fairness_window=5.0, max_runs_in_flight_per_person=3)
    served: list[str] = []
    holder = Job(scheduler, "holder", "x", served)
    await holder.wait_entered()
    greedy = [Job(scheduler, f"g{i}", "greedy", served) for i in range(3)]
    lone = Job(scheduler, "lone", "modest", served)
    await settle()
    holder.finish()
    for job in [greedy[0], lone, greedy[1], greedy[2]]:
        await job.wait_entered()
        job.finish()
        await job.outcome()
    assert served[1:3] == ["g0:interception", "lone:interception"]


async def test_runs_beyond_the_person_limit_wait_in_the_persons_own_line() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=2)
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", "s", served, stages=[("comfy", "image")]) for i in range(4)]
    await jobs[0].wait_entered()
    await settle()
    assert [j.ticket.phase for j in jobs] == [RunPhase.ACTIVE] * 2 + [RunPhase.QUEUED] * 2
    assert jobs[2].recorder.last == QueueInfo(WaitReason.PERSON, None, None, 1, 2, None)
    assert jobs[3].recorder.last == QueueInfo(WaitReason.PERSON, None, None, 2, 2, None)
    jobs[0].finish()
    await jobs[0].outcome()
    await settle()
    assert jobs[2].ticket.phase is RunPhase.ACTIVE
    assert jobs[3].recorder.last == QueueInfo(WaitReason.PERSON, None, None, 1, 1, None)
    assert scheduler.snapshot().queued_for_person == 1
    for job in jobs[1:]:
        await job.wait_entered()
        job.finish()
        await job.outcome()
    assert scheduler.snapshot().people == 0


async def test_a_full_queue_refuses_new_runs_and_keeps_the_queued_ones() -> None:
    scheduler = make_scheduler(max_waiting_runs=2, retry_after_default=7.0)
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", f"s{i}", served) for i in range(3)]
    await settle()
    positions = [j.recorder.last for j in jobs[1:]]
    with pytest.raises(Busy) as refused:
        scheduler.admit("late", "s9")
    assert refused.value.code == "busy"
    assert refused.value.retry_after == 7.0
    assert scheduler.snapshot().refusals == 1
    await settle()
    assert [j.recorder.last for j in jobs[1:]] == positions
    jobs[0].finish()
    await jobs[1].wait_entered()
    scheduler.admit("later", "s9").close()  # room again
    for job in jobs[1:]:
        job.finish()
        assert await job.outcome() is None
    assert served == ["r0:interception", "r1:interception", "r2:interception"]


async def test_one_person_cannot_queue_without_bound() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=1, max_queued_runs_per_person=1)
    first, second = scheduler.admit("a", "s"), scheduler.admit("b", "s")
    with pytest.raises(TooManyRuns) as refused:
        scheduler.admit("c", "s")
    assert refused.value.code == "too_many_runs"
    scheduler.admit("d", "other").close()
    first.close()
    second.close()
    assert scheduler.snapshot().people == 0


async def test_eta_is_unknown_until_a_job_finished_then_follows_the_average() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(clock=clock, eta_window=3)
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", f"s{i}", served) for i in range(8)]
    await settle()
    assert jobs[1].recorder.last is not None
    assert jobs[1].recorder.last.eta_seconds is None
    durations = [100.0, 10.0, 10.0, 10.0]
    for job, seconds in zip(jobs, durations, strict=False):
        await job.wait_entered()
        clock.advance(seconds)
        job.finish()
        await job.outcome()
        await settle()
    # Mean of the last three jobs is 10 s; the new holder just started, one slot:
    etas = [j.recorder.last.eta_seconds for j in jobs[5:] if j.recorder.last]
    assert etas == [10.0, 20.0, 30.0]
    assert scheduler.typical_service_time("llm", "interception") == pytest.approx(10.0)
    await finish_all(*jobs[4:])
    assert scheduler.held_slots == 0


async def test_eta_is_shared_out_over_the_pools_slots() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(slots=2, clock=clock)
    served: list[str] = []
    warmup = Job(scheduler, "w", "sw", served)
    await warmup.wait_entered()
    clock.advance(8.0)
    warmup.finish()
    await warmup.outcome()
    jobs = [Job(scheduler, f"r{i}", f"s{i}", served) for i in range(5)]
    await settle()
    assert [j.recorder.last.eta_seconds for j in jobs[2:] if j.recorder.last] == [8.0, 8.0, 16.0]
    await finish_all(*jobs)


async def test_unknown_pools_are_refused() -> None:
    scheduler = make_scheduler()
    async with scheduler.admit("r", "s") as ticket:
        with pytest.raises(UnknownPool):
            async with ticket.slot("nope", "stage"):
                pass
    assert scheduler.held_slots == 0


async def test_metrics_count_waits_services_and_refusals() -> None:
    registry = CollectorRegistry()
    settings = SchedulerSettings(
        pools=(PoolSettings(name="llm", slots=1),), max_waiting_runs=1, queue_update_interval=0.0
    )
    scheduler = Scheduler(settings, registry=registry, clock=FakeClock())
    served: list[str] = []
    first, second = Job(scheduler, "a", "s1", served), Job(scheduler, "b", "s2", served)
    await settle()
    with pytest.raises(Busy):
        scheduler.admit("c", "s3")
    assert registry.get_sample_value("atelier_scheduler_waiting", {"pool": "llm"}) == 1
    assert registry.get_sample_value("atelier_scheduler_running", {"pool": "llm"}) == 1
    first.finish()
    await second.wait_entered()
    second.fail()
    await second.outcome()
    sample = registry.get_sample_value
    ok = {"pool": "llm", "stage": "interception", "outcome": "ok"}
    error = {**ok, "outcome": "error"}
    assert sample("atelier_scheduler_service_seconds_count", ok) == 1
    assert sample("atelier_scheduler_service_seconds_count", error) == 1
    waits = {"pool": "llm", "stage": "interception"}
    assert sample("atelier_scheduler_wait_seconds_count", waits) == 2
    assert sample("atelier_scheduler_refusals_total", {"reason": "busy"}) == 1
    assert scheduler.snapshot().held_slots == 0


async def test_a_failing_queue_callback_does_not_stop_the_queue() -> None:
    scheduler = make_scheduler()

    def broken(info: QueueInfo) -> None:
        raise RuntimeError("client went away")

    holder = scheduler.admit("a", "s1")
    waiter = scheduler.admit("b", "s2", on_queue=broken)
    entered = asyncio.Event()

    async def hold() -> None:
        async with holder.slot("llm", "x"):
            await entered.wait()

    async def wait() -> None:
        async with waiter.slot("llm", "x"):
            pass

    tasks = [asyncio.create_task(hold()), asyncio.create_task(wait())]
    await settle()
    entered.set()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)
    assert scheduler.held_slots == 0
