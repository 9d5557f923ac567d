"""The session table: one client cannot fill it (issue 15 item 4).

One client once filled `max_sessions` (20,000) in 24 s and every student after it was
refused. Now a client that has not joined holds at most `max_sessions_per_address` sessions
and a person at most `max_sessions_per_person`; a socket it closes does not keep its session
for `resume_grace`, since the next new session displaces it. The attacker speaks raw WebSocket
on a real port from an address a trusted proxy names; a victim beside it (another address)
gets its `welcome` and runs a whole pipeline run with every event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import ClientSession, ClientWebSocketResponse, web
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.engine.people.identity import GUEST_PREFIX
from server.engine.session import SessionState
from server.handlers.keys import REGISTRY, STATS
from server.protocol import CloseCode
from server.wiring import DemoOptions
from tests.conftest import StartServer, make_settings, ws_url
from tests.identity_support import close_code, greet, headers, socket_of, with_people
from tests.people_support import ID_COOKIE, cookie, people_client
from tests.pipeline_support import (
    FAST,
    assert_nothing_left,
    connected,
    run_done,
    stage_trail,
    start_run,
    until,
)

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]

BOUND = 4
ATTACKER = "203.0.113.7"
#: One school router in front of a whole class.
SCHOOL = "198.51.100.1"
#: Opened and closed one after another: more than the bound many times over.
CHURN = 5 * BOUND
EVERY_STAGE_DONE = [
    ("safety", "started"),
    ("safety", "done"),
    ("interception", "started"),
    ("interception", "done"),
    ("translation", "started"),
    ("translation", "done"),
    ("generation", "started"),
    ("generation", "done"),
]


async def pipeline_server(aiohttp_server: AiohttpServer, **overrides: object) -> TestServer:
    """The whole server on the simulators, with the test identities and 127.0.0.1 trusted
    as the proxy that names client addresses."""
    settings = make_settings(
        demo="on", safety_level="adult", trusted_proxies=["127.0.0.1"], **overrides
    )
    app = with_people(create_app(settings, demo_options=DemoOptions(FAST)))
    return await aiohttp_server(app)


async def detached(server: TestServer, session_id: str) -> None:
    """Wait until the server has seen a closed socket's session go detached."""
    session = server.app[REGISTRY].get(session_id)
    assert session is not None
    await until(lambda: session.state is SessionState.DETACHED)


async def test_an_address_holds_at_most_its_bound_and_a_victim_beside_it_runs(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await pipeline_server(aiohttp_server, max_sessions_per_address=BOUND)
    registry = server.app[REGISTRY]
    async with ClientSession() as http:
        held = [await socket_of(http, ws_url(server), address=ATTACKER) for _ in range(BOUND)]
        assert [answer["type"] for _, answer in held] == ["welcome"] * BOUND
        one_more, refused = await socket_of(http, ws_url(server), address=ATTACKER)
        assert (refused["type"], refused["code"], refused["seq"]) == (
            "error",
            "too_many_sessions",
            0,
        )
        assert await close_code(one_more) == CloseCode.TOO_MANY_SESSIONS
        assert registry.held_at(ATTACKER) == BOUND
        victim = await connected(server)  # from 127.0.0.1: another address
        run = await start_run(victim, "a fox in the snow")
        await churn(server, http, [ws for ws, _ in held])
        done = await run_done(victim, run)
    assert done["status"] == "completed"
    assert stage_trail(victim, run) == EVERY_STAGE_DONE
    assert victim.of_type("token")
    assert victim.of_type("output")
    assert (victim.gaps, victim.duplicates) == (0, 0)
    await victim.close()
    assert_nothing_left(server)


async def churn(
    server: TestServer, http: ClientSession, held: list[ClientWebSocketResponse]
) -> None:
    """Close every held socket, then open and close CHURN more: with a grace of 120 s, each
    closed socket's session would be held for two minutes; each new one displaces one."""
    registry, stats = server.app[REGISTRY], server.app[STATS]
    for ws in held:
        await ws.close()
    await until(lambda: registry.counts()[SessionState.DETACHED] == BOUND)
    for _ in range(CHURN):
        ws, welcome = await socket_of(http, ws_url(server), address=ATTACKER)
        assert welcome["type"] == "welcome"
        assert registry.held_at(ATTACKER) == BOUND
        await ws.close()
        await detached(server, welcome["session"])
    assert stats.sessions_displaced == CHURN
    assert registry.held_at(ATTACKER) == BOUND


async def test_a_person_holds_at_most_their_bound_wherever_they_connect_from(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await pipeline_server(
        aiohttp_server, max_sessions_per_person=BOUND, max_sessions_per_address=1
    )
    registry = server.app[REGISTRY]
    url = ws_url(server)
    async with ClientSession() as http:
        # A member's sessions count per person, never per address: a class shares a router.
        held = [await socket_of(http, url, "fox", SCHOOL) for _ in range(BOUND)]
        assert [answer["type"] for _, answer in held] == ["welcome"] * BOUND
        one_more, refused = await socket_of(http, url, "fox", "198.51.100.9")  # from home
        assert refused["code"] == "too_many_sessions"
        assert await close_code(one_more) == CloseCode.TOO_MANY_SESSIONS
        classmate, welcome = await socket_of(http, url, "owl", SCHOOL)
        assert welcome["type"] == "welcome"
        oldest_ws, oldest = held[0]
        await oldest_ws.close()
        await detached(server, oldest["session"])
        again, welcome = await socket_of(http, url, "fox")
        assert welcome["type"] == "welcome"  # in place of the detached one
        assert registry.get(oldest["session"]) is None
        assert len(registry.sessions_of("m-1")) == BOUND
        for ws in [again, classmate, *(ws for ws, _ in held[1:])]:
            await ws.close()


async def test_fresh_guest_cookies_do_not_lift_the_bound_of_their_address(
    start_server: StartServer,
) -> None:
    """A guest's cookie costs one `GET /api/me`: an attacker minting one per socket is still
    one client address."""
    server = await start_server(trusted_proxies=["127.0.0.1"], max_sessions_per_address=BOUND)
    answers, sockets, clients = [], [], []
    for _ in range(BOUND + 1):
        http = people_client()  # a new browser: no cookie until /api/me gives it a guest's
        clients.append(http)
        async with http.get(server.make_url("/api/me"), headers=headers(address=ATTACKER)) as me:
            assert (me.status, (await me.json())["role"]) == (200, "student")
        assert cookie(http, ID_COOKIE) is not None
        ws, answer = await socket_of(http, ws_url(server), address=ATTACKER)
        sockets.append(ws)
        answers.append(answer)
    assert [a["type"] for a in answers] == ["welcome"] * BOUND + ["error"]
    assert answers[-1]["code"] == "too_many_sessions"
    assert await close_code(sockets[-1]) == CloseCode.TOO_MANY_SESSIONS
    registry = server.app[REGISTRY]
    assert registry.held_at(ATTACKER) == BOUND
    held = [registry.get(answer["session"]) for answer in answers[:BOUND]]
    keys = {session.identity.key for session in held if session is not None}
    assert len(keys) == BOUND  # every socket held, each a guest of its own
    assert all(key.startswith(GUEST_PREFIX) for key in keys)
    for ws, http in zip(sockets, clients, strict=True):
        await ws.close()
        await http.close()


async def test_resume_is_not_a_new_session_and_passes_a_full_table(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await pipeline_server(aiohttp_server, max_sessions_per_person=1)
    async with ClientSession() as http:
        first, welcome = await socket_of(http, ws_url(server), "fox")
        credentials = {"session": welcome["session"], "secret": welcome["secret"]}
        ws = await http.ws_connect(ws_url(server), headers=headers("fox"))
        resumed = await greet(ws, last_seq=welcome["seq"], **credentials)
        assert (resumed["type"], resumed["resumed"]) == ("welcome", True)
        assert await close_code(first) == CloseCode.SESSION_REPLACED
        await ws.close()
