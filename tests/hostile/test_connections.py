"""Connections are capped per client address and in all; a victim beside the attacker runs.

Over real sockets, through the real listener (`server.listener`) and app. Two client
addresses are played on loopback by a trusted proxy: 127.0.0.1 is configured as one, and
each client names its address in `X-Forwarded-For`.
"""

from __future__ import annotations

import asyncio
import socket

import aiohttp

from server.listener import Listening
from tests.hostile.connections_support import (
    ATTACKER,
    LOOPBACK,
    VICTIM,
    RawConnection,
    client,
    http_url,
    running,
    upgrade_status,
)
from tests.log_support import Line, captured_log
from tests.pipeline_support import run_done, start_run

CAP = 4
BEYOND = 20


def events(lines: list[Line], event: str) -> list[Line]:
    return [line for line in lines if line["event"] == event]


async def victim_runs(server: Listening) -> None:
    """A student from another address connects, runs, and gets every event of the run."""
    victim = client(server, VICTIM)
    await victim.connect()
    run = await start_run(victim, "a cat on a roof")
    done = await run_done(victim, run)
    assert done["status"] == "completed"
    assert (victim.gaps, victim.duplicates) == (0, 0)
    await victim.close()


async def test_an_address_beyond_its_cap_is_refused_and_logged_once_while_another_runs() -> None:
    with captured_log() as lines:
        async with (
            running(trusted_proxies=[LOOPBACK], max_connections_per_address=CAP) as server,
            aiohttp.ClientSession() as http,
        ):
            held = [client(server, ATTACKER) for _ in range(CAP)]
            await asyncio.gather(*(socket.connect() for socket in held))
            refused = [await upgrade_status(http, server, ATTACKER) for _ in range(BEYOND)]
            assert refused == [429] * BEYOND
            await victim_runs(server)
            await asyncio.gather(*(socket.close() for socket in held))
            assert await upgrade_status(http, server, ATTACKER) == 101  # below its cap again
    [first] = events(lines, "connections_refused")
    assert (first["client"], first["scope"], first["limit"]) == (ATTACKER, "address", CAP)
    [ended] = events(lines, "connections_refused_ended")
    assert (ended["client"], ended["refused"]) == (ATTACKER, BEYOND)


async def test_a_peer_beyond_its_cap_is_cut_at_accept_while_its_others_stay() -> None:
    """Without a trusted proxy the peer is the client: its idle connections count too."""
    with captured_log() as lines:
        async with running(max_connections_per_address=CAP) as server:
            held = [await RawConnection.open(server) for _ in range(CAP)]
            for connection in held:  # an answer proves the server has accepted it
                assert await connection.get("/healthz") == b"HTTP/1.1 200 OK"
            beyond = [await RawConnection.open(server) for _ in range(BEYOND)]
            assert [await connection.closed_by_server() for connection in beyond] == [True] * BEYOND
            assert await held[0].get("/healthz") == b"HTTP/1.1 200 OK"
            assert server.guard.tally.held(LOOPBACK) == CAP
            for connection in held + beyond:
                await connection.close()
    [first] = events(lines, "connections_refused")
    assert (first["client"], first["scope"]) == (LOOPBACK, "address")
    [ended] = events(lines, "connections_refused_ended")
    assert ended["refused"] == BEYOND


async def test_the_global_cap_holds_for_a_trusted_proxy_too() -> None:
    total = 16
    with captured_log() as lines:
        async with running(trusted_proxies=[LOOPBACK], max_connections=total) as server:
            held = [await RawConnection.open(server) for _ in range(total)]
            for connection in held:
                assert await connection.get("/healthz") == b"HTTP/1.1 200 OK"
            beyond = await RawConnection.open(server)
            assert await beyond.closed_by_server()
            assert server.guard.tally.held() == total
            await held.pop().close()
            again = await RawConnection.open(server)
            assert await again.get("/healthz") == b"HTTP/1.1 200 OK"
            for connection in [*held, beyond, again]:
                await connection.close()
    [first] = events(lines, "connections_refused")
    assert (first["client"], first["scope"], first["limit"]) == (None, "total", total)


async def test_requests_beyond_an_addresses_cap_behind_the_proxy_are_refused() -> None:
    """Behind the proxy, what counts per address is its requests in progress: WebSockets
    held open; the proxy's idle connections belong to no one."""
    async with (
        running(trusted_proxies=[LOOPBACK], max_connections_per_address=1) as server,
        aiohttp.ClientSession() as http,
    ):
        idle = [await RawConnection.open(server) for _ in range(3)]
        for connection in idle:
            status = await connection.get("/healthz", f"X-Forwarded-For: {ATTACKER}")
            assert status == b"HTTP/1.1 200 OK"
        held = client(server, ATTACKER)
        await held.connect()
        assert await upgrade_status(http, server, ATTACKER) == 429
        assert await idle[0].get("/healthz", f"X-Forwarded-For: {ATTACKER}") == (
            b"HTTP/1.1 429 Too Many Requests"
        )
        assert await upgrade_status(http, server, VICTIM) == 101
        headers = {"X-Forwarded-For": ATTACKER, "Accept-Language": "de-DE,de;q=0.9"}
        async with http.get(http_url(server, "/api/me"), headers=headers) as refused:
            assert (refused.status, refused.headers["Retry-After"]) == (429, "5")
            assert refused.headers["Connection"] == "close"
            error = (await refused.json())["error"]
        assert error["code"] == "rate_limited"
        assert error["message"].startswith("Zu viele Verbindungen aus deinem Netz")
        await held.close()
        for connection in idle:
            await connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


async def test_the_monitor_listener_is_a_second_site_that_serves_operators() -> None:
    port = free_port()
    async with running(monitor_port=port) as server, aiohttp.ClientSession() as http:
        assert [site.port for site in server.sites] == [server.port, port]
        async with http.get(f"http://{LOOPBACK}:{port}/metrics") as monitored:
            assert monitored.status == 200
        async with http.get(http_url(server, "/metrics")) as public:
            assert public.status == 403
