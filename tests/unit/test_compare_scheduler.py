"""Compare runs in the scheduler: admitted all or none as one unit of the person's limits, and
one place in the fair order (a classmate goes after one of the compare's jobs, not all)."""

from __future__ import annotations

import asyncio

import pytest

from server.engine.compare import InvalidCompare, new_group_id, run_messages
from server.engine.scheduler import (
    Busy,
    QueueCallback,
    RunLimits,
    RunPhase,
    RunTicket,
    TooManyRuns,
)
from server.engine.scheduler._compare import next_unit, units
from server.protocol import CompareStart
from tests.scheduler_support import make_scheduler, settle

ONE_PLACE = RunLimits(in_flight=1, queued=0)


def runs(*names: str) -> dict[str, QueueCallback | None]:
    return dict.fromkeys(names)


def test_a_compare_takes_one_place_and_starts_all_its_runs() -> None:
    scheduler = make_scheduler()
    tickets = scheduler.admit_group(runs("a1", "a2", "a3"), "m-1", group="c-1", limits=ONE_PLACE)
    assert [t.phase for t in tickets] == [RunPhase.ACTIVE] * 3
    assert units(tickets) == 1


def test_a_compare_the_person_has_no_room_for_is_refused_whole() -> None:
    scheduler = make_scheduler()
    scheduler.admit("r0", "m-1", limits=ONE_PLACE)
    with pytest.raises(TooManyRuns):
        scheduler.admit_group(runs("a1", "a2"), "m-1", group="c-1", limits=ONE_PLACE)
    assert scheduler.snapshot().active_runs == 1  # nothing of the compare was kept


def test_a_compare_that_would_overfill_the_queue_is_refused_whole() -> None:
    scheduler = make_scheduler(max_waiting_runs=2)
    with pytest.raises(Busy):
        scheduler.admit_group(runs("a1", "a2", "a3"), "m-1", group="c-1")
    assert scheduler.snapshot().people == 0
    assert [t.run_id for t in scheduler.admit_group(runs("b1", "b2"), "m-2", group="c-2")] == [
        "b1",
        "b2",
    ]


def test_a_run_already_admitted_refuses_the_compare_before_anything_changes() -> None:
    scheduler = make_scheduler()
    scheduler.admit("a1", "m-1")
    with pytest.raises(ValueError, match="already admitted"):
        scheduler.admit_group(runs("a2", "a1"), "m-1", group="c-1")
    assert scheduler.snapshot().active_runs == 1


async def test_a_queued_compare_waits_as_one_entry_and_starts_whole() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=1, max_queued_runs_per_person=1)
    first = scheduler.admit("r0", "m-1")
    tickets = scheduler.admit_group(runs("a1", "a2", "a3"), "m-1", group="c-1")
    assert [t.phase for t in tickets] == [RunPhase.QUEUED] * 3
    with pytest.raises(TooManyRuns):  # the line's one place is the compare's, all of it
        scheduler.admit("r1", "m-1")
    first.close()
    await settle()
    assert [t.phase for t in tickets] == [RunPhase.ACTIVE] * 3


def test_the_next_unit_of_a_line_is_a_whole_compare() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=1)
    scheduler.admit("r0", "m-1")
    line = {t.run_id: t for t in scheduler.admit_group(runs("a1", "a2"), "m-1", group="c-1")}
    line.update({"r1": scheduler.admit("r1", "m-1")})
    assert [t.run_id for t in next_unit(line)] == ["a1", "a2"]
    assert list(line) == ["r1"]


async def hold_a_slot(ticket: RunTicket, served: list[str], gate: asyncio.Event) -> None:
    async with ticket, ticket.slot("llm", "interception"):
        served.append(ticket.run_id)
        await gate.wait()


async def test_a_classmates_run_waits_behind_one_job_of_a_compare_not_all() -> None:
    scheduler = make_scheduler()
    compared = scheduler.admit_group(runs("a1", "a2", "a3"), "m-1", group="c-1")
    classmate = scheduler.admit("b1", "m-2")  # started after the whole compare
    served: list[str] = []
    gate = asyncio.Event()
    tasks = [asyncio.create_task(hold_a_slot(t, served, gate)) for t in [*compared, classmate]]
    await settle()
    assert served == ["a1"]  # the one slot; the others wait in the pool's line
    gate.set()
    await asyncio.gather(*tasks)
    assert served == ["a1", "b1", "a2", "a3"]


def test_the_persons_next_run_is_counted_behind_one_compare_not_three() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=2)
    compared = scheduler.admit_group(runs("a1", "a2", "a3"), "m-1", group="c-1")
    later = scheduler.admit("r1", "m-1")
    assert later.phase is RunPhase.ACTIVE  # the compare is one of the person's two places
    fair = scheduler._fair
    assert [fair.share(t) for t in compared] == [0, 1, 2]
    assert fair.share(later) == 1
    compared[0].close()
    assert [fair.share(t) for t in compared[1:]] == [0, 1]  # the rest move up


def message(*perspectives: str) -> CompareStart:
    return CompareStart(type="compare.start", prompt="a fox", perspectives=list(perspectives))


@pytest.mark.parametrize(
    "perspectives",
    [("haiku",), ("a", "b", "c", "d", "e"), ("haiku", "bauhaus", "haiku")],
)
def test_a_compare_needs_two_to_four_different_perspectives(perspectives: tuple[str]) -> None:
    with pytest.raises(InvalidCompare, match="perspective"):
        run_messages(message(*perspectives))


def test_a_compare_is_one_run_start_per_perspective_in_order() -> None:
    starts = run_messages(message("haiku", "bauhaus"))
    assert [(s.interception, s.prompt) for s in starts] == [
        ("haiku", "a fox"),
        ("bauhaus", "a fox"),
    ]
    assert new_group_id().startswith("c-")
    assert new_group_id() != new_group_id()
