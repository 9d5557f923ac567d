"""Runs are counted and ordered per person (an owner key), with lower limits for some people."""

from __future__ import annotations

import pytest

from server.engine.scheduler import RunLimits, RunPhase, TooManyRuns
from server.engine.scheduler._queueing import Admission, admission
from tests.scheduler_support import Job, make_scheduler, settle


@pytest.mark.parametrize(
    ("in_flight", "queued", "expected"),
    [
        (0, 0, Admission.START),
        (1, 0, Admission.START),
        (2, 0, Admission.QUEUE),
        (2, 2, Admission.QUEUE),
        (2, 3, Admission.REFUSE),
    ],
)
def test_a_persons_run_starts_queues_or_is_refused_by_their_counts(
    in_flight: int, queued: int, expected: Admission
) -> None:
    assert admission(in_flight, queued, RunLimits(in_flight=2, queued=3)) is expected


def test_a_person_with_no_queue_is_refused_as_soon_as_their_places_are_taken() -> None:
    assert admission(1, 0, RunLimits(in_flight=1, queued=0)) is Admission.REFUSE


@pytest.mark.parametrize(("in_flight", "queued"), [(0, 0), (1, -1)])
def test_limits_that_admit_nothing_are_a_bug(in_flight: int, queued: int) -> None:
    with pytest.raises(ValueError, match="invalid run limits"):
        RunLimits(in_flight, queued)


async def test_a_person_holds_at_most_their_in_flight_and_queued_runs() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=2, max_queued_runs_per_person=3)
    tickets = [scheduler.admit(f"r{i}", "m-mallory") for i in range(5)]
    with pytest.raises(TooManyRuns) as refused:
        scheduler.admit("r5", "m-mallory")
    assert refused.value.code == "too_many_runs"
    assert [t.phase for t in tickets] == [RunPhase.ACTIVE] * 2 + [RunPhase.QUEUED] * 3
    scheduler.admit("v", "m-victor").close()  # the bound is Mallory's alone
    tickets[4].close()  # a queued run given up frees a queue place
    tickets.append(scheduler.admit("r6", "m-mallory"))
    for ticket in tickets:
        ticket.close()
    assert (scheduler.snapshot().people, scheduler.waiting_runs) == (0, 0)


async def test_lower_limits_of_one_person_bound_only_that_person() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=2, max_queued_runs_per_person=8)
    strict = RunLimits(in_flight=1, queued=0)
    first = scheduler.admit("c1", "m-class", limits=strict)
    with pytest.raises(TooManyRuns):
        scheduler.admit("c2", "m-class", limits=strict)
    others = [scheduler.admit(f"o{i}", "m-other") for i in range(3)]
    assert [t.phase for t in others] == [RunPhase.ACTIVE, RunPhase.ACTIVE, RunPhase.QUEUED]
    for ticket in [first, *others]:
        ticket.close()
    assert scheduler.snapshot().refusals == 1


async def test_limits_lowered_while_runs_are_in_flight_start_no_more_until_below_them() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=2, max_queued_runs_per_person=4)
    running = [scheduler.admit(f"r{i}", "m-p") for i in range(2)]
    lowered = RunLimits(in_flight=1, queued=4)
    waiting = scheduler.admit("r2", "m-p", limits=lowered)
    phases = []
    for ticket in running:
        ticket.close()
        phases.append(waiting.phase)
    assert phases == [RunPhase.QUEUED, RunPhase.ACTIVE]  # while one works, the bound of 1 holds
    waiting.close()


async def test_a_persons_queued_run_starting_late_goes_behind_runs_started_meanwhile() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=2, max_queued_runs_per_person=4)
    served: list[str] = []
    mallory = [Job(scheduler, f"m{i}", "m-mallory", served) for i in range(4)]
    await mallory[0].wait_entered()
    victor = Job(scheduler, "v", "m-victor", served)
    await settle()
    assert victor.recorder.last is not None
    # Mallory's second run in flight waits behind Victor's first.
    assert (victor.recorder.last.position, victor.recorder.last.queue_length) == (1, 2)
    for job in [mallory[0], victor, mallory[1], mallory[2], mallory[3]]:
        await job.wait_entered()
        job.finish()
        await job.outcome()
    assert served == [f"{n}:interception" for n in ("m0", "v", "m1", "m2", "m3")]
    assert scheduler.snapshot().people == 0


async def test_a_burst_of_many_people_at_once_interleaves_by_person_not_by_order() -> None:
    scheduler = make_scheduler(fairness_window=5.0, max_runs_in_flight_per_person=3)
    served: list[str] = []
    holder = Job(scheduler, "holder", "m-x", served)
    await holder.wait_entered()
    greedy = [Job(scheduler, f"g{i}", "m-greedy", served) for i in range(3)]
    modest = [Job(scheduler, f"o{i}", f"m-modest{i}", served) for i in range(2)]
    await settle()
    holder.finish()
    for job in [greedy[0], *modest, greedy[1], greedy[2]]:
        await job.wait_entered()
        job.finish()
        await job.outcome()
    # One tick: each person's first start goes before anyone's second.
    assert served[1:] == [f"{n}:interception" for n in ("g0", "o0", "o1", "g1", "g2")]


async def test_a_persons_waiting_run_moves_up_when_their_older_run_ends() -> None:
    scheduler = make_scheduler(fairness_window=0, max_runs_in_flight_per_person=2)
    served: list[str] = []
    first = Job(scheduler, "a1", "m-ada", served)
    await first.wait_entered()
    second = Job(scheduler, "a2", "m-ada", served)  # Ada's second run in flight: share 1
    bob = Job(scheduler, "b1", "m-bob", served)
    await settle()
    first.finish()  # Ada's first run ends: Bob's first run gets the slot, Ada's second moves up
    await bob.wait_entered()
    cleo = Job(scheduler, "c1", "m-cleo", served)  # started after Ada's second: goes behind it
    await settle()
    assert cleo.recorder.last is not None
    assert cleo.recorder.last.position == 2
    for job in [bob, second, cleo]:
        await job.wait_entered()
        job.finish()
        await job.outcome()
    assert served == [f"{n}:interception" for n in ("a1", "b1", "a2", "c1")]
