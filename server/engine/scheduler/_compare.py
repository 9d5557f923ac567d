"""Compare runs in the scheduler: one prompt through 2-4 perspectives, admitted as ONE unit.

A compare's runs share a `group` (their tickets' `group`); a single run is a unit of its own.
Units, not runs, are what a person's limits count: a compare takes one in-flight place (or
waits as one entry of the person's line) and starts all its runs together, so it never waits
in its person's line N times, and it is admitted all or none (`Scheduler.admit_group`).

In the fair order a compare holds the place of one run of its person: the person's runs
started after it are counted behind ONE unit, not N. Inside the compare, run k (in start
order) waits as its person's k-th run would: its share is the units started before the
compare plus k. So a classmate's run started later still goes after at most one of the
compare's jobs per pool, never behind the whole compare; and when a run of the compare ends,
the later ones move up (the scheduler's `_move_up`). Giving all N runs the share of the first
would be kinder to the compare but put a classmate who starts a moment later behind all N jobs
in every pool (up to four pictures' wait): the compare would take N turns where everyone else
takes one. `share_of`, `units` and `next_unit` are pure; `admit_unit` and `start_next` are
the scheduler's own steps, kept here beside the rules they apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from server.engine.scheduler._queueing import Admission, RunLimits, admission
from server.engine.scheduler._ticket import QueueCallback, RunTicket

if TYPE_CHECKING:  # the scheduler calls in here; these functions are its own, kept apart
    from server.engine.scheduler._lines import PersonLine
    from server.engine.scheduler._scheduler import Scheduler


def unit_of(ticket: RunTicket) -> str:
    """What the person's limits count the run as: its compare, or the run itself."""
    return ticket.group or ticket.run_id


def units(tickets: Iterable[RunTicket]) -> int:
    """How many units (compares count once) these runs are."""
    return len({unit_of(ticket) for ticket in tickets})


def next_unit(line: dict[str, RunTicket]) -> list[RunTicket]:
    """Take the first unit out of a person's line: one run, or every run of its compare
    (they were queued together, so they sit next to each other)."""
    first = line.pop(next(iter(line)))
    taken = [first]
    if first.group is not None:
        for run_id in [r for r, t in line.items() if t.group == first.group]:
            taken.append(line.pop(run_id))
    return taken


def share_of(ticket: RunTicket, in_flight: Iterable[RunTicket]) -> int:
    """The run's share (its wait keys' first field): the person's other units in flight that
    started before it, plus the runs of its own compare that started before it."""
    assert ticket.priority is not None  # only runs in flight take slots
    start = ticket.priority.start_seq
    earlier = [
        other
        for other in in_flight
        if other.priority is not None and other.priority.start_seq < start
    ]
    mine = unit_of(ticket)
    own = sum(1 for other in earlier if unit_of(other) == mine)
    return units(other for other in earlier if unit_of(other) != mine) + own


def admit_unit(
    scheduler: Scheduler,
    runs: dict[str, QueueCallback | None],
    person: str,
    limits: RunLimits | None,
    class_id: int | None,
    group: str | None = None,
    fair_group: str | None = None,
) -> list[RunTicket]:
    """`Scheduler.admit` and `admit_group`: the runs start together, wait together in the
    person's line, or are refused together; nothing queued is touched."""
    taken = [run_id for run_id in runs if run_id in scheduler._runs]
    if taken:
        raise ValueError(f"runs {taken} are already admitted")
    line = scheduler._line_of(person, limits or scheduler.settings.limits)
    verdict = admission(units(line.in_flight.values()), units(line.line.values()), line.limits)
    scheduler._check_room(line, verdict, len(runs))
    seq = scheduler._run_seq
    tickets = [
        RunTicket(scheduler, run_id, person, next(seq), on_queue, class_id, group, fair_group)
        for run_id, on_queue in runs.items()
    ]
    for ticket in tickets:
        scheduler._runs[ticket.run_id] = ticket
        if verdict is Admission.START:
            scheduler._activate(line, ticket)
        else:
            line.line[ticket.run_id] = ticket
            scheduler._queued += 1
    if verdict is not Admission.START:
        line.notifier.mark()
    return tickets


def start_next(scheduler: Scheduler, line: PersonLine) -> None:
    """A place of the person's came free: start their next units while they have room."""
    started = False
    while line.line and units(line.in_flight.values()) < line.limits.in_flight:
        for ticket in next_unit(line.line):
            scheduler._queued -= 1
            scheduler._activate(line, ticket)
        started = True
    if started:
        line.notifier.mark()
