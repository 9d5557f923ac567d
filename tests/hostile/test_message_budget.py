"""A person's client messages are one budget over all their sockets (issue 15): a socket's
own rate times the sockets one person may hold was the CPU one person could cost (sixteen
clients flooding unknown keys or expanding Unicode saturated a core). Every guest of one
address is one person here, as in the fair order; a victim from another address beside
them is answered and served. Real sockets on a real port; 127.0.0.1 is the trusted proxy
that names each client's address."""

from __future__ import annotations

from collections import Counter

from server.harness.client import AtelierClient
from server.protocol import CloseCode
from tests.hostile.run_queue_support import try_run
from tests.hostile.test_open_access_address import (
    ATTACKER,
    VICTIM,
    AiohttpServer,
    open_server,
    socket_of,
)
from tests.pipeline_support import assert_nothing_left, run_done

SOCKETS = 4
BUDGET = 10  # the person's burst; its rate refills nothing within the test
SENT = 6  # per attacker socket


async def answers(client: AtelierClient, count: int) -> list[str]:
    """The codes of the next `count` errors the socket is sent (one per message it sent)."""
    codes: list[str] = []
    while len(codes) < count:
        message = await client.recv(timeout=10)
        if message["type"] == "error":
            codes.append(str(message["code"]))
    return codes


async def test_an_addresses_sockets_share_one_budget_and_a_victim_is_served(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await open_server(
        aiohttp_server,
        messages_per_second=1000.0,  # no socket is held back by its own rate
        message_burst=1000,
        messages_per_second_per_person=0.001,
        message_burst_per_person=BUDGET,
        flood_tolerance=1000,  # refused, not closed: every answer is counted
    )
    attackers = [socket_of(server, ATTACKER) for _ in range(SOCKETS)]
    for client in attackers:
        await client.connect()  # each hello takes one of the budget's tokens
    for client in attackers:
        for _ in range(SENT):
            await client.send_raw("{oops")
    told: Counter[str] = Counter()
    for client in attackers:
        told.update(await answers(client, SENT))
    assert told == {"bad_json": BUDGET - SOCKETS, "rate_limited": SOCKETS * SENT - BUDGET + SOCKETS}
    victim = socket_of(server, VICTIM)
    await victim.connect()
    accepted = await try_run(victim, "a lighthouse at dawn", "bauhaus")
    assert accepted["type"] == "run.accepted", accepted
    assert (await run_done(victim, str(accepted["run"])))["status"] == "completed"
    for client in [*attackers, victim]:
        await client.close()
    assert_nothing_left(server)


async def test_a_socket_that_floods_its_persons_budget_is_closed(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await open_server(
        aiohttp_server,
        messages_per_second_per_person=0.001,
        message_burst_per_person=3,
        flood_tolerance=2,
    )
    first, second = socket_of(server, ATTACKER), socket_of(server, ATTACKER)
    await first.connect()
    await second.connect()  # the budget's one token left after both hellos
    for _ in range(5):
        await second.send_raw("{oops")
    received, closed = await second.read_until_closed()
    assert [m["code"] for m in received] == ["bad_json", "rate_limited", "rate_limited"]
    assert closed.code == CloseCode.RATE_LIMITED, closed
