"""Open access mode, per client address (issue 15): one script is not a crowd of persons.

In `open` mode a guest cookie is one person to every per-person bound, and `GET /api/me`
gave one to any client without; a socket with no cookie at all was a person of its own per
session. So a script could mint persons, each with its own run budget. Now one address gets
at most `guest_cookies_per_hour` new guest cookies (a browser that holds one keeps it), and
the runs of its cookie-less sessions count as one person, for the run limits and the fair
order. Real sockets on a real port; the client addresses are what a trusted proxy (127.0.0.1)
names, the attacker one, the victim another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.harness.client import AtelierClient
from server.wiring import DemoOptions
from tests.conftest import make_settings, ws_url
from tests.hostile.run_queue_support import image_waiting, render_order, try_run
from tests.people_support import ID_COOKIE, cookie, people_client
from tests.pipeline_support import (
    FAST,
    assert_nothing_left,
    demo_of,
    run_done,
    stage_trail,
    until,
)

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]

ATTACKER = "203.0.113.7"
VICTIM = "198.51.100.2"
GUESTS = 3
EVERY_STAGE_DONE = [
    (stage, status)
    for stage in ("safety", "interception", "translation", "generation")
    for status in ("started", "done")
]


async def open_server(aiohttp_server: AiohttpServer, **overrides: object) -> TestServer:
    """The whole server in `open` mode on the simulators, 127.0.0.1 trusted as the proxy."""
    settings = make_settings(
        demo="on", access="open", safety_level="adult", trusted_proxies=["127.0.0.1"], **overrides
    )
    return await aiohttp_server(create_app(settings, demo_options=DemoOptions(FAST)))


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def ask_me(
    http: ClientSession, server: TestServer, address: str
) -> tuple[int, dict[str, Any]]:
    """`GET /api/me` from `address`: the status and the JSON answer."""
    async with http.get(server.make_url("/api/me"), headers=from_address(address)) as response:
        body: dict[str, Any] = await response.json()
        if response.status == 429:
            assert int(response.headers["Retry-After"]) >= 1
        return response.status, body


async def guest_of(server: TestServer, address: str) -> ClientSession:
    """A client from `address` that was given a guest cookie (close it)."""
    http = people_client()
    status, body = await ask_me(http, server, address)
    assert (status, body["role"]) == (200, "student"), body
    assert cookie(http, ID_COOKIE) is not None
    return http


def socket_of(server: TestServer, address: str, http: ClientSession | None = None) -> AtelierClient:
    """A socket from `address`, with `http`'s identity cookie (none: a cookie-less client)."""
    value = cookie(http, ID_COOKIE) if http is not None else None
    jar = {"Cookie": f"{ID_COOKIE}={value}"} if value else {}
    return AtelierClient(ws_url(server), headers=from_address(address) | jar)


async def test_an_address_gets_its_bound_of_guest_cookies_and_a_holder_keeps_hers(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await open_server(aiohttp_server, guest_cookies_per_hour=GUESTS)
    holders = [await guest_of(server, ATTACKER) for _ in range(GUESTS)]
    try:
        async with people_client() as one_more:
            status, body = await ask_me(one_more, server, ATTACKER)
            assert (status, body["error"]["code"]) == (429, "guests_limited")
            assert cookie(one_more, ID_COOKIE) is None
        again, body = await ask_me(holders[0], server, ATTACKER)  # no lock-out of a holder
        assert (again, body["role"]) == (200, "student")
        victim = await guest_of(server, VICTIM)  # another address is another count
        await victim.close()
        holder = socket_of(server, ATTACKER, holders[0])
        await holder.connect()
        answer = await try_run(holder, "a fox in the snow", "bauhaus")
        assert answer["type"] == "run.accepted", answer
        done = await run_done(holder, str(answer["run"]))
        assert done["status"] == "completed"
        assert stage_trail(holder, str(answer["run"])) == EVERY_STAGE_DONE
        await holder.close()
    finally:
        for http in holders:
            await http.close()
    assert_nothing_left(server)


async def test_cookie_less_sessions_of_one_address_share_one_run_budget_and_place(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await open_server(aiohttp_server, max_runs_in_flight=1, max_queued_runs=1)
    demo = demo_of(server)
    held = demo.comfyui.hold_after(1)  # the attacker's first render holds the one image slot
    attackers = [socket_of(server, ATTACKER) for _ in range(4)]
    for client in attackers:
        await client.connect()
    answers = [
        await try_run(client, f"a quiet lake, picture attacker-{n}")
        for n, client in enumerate(attackers)
    ]
    assert [a.get("code", a["type"]) for a in answers] == [
        "run.accepted",
        "run.accepted",
        "too_many_runs",
        "too_many_runs",
    ]
    async with asyncio.timeout(10):
        await held.wait()
    victim = socket_of(server, VICTIM)
    await victim.connect()
    accepted = await try_run(victim, "a lighthouse, picture victim-own", "bauhaus")
    assert accepted["type"] == "run.accepted", accepted  # an address of its own: its own budget
    run = str(accepted["run"])
    await until(lambda: image_waiting(server) == 1)  # the victim's run waits for the slot
    demo.comfyui.release()
    assert (await run_done(victim, run))["status"] == "completed"
    for client, answer in zip(attackers[:2], answers[:2], strict=True):
        assert (await run_done(client, str(answer["run"])))["status"] == "completed"
    assert stage_trail(victim, run) == EVERY_STAGE_DONE
    assert (victim.gaps, victim.duplicates) == (0, 0)
    # The attacker's queued run came after the victim's: one place in the fair order.
    assert render_order(demo, ["attacker-0", "attacker-1", "victim-own"]) == [
        "attacker-0",
        "victim-own",
        "attacker-1",
    ]
    for client in [*attackers, victim]:
        await client.close()
    assert_nothing_left(server)
