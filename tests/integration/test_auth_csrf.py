"""CSRF over real HTTP: a state-changing call needs the token the page read from `/api/me` in
its header, and a browser's Origin, when sent, must be the page's own or an allowed one."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.handlers.csrf import UNSAFE_METHODS
from tests.conftest import StartServer
from tests.people_support import (
    CSRF_COOKIE,
    CSRF_HEADER,
    PASSWORD,
    TEACHER,
    add_teacher,
    csrf_token,
    error_of,
    me,
    people_client,
)

LOGIN = {"name": TEACHER, "password": PASSWORD}


async def login_status(server: TestServer, headers: dict[str, Any], *, token: bool) -> int:
    """The status of a teacher login sent with `headers` (plus the right token if `token`)."""
    async with ClientSession() as http:
        # The cookie by hand: with an https public_url it is Secure, and this client is on http.
        value = (await me(http, server))["csrf"]
        sent = {"Cookie": f"{CSRF_COOKIE}={value}"} | ({CSRF_HEADER: value} if token else {})
        url = server.make_url("/api/teacher/login")
        async with http.post(url, json=LOGIN, headers={**sent, **headers}) as response:
            if response.status == 403:
                assert await error_of(response) == (403, "csrf")
            return response.status


async def test_the_right_token_passes(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    await add_teacher(server)
    assert await login_status(server, {}, token=True) == 200


async def test_a_call_without_the_header_is_refused(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    await add_teacher(server)
    assert await login_status(server, {}, token=False) == 403


async def test_a_wrong_header_is_refused(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    await add_teacher(server)
    wrong = "A" * 43
    for header in (wrong, "", "short", wrong + "A"):
        assert await login_status(server, {CSRF_HEADER: header}, token=False) == 403


async def test_a_header_without_the_cookie_is_refused(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    await add_teacher(server)
    async with people_client() as http:
        token = await csrf_token(http, server)
        http.cookie_jar.clear()
        url = server.make_url("/api/teacher/login")
        async with http.post(url, json=LOGIN, headers={CSRF_HEADER: token}) as response:
            assert await error_of(response) == (403, "csrf")


async def test_a_foreign_origin_is_refused_even_with_the_token(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    await add_teacher(server)
    evil = {"Origin": "https://evil.example"}
    assert await login_status(server, evil, token=True) == 403
    assert await login_status(server, {"Origin": "null"}, token=True) == 403
    own = {"Origin": f"http://{server.host}:{server.port}"}
    assert await login_status(server, own, token=True) == 200


async def test_the_public_origin_and_listed_origins_pass(start_server: StartServer) -> None:
    server = await start_server(
        access="codes",
        public_url="https://atelier.school.example",
        allowed_origins=["https://other.school.example"],
    )
    await add_teacher(server)
    public = {"Origin": "https://atelier.school.example"}
    listed = {"Origin": "https://other.school.example"}
    assert await login_status(server, public, token=True) == 200
    assert await login_status(server, listed, token=True) == 200


async def test_every_unsafe_method_needs_the_token(start_server: StartServer) -> None:
    server = await start_server(access="open")
    calls = [("POST", "/api/leave"), ("PATCH", "/api/classes/1"), ("DELETE", "/api/classes/1")]
    async with people_client() as http:
        for method, path in calls:
            async with http.request(method, server.make_url(path)) as response:
                assert await error_of(response) == (403, "csrf"), method


async def test_a_request_no_route_takes_gets_its_plain_404_or_405(
    start_server: StartServer,
) -> None:
    server = await start_server(access="open")
    async with people_client() as http:
        async with http.put(server.make_url("/api/classes/1")) as response:
            assert response.status == 405
        async with http.post(server.make_url("/api/anything")) as response:
            assert response.status == 404


async def test_every_unsafe_route_the_app_serves_needs_the_token(start_server: StartServer) -> None:
    """Every route, the console's too (lessons, moderation, wall links, warm-up, deleting
    pictures): a route added later is held to the token without anyone listing it here."""
    server = await start_server(access="codes")
    calls = sorted(
        (route.method, re.sub(r"\{run\}", "r-abcd1234", re.sub(r"\{(?!run\})\w+\}", "1", info)))
        for route in server.app.router.routes()
        if route.method in UNSAFE_METHODS
        and (info := route.resource.canonical if route.resource else "")
    )
    assert len(calls) >= 20
    assert ("POST", "/api/classes/1/pause") in calls  # the console's routes are among them
    assert ("DELETE", "/api/classes/1/wall-links/1") in calls
    async with people_client() as http:
        await me(http, server)  # the cookie, but no header
        for method, path in calls:
            async with http.request(method, server.make_url(path)) as response:
                assert await error_of(response) == (403, "csrf"), (method, path)
