"""The whole-run estimate (`run_eta`): one number from the first wait to the last, measured on
completed runs only, steady across stages, growing when a job ahead overruns (fake clock)."""

from __future__ import annotations

from server.engine.scheduler import Scheduler
from server.engine.scheduler._eta import ServiceTimes
from server.engine.scheduler._whole import RunClock, record_end, run_eta
from tests.scheduler_support import FakeClock, Job, make_scheduler

TWO_STAGES = (("llm", "interception"), ("comfy", "generation"))


def test_a_runs_second_slot_of_the_same_pool_and_stage_is_its_own_slot() -> None:
    clock = RunClock()
    assert clock.next_slot("llm", "translation") == ("llm", "translation", 0)
    clock.granted("llm", "translation", 5.0)
    clock.granted("comfy", "generation", 6.0)
    assert clock.next_slot("llm", "translation") == ("llm", "translation", 1)
    assert clock.next_slot("comfy", "generation") == ("comfy", "generation", 1)


def test_only_a_completed_run_is_a_sample_of_the_time_to_its_end() -> None:
    times = ServiceTimes(window=5)
    clock = RunClock()
    clock.granted("llm", "safety", 10.0)
    clock.granted("comfy", "generation", 14.0)
    record_end(times, clock, 20.0)  # blocked or failed: no picture, no sample
    assert times.after(("llm", "safety", 0)) is None
    clock.completed = True
    record_end(times, clock, 20.0)
    assert times.after(("llm", "safety", 0)) == 10.0
    assert times.after(("comfy", "generation", 0)) == 6.0


def test_no_estimate_without_both_measurements() -> None:
    assert run_eta(None, 10.0) is None
    assert run_eta(4.0, None) is None
    assert run_eta(4.2, 10.0) == 15.0  # whole seconds, rounded up


def test_a_fresh_estimate_close_to_the_countdown_repeats_the_countdown() -> None:
    clock = RunClock()
    assert clock.steady(40.0, now=100.0) == 40.0  # nothing told yet
    clock.tell(40.0, 100.0)
    assert clock.steady(31.0, now=110.0) == 30.0  # 1 s off the countdown: noise
    assert clock.steady(20.0, now=110.0) == 20.0  # 10 s off: told at once
    assert clock.steady(None, now=110.0) is None  # unknown again: said so
    assert clock.drifted(30.0, 110.0) is False
    assert clock.drifted(20.0, 110.0) is True


async def warm(scheduler: Scheduler, clock: FakeClock) -> None:
    """One completed run: 4 s on the LLM, then 6 s for its picture."""
    run = Job(scheduler, "warm", "warm", [], stages=TWO_STAGES)
    for stage, seconds in enumerate((4.0, 6.0)):
        await run.wait_entered(stage)
        clock.advance(seconds)
        run.finish(stage)
    await run.outcome()


async def test_one_estimate_for_the_whole_run_that_does_not_restart_at_the_next_stage() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(clock=clock)
    await warm(scheduler, clock)
    picture_holder = Job(scheduler, "c", "sc", [], stages=(("comfy", "generation"),))
    await picture_holder.wait_entered()
    text_holder = Job(scheduler, "h", "sh", [], stages=TWO_STAGES)
    await text_holder.wait_entered()
    waiter = Job(scheduler, "r", "sr", [], stages=TWO_STAGES)
    first = await waiter.recorder.until(lambda i: i.stage == "interception")
    # Its text slot in 4 s and 10 s after it would be 14 s; but the picture server first
    # finishes the picture in hand (6 s) and the text holder's (6 s): then its own, 18 s.
    assert (first.eta_seconds, first.run_eta) == (4.0, 18.0)

    clock.advance(4.0)
    text_holder.finish(0)  # on to the picture server's line
    await waiter.wait_entered(0)
    clock.advance(2.0)
    picture_holder.finish()
    await picture_holder.outcome()
    await text_holder.wait_entered(1)
    clock.advance(2.0)
    waiter.finish(0)
    second = await waiter.recorder.until(lambda i: i.stage == "generation")
    # 4 s left of the text holder's picture, then its own 6 s: the 18 s told 8 s ago, counted
    # down. The number did not start over at the new stage.
    assert (second.position, second.eta_seconds, second.run_eta) == (1, 4.0, 10.0)

    clock.advance(10.0)  # the picture in hand overruns: 3 s more expected, the page shows 0
    scheduler.refresh_etas()
    grown = await waiter.recorder.until(lambda i: i.run_eta != 10.0)
    assert grown.run_eta == 9.0
    text_holder.finish(1)
    await text_holder.outcome()
    await waiter.wait_entered(1)
    waiter.finish(1)
    await waiter.outcome()
    scheduler.close()


async def test_without_a_completed_run_the_wait_has_an_eta_but_the_run_none() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(clock=clock)
    blocked = Job(scheduler, "b", "sb", [], stages=TWO_STAGES)
    await blocked.wait_entered(0)
    clock.advance(4.0)
    blocked.finish(0)
    await blocked.wait_entered(1)
    blocked.fail(1)  # blocked at its picture: a measured LLM job, no whole run
    await blocked.outcome()
    holder = Job(scheduler, "h", "sh", [])
    await holder.wait_entered()
    waiter = Job(scheduler, "r", "sr", [], stages=TWO_STAGES)
    told = await waiter.recorder.until(lambda i: i.eta_seconds is not None)
    assert (told.eta_seconds, told.run_eta) == (4.0, None)
    holder.finish()
    await waiter.wait_entered(0)
    waiter.finish(0)
    await waiter.wait_entered(1)
    waiter.finish(1)
    await waiter.outcome()
    scheduler.close()
