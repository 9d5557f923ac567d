"""Cancel and every exit path: slots are released exactly once and handed to the next waiter."""

from __future__ import annotations

import asyncio

import pytest

from server.engine.scheduler import RunClosed, WaitReason
from tests.scheduler_support import Job, make_scheduler, settle


async def test_cancel_while_waiting_removes_the_run_and_moves_up_everyone_behind() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", f"s{i}", served) for i in range(4)]
    await settle()
    assert jobs[3].recorder.last is not None
    assert (jobs[3].recorder.last.position, jobs[3].recorder.last.queue_length) == (3, 3)
    jobs[2].task.cancel()
    info = await jobs[3].recorder.until(lambda i: i.position == 2)
    assert info.queue_length == 2
    assert scheduler.snapshot().pools["llm"].waiting == 2
    assert isinstance(await jobs[2].outcome(), asyncio.CancelledError)
    for job in [jobs[0], jobs[1], jobs[3]]:
        await job.wait_entered()
        job.finish()
        await job.outcome()
    assert "r2:interception" not in served
    assert scheduler.snapshot().held_slots == 0
    assert scheduler.snapshot().people == 0


async def test_cancel_while_holding_runs_the_stage_cleanup_then_frees_the_slot() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    running, waiting = Job(scheduler, "a", "s1", served), Job(scheduler, "b", "s2", served)
    await running.wait_entered()
    running.task.cancel()
    await waiting.wait_entered()
    assert running.cleaned_up
    assert isinstance(await running.outcome(), asyncio.CancelledError)
    waiting.finish()
    await waiting.outcome()
    assert scheduler.held_slots == 0


async def test_a_failing_stage_releases_its_slot_to_the_next_waiter() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    failing, waiting = Job(scheduler, "a", "s1", served), Job(scheduler, "b", "s2", served)
    await failing.wait_entered()
    failing.fail()
    await waiting.wait_entered()
    assert isinstance(await failing.outcome(), RuntimeError)
    waiting.finish()
    await waiting.outcome()
    assert scheduler.held_slots == 0
    assert scheduler.typical_service_time("llm", "interception") is not None  # only b's


async def test_a_stage_timeout_releases_its_slot() -> None:
    scheduler = make_scheduler()
    ticket = scheduler.admit("a", "s")
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def stage_that_hangs() -> None:
        async with asyncio.timeout(0), ticket.slot("llm", "interception"):
            await never

    with pytest.raises(TimeoutError):
        await stage_that_hangs()
    ticket.close()
    assert scheduler.held_slots == 0
    assert scheduler.typical_service_time("llm", "interception") is None  # aborts are not samples


async def test_a_waiter_cancelled_at_the_moment_of_hand_over_passes_the_slot_on() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    holder = scheduler.admit("a", "s1")
    release = asyncio.Event()
    jobs: list[Job] = []

    async def hold_then_cancel_the_next() -> None:
        async with holder.slot("llm", "interception"):
            await release.wait()
        jobs[0].task.cancel()  # same step as the hand-over: b's future already has the slot

    task = asyncio.create_task(hold_then_cancel_the_next())
    await settle()
    assert scheduler.held_slots == 1
    doomed, heir = Job(scheduler, "b", "s2", served), Job(scheduler, "c", "s3", served)
    jobs.append(doomed)
    await settle()
    release.set()
    await heir.wait_entered()
    assert isinstance(await doomed.outcome(), asyncio.CancelledError)
    assert served == ["c:interception"]
    heir.finish()
    await heir.outcome()
    await task
    holder.close()
    assert scheduler.held_slots == 0


async def test_closing_a_ticket_fails_its_waiting_stage_and_updates_the_others() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", f"s{i}", served) for i in range(3)]
    await settle()
    jobs[1].ticket.close()
    assert isinstance(await jobs[1].outcome(), RunClosed)
    await jobs[2].recorder.until(lambda i: i.position == 1)
    jobs[0].finish()
    await jobs[2].wait_entered()
    jobs[2].finish()
    await jobs[2].outcome()
    assert scheduler.held_slots == 0
    assert scheduler.waiting_runs == 0


async def test_cancel_while_waiting_in_the_person_line_frees_the_place_at_once() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=1)
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", "s", served) for i in range(3)]
    await settle()
    assert jobs[2].recorder.last is not None
    assert jobs[2].recorder.last.reason is WaitReason.PERSON
    assert jobs[2].recorder.last.position == 2
    jobs[1].task.cancel()
    await jobs[2].recorder.until(lambda i: i.position == 1)
    assert isinstance(await jobs[1].outcome(), asyncio.CancelledError)
    jobs[0].finish()
    await jobs[2].wait_entered()
    jobs[2].finish()
    await jobs[2].outcome()
    assert served == ["r0:interception", "r2:interception"]
    assert scheduler.snapshot().people == 0


async def test_a_burst_of_changes_reaches_a_waiter_as_one_update() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", f"s{i}", served) for i in range(10)]
    await settle()
    before = len(jobs[9].recorder.infos)
    for job in jobs[2:9]:
        job.task.cancel()
    await settle()
    assert len(jobs[9].recorder.infos) == before + 1
    assert jobs[9].recorder.last is not None
    assert jobs[9].recorder.last.position == 2
    for job in [jobs[0], jobs[1], jobs[9]]:
        await job.wait_entered()
        job.finish()
    await asyncio.gather(*(j.task for j in jobs), return_exceptions=True)
    assert scheduler.held_slots == 0


async def test_the_latest_position_arrives_after_the_update_interval() -> None:
    scheduler = make_scheduler(queue_update_interval=0.01)
    served: list[str] = []
    jobs = [Job(scheduler, f"r{i}", f"s{i}", served) for i in range(4)]
    await jobs[3].recorder.until(lambda i: i.position == 3)
    jobs[1].task.cancel()
    await settle()
    jobs[2].task.cancel()  # inside the interval: gathered into the trailing update
    info = await jobs[3].recorder.until(lambda i: i.position == 1)
    assert info.queue_length == 1
    jobs[0].finish()
    await jobs[3].wait_entered()
    jobs[3].finish()
    await asyncio.gather(*(j.task for j in jobs), return_exceptions=True)
    scheduler.close()
    assert scheduler.held_slots == 0
