"""The socket knows whose it is: `welcome` says so, the access mode is kept, and a session
belongs to the identity that created it. Real app, real port, real sockets; identities are
set by the test middleware of `tests/identity_support.py` where the cookie check puts them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from server.app import socket_app
from server.engine.service import NoRuns
from server.handlers.keys import REGISTRY, STATS
from server.protocol import CloseCode
from tests.conftest import make_settings, ws_url
from tests.identity_support import close_code, greet, headers, socket_of, with_people

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]


async def people_server(aiohttp_server: AiohttpServer, **overrides: Any) -> TestServer:
    app = socket_app(make_settings(**overrides), runs=NoRuns(), demo=False)
    return await aiohttp_server(with_people(app))


async def test_welcome_names_the_member_and_the_access_mode(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await people_server(aiohttp_server, access="codes")
    async with ClientSession() as http:
        ws, welcome = await socket_of(http, ws_url(server), "fox")
        assert welcome["you"] == {"role": "student", "nickname": "Fuchs", "class_name": "4b"}
        assert welcome["access"] == "codes"
        assert "m-1" not in str(welcome)  # the owner key is the server's, not the page's
        await ws.close()


async def test_a_socket_without_a_cookie_is_a_guest_in_the_open_mode(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await people_server(aiohttp_server)  # 127.0.0.1, no public_url: open
    async with ClientSession() as http:
        ws, welcome = await socket_of(http, ws_url(server))
        assert welcome["you"] == {"role": "student", "nickname": None, "class_name": None}
        assert welcome["access"] == "open"
        await ws.close()


async def test_a_teachers_socket_says_teacher_and_cannot_start_runs(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await people_server(aiohttp_server, access="codes")
    async with ClientSession() as http:
        ws, welcome = await socket_of(http, ws_url(server), "teacher")
        assert welcome["you"] == {"role": "teacher", "nickname": "ms-lee", "class_name": None}
        await ws.send_json({"type": "run.start", "prompt": "a fox", "interception": "bauhaus"})
        refused = await ws.receive_json(timeout=10)
        assert (refused["type"], refused["code"]) == ("error", "unknown_type")
        await ws.send_json({"type": "run.cancel", "run": "r-1"})
        assert (await ws.receive_json(timeout=10))["code"] == "unknown_type"
        await ws.close()


async def test_codes_mode_refuses_a_socket_without_identity_before_any_session(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await people_server(aiohttp_server, access="codes")
    async with ClientSession() as http:
        for person in (None, "guest"):  # no cookie; a guest's cookie is not a joined one
            ws, refused = await socket_of(http, ws_url(server), person)
            assert (refused["type"], refused["code"], refused["seq"]) == (
                "error",
                "join_required",
                0,
            )
            assert await close_code(ws) == CloseCode.JOIN_REQUIRED
    assert len(server.app[REGISTRY]) == 0
    assert server.app[STATS].sessions_created == 0


async def test_a_session_resumes_only_for_its_own_person(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await people_server(aiohttp_server)
    url = ws_url(server)
    async with ClientSession() as http:
        ws, welcome = await socket_of(http, url, "fox")
        await ws.close()
        credentials = {"session": welcome["session"], "secret": welcome["secret"], "last_seq": 1}
        for stranger in ("owl", None):  # another member; a client with no cookie
            other = await http.ws_connect(url, headers=headers(stranger))
            answer = await greet(other, **credentials)
            assert (answer["resumed"], answer["session"] != welcome["session"]) == (False, True)
            await other.close()
        own = await http.ws_connect(url, headers=headers("fox"))
        answer = await greet(own, **credentials)
        assert (answer["resumed"], answer["session"]) == (True, welcome["session"])
        await own.close()


async def test_closing_an_identity_closes_its_sockets_and_only_its_own(
    aiohttp_server: AiohttpServer,
) -> None:
    server = await people_server(aiohttp_server)
    registry = server.app[REGISTRY]
    async with ClientSession() as http:
        tabs = [(await socket_of(http, ws_url(server), "fox"))[0] for _ in range(2)]
        classmate, _ = await socket_of(http, ws_url(server), "owl")
        assert registry.close_identity("m-1", CloseCode.IDENTITY_REVOKED) == 2
        assert [await close_code(ws) for ws in tabs] == [CloseCode.IDENTITY_REVOKED] * 2
        assert registry.sessions_of("m-1") == []
        assert [s.identity.key for s in registry.sessions_of("m-2")] == ["m-2"]
        await classmate.send_json({"type": "hello", "protocol": 1})
        assert (await classmate.receive_json(timeout=10))["code"] == "already_greeted"
        await classmate.close()
