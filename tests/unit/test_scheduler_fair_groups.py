"""Fair groups: every guest of one address takes one place in the fair order (issue 15's
`mint` attack: sixty guest cookies from one address are not sixty places ahead of a victim)."""

from __future__ import annotations

import asyncio

from server.engine.scheduler import RunTicket
from tests.scheduler_support import make_scheduler, settle

MINTER = "n-minting-address"


async def hold_a_slot(ticket: RunTicket, served: list[str], gate: asyncio.Event) -> None:
    async with ticket, ticket.slot("llm", "interception"):
        served.append(ticket.run_id)
        await gate.wait()


async def serve_in_order(tickets: list[RunTicket]) -> list[str]:
    """Every ticket asks for the one slot in this order; the order in which they got it."""
    served: list[str] = []
    gate = asyncio.Event()
    tasks = []
    for ticket in tickets:
        tasks.append(asyncio.create_task(hold_a_slot(ticket, served, gate)))
        await settle()
    gate.set()
    await asyncio.gather(*tasks)
    return served


async def test_a_victim_goes_before_the_second_run_of_an_address_full_of_guests() -> None:
    scheduler = make_scheduler()
    minted = [scheduler.admit(f"m{i}", f"g-{i}", fair_group=MINTER) for i in range(4)]
    victim = scheduler.admit("v1", "g-victim", fair_group="n-victims-address")
    assert await serve_in_order([*minted, victim]) == ["m0", "v1", "m1", "m2", "m3"]


async def test_without_a_shared_group_each_guest_is_a_place_of_their_own() -> None:
    scheduler = make_scheduler()
    minted = [scheduler.admit(f"m{i}", f"g-{i}") for i in range(4)]
    victim = scheduler.admit("v1", "g-victim")
    assert await serve_in_order([*minted, victim]) == ["m0", "m1", "m2", "m3", "v1"]


async def test_inside_one_address_runs_go_in_start_order_within_each_guests_limits() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=1)
    first = scheduler.admit("a1", "g-a", fair_group=MINTER)
    queued = scheduler.admit("a2", "g-a", fair_group=MINTER)  # waits in g-a's own line
    classmate = scheduler.admit("b1", "g-b", fair_group=MINTER)
    assert queued.run_id not in [t.run_id for t in scheduler._fair.in_flight(MINTER)]
    assert await serve_in_order([first, classmate]) == ["a1", "b1"]


def test_a_closed_run_leaves_its_group_and_the_others_move_up() -> None:
    scheduler = make_scheduler(max_runs_in_flight_per_person=2)
    runs = [scheduler.admit(f"m{i}", f"g-{i}", fair_group=MINTER) for i in range(3)]
    assert [scheduler._fair.share(t) for t in runs] == [0, 1, 2]
    runs[0].close()
    assert [scheduler._fair.share(t) for t in runs[1:]] == [0, 1]
    for ticket in runs[1:]:
        ticket.close()
    assert list(scheduler._fair.in_flight(MINTER)) == []
