"""ETAs while a run waits: runs ahead count with the stages they will come back for, and a
refresh is sent when the estimate drifts, by one pass for the whole scheduler that runs only
while someone waits (futures as gates; a fake clock for the times)."""

from __future__ import annotations

import asyncio

from server.engine.scheduler import Scheduler
from server.engine.scheduler._eta import OVERRUN_SHARE
from server.engine.scheduler._lines import Ticker
from tests.scheduler_support import FakeClock, Job, finish_all, make_scheduler


async def measure(scheduler: Scheduler, clock: FakeClock, seconds: float, pool: str) -> None:
    """One job of `seconds` on `pool`, so its stage has a measured service time."""
    stage = "interception" if pool == "llm" else "generation"
    job = Job(scheduler, f"warm-{pool}", f"warm-{pool}", [], stages=((pool, stage),))
    await job.wait_entered()
    clock.advance(seconds)
    job.finish()
    await job.outcome()


async def test_first_in_line_behind_an_overrunning_job_hears_its_eta_grow() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(clock=clock, eta_refresh_interval=0.01)
    await measure(scheduler, clock, 6.0, "llm")
    holder = Job(scheduler, "h", "sh", [])
    await holder.wait_entered()
    waiter = Job(scheduler, "r", "sr", [])
    told = await waiter.recorder.until(lambda i: i.eta_seconds is not None)
    assert (told.position, told.eta_seconds) == (1, 6.0)
    clock.advance(22.0)  # the holder runs on; nobody moves (real-peers.md item 7)
    info = await waiter.recorder.until(lambda i: i.eta_seconds != 6.0)
    assert (info.position, info.eta_seconds) == (1, OVERRUN_SHARE * 16.0)
    await finish_all(holder, waiter)
    scheduler.close()


async def test_an_eta_that_follows_the_countdown_is_not_told_again() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(clock=clock)
    await measure(scheduler, clock, 10.0, "llm")
    holder = Job(scheduler, "h", "sh", [])
    await holder.wait_entered()
    waiter = Job(scheduler, "r", "sr", [])
    await waiter.recorder.until(lambda i: i.eta_seconds == 10.0)
    told = len(waiter.recorder.infos)
    clock.advance(5.0)
    assert scheduler.refresh_etas() is True  # someone still waits
    assert len(waiter.recorder.infos) == told  # 5 s left, as the page counts down
    clock.advance(10.0)  # 5 s past the record: 2.5 s more expected, the page shows 1 s
    scheduler.refresh_etas()
    assert len(waiter.recorder.infos) == told + 1
    assert waiter.recorder.last is not None
    assert waiter.recorder.last.eta_seconds == 3.0
    await finish_all(holder, waiter)
    assert scheduler.refresh_etas() is False  # nobody waits: the pass stops
    scheduler.close()


async def test_one_pass_refreshes_every_waiting_run_of_a_person_together() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(clock=clock)
    await measure(scheduler, clock, 6.0, "llm")
    await measure(scheduler, clock, 6.0, "comfy")
    holders = [
        Job(scheduler, "h1", "sh1", []),
        Job(scheduler, "h2", "sh2", [], stages=(("comfy", "generation"),)),
    ]
    for holder in holders:
        await holder.wait_entered()
    text = Job(scheduler, "a", "s", [])
    image = Job(scheduler, "b", "s", [], stages=(("comfy", "generation"),))
    for job in (text, image):
        await job.recorder.until(lambda i: i.eta_seconds == 6.0)
    clock.advance(22.0)
    scheduler.refresh_etas()
    assert [j.recorder.last.eta_seconds for j in (text, image) if j.recorder.last] == [8.0, 8.0]
    counts = [len(text.recorder.infos), len(image.recorder.infos)]
    scheduler.refresh_etas()  # nothing moved since: nothing to tell
    assert [len(text.recorder.infos), len(image.recorder.infos)] == counts
    await finish_all(*holders, text, image)
    scheduler.close()


async def test_a_ticker_repeats_only_while_its_tick_asks_for_more() -> None:
    ticks: list[int] = []
    third = asyncio.get_running_loop().create_future()

    def tick() -> bool:
        ticks.append(len(ticks) + 1)
        if len(ticks) == 3:
            third.set_result(None)
        return len(ticks) < 3

    ticker = Ticker(0.001, tick)
    ticker.wake()
    ticker.wake()  # already armed: still one timer, so one tick per interval
    await asyncio.wait_for(third, 5)
    assert ticks == [1, 2, 3]
    assert not ticker.armed  # the third tick asked for no more: nothing is scheduled


TWO_LLM_STAGES = (("llm", "safety"), ("llm", "interception"))


async def two_stage_run(
    scheduler: Scheduler, clock: FakeClock, seconds: tuple[float, float]
) -> Job:
    """A run through safety then interception on the LLM pool, each stage `seconds` long."""
    job = Job(scheduler, "warm", "warm", [], stages=TWO_LLM_STAGES)
    for stage, duration in enumerate(seconds):
        await job.wait_entered(stage)
        clock.advance(duration)
        job.finish(stage)
    return job


async def test_a_run_ahead_counts_with_the_stages_it_will_come_back_for() -> None:
    # real-peers.md item 7: on a one-slot LLM server the first ETAs were far too short, as
    # each run ahead was counted for its current stage only.
    clock = FakeClock()
    scheduler = make_scheduler(clock=clock)
    await (await two_stage_run(scheduler, clock, (2.0, 8.0))).outcome()
    order: list[str] = []
    holder = Job(scheduler, "h", "sh", order, stages=TWO_LLM_STAGES)
    await holder.wait_entered()
    first, second = (Job(scheduler, r, f"s{r}", order, stages=TWO_LLM_STAGES) for r in "ab")
    told = await second.recorder.until(lambda i: i.eta_seconds is not None)
    # h safety 2 s, then a safety 2 s (the head of the line takes the freed slot), then h
    # and a come back for interception (8 s each) before b's safety:
    assert (told.stage, told.eta_seconds) == ("safety", 2.0 + 2.0 + 8.0 + 8.0)
    for job, stage in ((holder, 0), (first, 0), (holder, 1), (first, 1), (second, 0), (second, 1)):
        await job.wait_entered(stage)
        job.finish(stage)
    await asyncio.gather(holder.task, first.task, second.task)
    stages = ("safety", "safety", "interception", "interception", "safety", "interception")
    assert order == [f"{run}:{stage}" for run, stage in zip("hahabb", stages, strict=True)]
    scheduler.close()


async def test_a_cancelled_run_says_nothing_about_the_rest_of_a_run() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(clock=clock)
    warm = Job(scheduler, "warm", "warm", [], stages=TWO_LLM_STAGES)
    await warm.wait_entered()
    clock.advance(2.0)
    warm.finish()
    await warm.wait_entered(1)
    warm.task.cancel()  # its safety job finished, but how long its run goes on is unknown
    await warm.outcome()
    holder = Job(scheduler, "h", "sh", [], stages=TWO_LLM_STAGES)
    await holder.wait_entered()
    waiter = Job(scheduler, "r", "sr", [], stages=TWO_LLM_STAGES)
    told = await waiter.recorder.until(lambda i: i.stage == "safety")
    assert told.eta_seconds is None
    holder.task.cancel()
    waiter.task.cancel()
    await asyncio.gather(holder.task, waiter.task, return_exceptions=True)
    scheduler.close()
