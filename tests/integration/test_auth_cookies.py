"""The identity cookie over real HTTP: its attributes, what a tampered, expired, revoked or
foreign one gets (nothing), and that a student's cookie never opens a teacher's door."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.engine.people.tokens import Token, TokenKind, sign
from server.handlers.identity import SIGNING_KEY
from server.handlers.keys import PEOPLE
from tests.conftest import StartServer
from tests.people_support import (
    ID_COOKIE,
    api_send,
    cookie,
    create_class,
    error_of,
    joined_student,
    logged_in_teacher,
    me,
    open_socket,
)


async def role_with_cookie(server: TestServer, value: str) -> str | None:
    """What `/api/me` says of a browser that sends exactly this `atelier_id`."""
    async with (
        ClientSession() as http,
        http.get(server.make_url("/api/me"), headers={"Cookie": f"{ID_COOKIE}={value}"}) as r,
    ):
        assert r.status == 200
        role: str | None = (await r.json())["role"]
        return role


async def member_cookie(server: TestServer) -> str:
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
    async with await joined_student(server, klass["code"], "Mika") as student:
        value = cookie(student, ID_COOKIE)
    assert value is not None
    return value


async def test_the_identity_cookie_is_http_only_strict_and_on_the_whole_site(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
        body = {"code": klass["code"], "nickname": "Mika"}
        async with await api_send(teacher, server, "POST", "/api/join", body) as response:
            [header] = [h for h in response.headers.getall("Set-Cookie") if ID_COOKIE in h]
            assert response.headers["Cache-Control"] == "no-store"
    morsel = SimpleCookie(header)[ID_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/"
    assert morsel["secure"] == ""  # plain http on a laptop: not Secure
    assert int(morsel["max-age"]) == 180 * 86_400


async def secure_flag(server: TestServer, headers: dict[str, str]) -> bool:
    async with ClientSession() as http, http.get(server.make_url("/api/me"), headers=headers) as r:
        [header] = [h for h in r.headers.getall("Set-Cookie") if ID_COOKIE in h]
    return SimpleCookie(header)[ID_COOKIE]["secure"] is True


async def test_cookies_are_secure_behind_tls_and_only_a_trusted_proxy_may_say_so(
    start_server: StartServer,
) -> None:
    https = {"X-Forwarded-Proto": "https"}
    untrusting = await start_server(access="open")
    assert await secure_flag(untrusting, https) is False
    behind_proxy = await start_server(access="open", trusted_proxies=["127.0.0.1"])
    assert await secure_flag(behind_proxy, https) is True
    assert await secure_flag(behind_proxy, {}) is False
    public = await start_server(access="open", public_url="https://atelier.school.example")
    assert await secure_flag(public, {"Host": "atelier.school.example"}) is True


async def test_every_byte_of_the_cookie_changed_is_refused(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    value = await member_cookie(server)
    assert await role_with_cookie(server, value) == "student"
    for i, char in enumerate(value):
        other = "B" if char == "A" else "A"
        assert await role_with_cookie(server, value[:i] + other + value[i + 1 :]) is None, i


async def test_a_cookie_signed_with_another_key_or_too_old_is_refused(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes", identity_days=1)
    value = await member_cookie(server)
    member_id, version = value.split(".")[2:4]
    key = server.app[SIGNING_KEY]
    old = Token(TokenKind.MEMBER, member_id, int(version), int(time.time()) - 2 * 86_400)
    fresh = Token(TokenKind.MEMBER, member_id, int(version), int(time.time()))
    assert await role_with_cookie(server, sign(key, fresh)) == "student"
    assert await role_with_cookie(server, sign(key, old)) is None
    assert await role_with_cookie(server, sign(bytes(32), fresh)) is None


async def test_a_guest_cookie_counts_only_in_open_mode(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    guest = Token(TokenKind.GUEST, "someone", 0, int(time.time()))
    assert await role_with_cookie(server, sign(server.app[SIGNING_KEY], guest)) is None


async def test_a_students_cookie_cannot_call_teacher_endpoints(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
    async with await joined_student(server, klass["code"], "Mika") as student:
        calls = [
            ("GET", "/api/classes"),
            ("POST", "/api/classes"),
            ("GET", f"/api/classes/{klass['id']}"),
            ("PATCH", f"/api/classes/{klass['id']}"),
            ("DELETE", f"/api/classes/{klass['id']}"),
            ("POST", f"/api/classes/{klass['id']}/code"),
            ("GET", f"/api/classes/{klass['id']}/members"),
            ("POST", f"/api/classes/{klass['id']}/members/1/pin"),
            ("DELETE", f"/api/classes/{klass['id']}/members/1"),
        ]
        for method, path in calls:
            async with await api_send(student, server, method, path, {"name": "x"}) as response:
                assert await error_of(response) == (403, "teachers_only"), (method, path)
        ws, welcome = await open_socket(student, server)
        assert welcome["you"]["role"] == "student"
        await ws.close()


async def test_logout_ends_the_teachers_login_on_every_device(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        value = cookie(teacher, ID_COOKIE)
        assert value is not None
        assert await role_with_cookie(server, value) == "teacher"
        async with await api_send(teacher, server, "POST", "/api/teacher/logout") as response:
            assert response.status == 204
        assert cookie(teacher, ID_COOKIE) is None
        assert await role_with_cookie(server, value) is None  # the copy on another device


async def test_leave_forgets_the_browsers_identity(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    value = await member_cookie(server)
    async with ClientSession() as http:
        token = (await me(http, server))["csrf"]
        headers = {"Cookie": f"{ID_COOKIE}={value}; atelier_csrf={token}", "X-CSRF-Token": token}
        async with http.post(server.make_url("/api/leave"), headers=headers) as response:
            assert response.status == 204
            [header] = [h for h in response.headers.getall("Set-Cookie") if ID_COOKIE in h]
    assert SimpleCookie(header)[ID_COOKIE]["max-age"] == "0"


async def test_a_teachers_cookie_lasts_teacher_session_hours(start_server: StartServer) -> None:
    server = await start_server(access="codes", teacher_session_hours=1)
    async with await logged_in_teacher(server) as teacher:
        value = cookie(teacher, ID_COOKIE)
    assert value is not None
    teacher_id, version = value.split(".")[2:4]
    key, now = server.app[SIGNING_KEY], int(time.time())
    recent = Token(TokenKind.TEACHER, teacher_id, int(version), now - 3500)
    old = Token(TokenKind.TEACHER, teacher_id, int(version), now - 3700)
    assert await role_with_cookie(server, sign(key, recent)) == "teacher"
    assert await role_with_cookie(server, sign(key, old)) is None


async def test_a_new_password_ends_the_teachers_logins(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        value = cookie(teacher, ID_COOKIE)
    assert value is not None
    await server.app[PEOPLE].set_password(int(value.split(".")[2]), "another long password")
    assert await role_with_cookie(server, value) is None


async def test_one_store_lookup_per_request_that_may_need_the_identity(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_server(access="codes")
    value = await member_cookie(server)
    people = server.app[PEOPLE]
    looked_up: list[int] = []
    member = people.member

    async def counting(member_id: int) -> object:
        looked_up.append(member_id)
        return await member(member_id)

    monkeypatch.setattr(people, "member", counting)
    for _ in range(3):
        assert await role_with_cookie(server, value) == "student"
    assert len(looked_up) == 3
    async with ClientSession() as http:
        for path in ("/", "/healthz", "/static/js/api.js"):
            headers = {"Cookie": f"{ID_COOKIE}={value}"}
            async with http.get(server.make_url(path), headers=headers) as response:
                assert response.status == 200, path
    assert len(looked_up) == 3


async def test_a_signed_id_too_long_for_a_row_is_refused_without_a_lookup(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_server(access="codes")
    looked_up: list[int] = []

    async def counting(member_id: int) -> None:
        looked_up.append(member_id)

    monkeypatch.setattr(server.app[PEOPLE], "member", counting)
    key, now = server.app[SIGNING_KEY], int(time.time())
    longest = sign(key, Token(TokenKind.MEMBER, "9" * 18, 0, now))
    too_long = sign(key, Token(TokenKind.MEMBER, "9" * 19, 0, now))
    assert await role_with_cookie(server, longest) is None
    assert await role_with_cookie(server, too_long) is None
    assert looked_up == [10**18 - 1]
