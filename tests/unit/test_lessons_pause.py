"""A paused class in the scheduler: its waiting runs keep their place but get no slot, a run
in a slot finishes it, and resume lets them on before everyone who came later."""

from __future__ import annotations

import asyncio

from server.engine.scheduler import RunPhase
from tests.scheduler_support import Job, make_scheduler, settle

COMFY_STAGES = (("llm", "interception"), ("comfy", "generation"))


async def test_a_paused_class_keeps_its_place_while_another_class_is_served() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    holder = Job(scheduler, "h", "s0", served, class_id=3)
    paused = Job(scheduler, "p", "s1", served, class_id=1)
    other = Job(scheduler, "q", "s2", served, class_id=2)
    await holder.wait_entered()
    await settle()
    scheduler.pause_class(1)
    told = await paused.recorder.until(lambda i: i.paused)
    assert (told.position, told.queue_length, told.eta_seconds) == (1, 2, None)
    assert (await other.recorder.until(lambda i: i.position == 1)).queue_length == 1
    holder.finish()
    await other.wait_entered()  # the paused run's slot went to the class behind it
    later = Job(scheduler, "r", "s3", served, class_id=2)
    await settle()
    scheduler.resume_class(1)
    other.finish()
    await paused.wait_entered()  # its old place: before the run that came while it was paused
    assert not later.holding
    assert paused.recorder.last is not None
    assert not paused.recorder.last.paused
    paused.finish()
    await later.wait_entered()
    later.finish()
    for job in (holder, paused, other, later):
        assert await job.outcome() is None
    assert served == ["h:interception", "q:interception", "p:interception", "r:interception"]
    assert scheduler.snapshot().people == 0


async def test_a_run_in_a_slot_finishes_it_and_its_next_stage_waits_for_the_resume() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    job = Job(scheduler, "a", "s1", served, stages=COMFY_STAGES, class_id=1)
    await job.wait_entered(0)
    scheduler.pause_class(1)
    assert scheduler.class_paused(1)
    job.finish(0)
    info = await job.recorder.until(lambda i: i.paused)
    assert (info.stage, info.eta_seconds) == ("generation", None)
    assert not job.entered[1].is_set()
    assert scheduler.snapshot().pools["comfy"].running == 0  # the free slot stays free
    scheduler.resume_class(1)
    assert not scheduler.class_paused(1)
    await job.wait_entered(1)
    told = job.recorder.last
    assert told is not None
    assert (told.paused, told.position, told.stage) == (False, 1, "generation")  # not "paused"
    job.finish(1)
    assert await job.outcome() is None
    assert served == ["a:interception", "a:generation"]


async def test_a_cancelled_paused_run_leaves_nothing_behind() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    holder = Job(scheduler, "h", "s0", served)
    waiting = Job(scheduler, "w", "s1", served, class_id=1)
    await holder.wait_entered()
    scheduler.pause_class(1)
    await waiting.recorder.until(lambda i: i.paused)
    waiting.task.cancel()
    assert isinstance(await waiting.outcome(), asyncio.CancelledError)
    assert scheduler.waiting_runs == 0
    scheduler.resume_class(1)
    holder.finish()
    assert await holder.outcome() is None
    snapshot = scheduler.snapshot()
    assert (snapshot.held_slots, snapshot.waiting_runs, snapshot.people) == (0, 0, 0)
    assert served == ["h:interception"]


async def test_runs_of_no_class_and_of_other_classes_are_never_held() -> None:
    scheduler = make_scheduler(slots=2)
    served: list[str] = []
    scheduler.pause_class(1)
    scheduler.pause_class(1)  # twice is once
    guest = Job(scheduler, "g", "s0", served)
    other = Job(scheduler, "o", "s1", served, class_id=2)
    await guest.wait_entered()
    await other.wait_entered()
    guest.finish()
    other.finish()
    assert await guest.outcome() is None
    assert await other.outcome() is None


async def test_a_parked_request_that_moves_up_stays_parked() -> None:
    """The person's older run ends while the younger one is parked: it is re-keyed to its new
    share, and still gets no slot until the class is resumed."""
    scheduler = make_scheduler(max_runs_in_flight_per_person=2)
    served: list[str] = []
    older = Job(scheduler, "x1", "p", served, class_id=1)
    younger = Job(scheduler, "x2", "p", served, class_id=1)
    assert younger.ticket.phase is RunPhase.ACTIVE
    await older.wait_entered()
    scheduler.pause_class(1)
    await younger.recorder.until(lambda i: i.paused)
    older.finish()
    assert await older.outcome() is None
    await settle()
    assert not younger.holding
    assert scheduler.held_slots == 0
    scheduler.resume_class(1)
    await younger.wait_entered()
    younger.finish()
    assert await younger.outcome() is None


async def test_paused_runs_are_told_their_place_among_every_request_of_the_pool() -> None:
    scheduler = make_scheduler()
    served: list[str] = []
    holder = Job(scheduler, "h", "s0", served)
    first = Job(scheduler, "a", "s1", served, class_id=1)
    other = Job(scheduler, "b", "s2", served, class_id=2)
    third = Job(scheduler, "c", "s3", served, class_id=1)
    await holder.wait_entered()
    await settle()
    scheduler.pause_class(1)
    places = [await job.recorder.until(lambda i: i.paused) for job in (first, third)]
    assert [(i.position, i.queue_length) for i in places] == [(1, 3), (3, 3)]
    assert (await other.recorder.until(lambda i: i.queue_length == 1)).position == 1
    for job in (holder, first, other, third):
        job.task.cancel()
        await job.outcome()
    assert scheduler.snapshot().people == 0
