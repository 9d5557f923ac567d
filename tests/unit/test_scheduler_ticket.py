"""A ticket's phases: queued, active, closed, and nothing else."""

from __future__ import annotations

import pytest

from server.engine.errors import InvalidState
from server.engine.scheduler import RunPhase
from server.engine.scheduler._queueing import RunPriority
from tests.scheduler_support import make_scheduler

PRIORITY = RunPriority(0, 0, 0)


def test_a_closed_ticket_cannot_become_active_again() -> None:
    ticket = make_scheduler().admit("r", "s")
    ticket.close()
    with pytest.raises(InvalidState, match="illegal transition closed -> active"):
        ticket.activate(PRIORITY)
    assert ticket.phase is RunPhase.CLOSED


def test_an_active_ticket_cannot_be_activated_twice() -> None:
    ticket = make_scheduler().admit("r", "s")  # a free place of its person: active at once
    with pytest.raises(InvalidState, match="illegal transition active -> active"):
        ticket.activate(PRIORITY)
    assert ticket.phase is RunPhase.ACTIVE
