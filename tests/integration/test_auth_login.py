"""Teachers' login over real HTTP: the right password logs in, a wrong one or an unknown name
is refused alike, and attempts are limited per client address and per name."""

from __future__ import annotations

from aiohttp.test_utils import TestServer

from tests.conftest import StartServer
from tests.people_support import (
    PASSWORD,
    TEACHER,
    add_teacher,
    api_send,
    error_of,
    me,
    people_client,
)


async def attempt(
    server: TestServer, password: str, *, name: str = TEACHER, client: str | None = None
) -> tuple[int, str]:
    """One login attempt (from `client`, named by a trusted proxy); status and code/role."""
    headers = {"CF-Connecting-IP": client} if client else {}
    async with people_client() as http:
        body = {"name": name, "password": password}
        token = {"X-CSRF-Token": (await me(http, server))["csrf"], **headers}
        url = server.make_url("/api/teacher/login")
        async with http.post(url, json=body, headers=token) as response:
            if response.status == 200:
                return 200, str((await response.json())["role"])
            assert response.status != 429 or int(response.headers["Retry-After"]) >= 1
            return await error_of(response)


async def test_the_right_password_logs_the_teacher_in(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    await add_teacher(server)
    async with people_client() as http:
        body = {"name": TEACHER, "password": PASSWORD}
        async with await api_send(http, server, "POST", "/api/teacher/login", body) as response:
            assert response.status == 200
            assert await response.json() == {
                "role": "teacher",
                "nickname": TEACHER,
                "class_name": None,
            }
        assert (await me(http, server))["role"] == "teacher"


async def test_a_wrong_password_and_an_unknown_name_are_refused_alike(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    await add_teacher(server)
    assert await attempt(server, "not the password") == (401, "bad_login")
    assert await attempt(server, PASSWORD, name="nobody") == (401, "bad_login")


async def test_the_sixth_attempt_in_a_minute_is_refused_even_with_the_right_password(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    await add_teacher(server)
    wrong = [await attempt(server, f"guess number {i}") for i in range(5)]
    assert wrong == [(401, "bad_login")] * 5
    assert await attempt(server, PASSWORD) == (429, "rate_limited")
    assert await attempt(server, PASSWORD) == (429, "rate_limited")


async def test_one_name_is_limited_across_client_addresses(start_server: StartServer) -> None:
    server = await start_server(access="codes", trusted_proxies=["127.0.0.1"])
    await add_teacher(server)
    for i in range(5):
        assert await attempt(server, "wrong guess", client=f"203.0.113.{i}") == (401, "bad_login")
    assert await attempt(server, PASSWORD, client="203.0.113.99") == (429, "rate_limited")
    # Another teacher's name from a fresh address is not held back by that.
    await add_teacher(server, "mr-ng")
    assert await attempt(server, PASSWORD, name="mr-ng", client="203.0.113.100") == (
        200,
        "teacher",
    )


async def test_spellings_of_one_name_share_its_limit(start_server: StartServer) -> None:
    server = await start_server(access="codes", trusted_proxies=["127.0.0.1"])
    await add_teacher(server)
    spellings = ["MS-LEE", " ms-lee ", "\uff4d\uff53-lee", "Ms-Lee", "ms-LEE"]  # full-width m, s
    for i, name in enumerate(spellings):
        assert await attempt(server, "wrong", name=name, client=f"192.0.2.{i}") == (
            401,
            "bad_login",
        )
    assert await attempt(server, PASSWORD, client="192.0.2.99") == (429, "rate_limited")


async def test_one_address_is_limited_across_names(start_server: StartServer) -> None:
    server = await start_server(access="codes", trusted_proxies=["127.0.0.1"])
    await add_teacher(server)
    for i in range(5):
        assert await attempt(server, "x", name=f"name{i}", client="198.51.100.7") == (
            401,
            "bad_login",
        )
    assert await attempt(server, PASSWORD, client="198.51.100.7") == (429, "rate_limited")
    assert await attempt(server, PASSWORD, client="198.51.100.8") == (200, "teacher")


async def test_the_limit_is_a_setting(start_server: StartServer) -> None:
    server = await start_server(access="codes", login_attempts_per_minute=1)
    await add_teacher(server)
    assert await attempt(server, "wrong guess") == (401, "bad_login")
    assert await attempt(server, PASSWORD) == (429, "rate_limited")


async def test_a_login_body_that_is_not_one_is_refused_before_any_attempt_counts(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes", login_attempts_per_minute=1)
    await add_teacher(server)
    async with people_client() as http:
        for body in (
            {},
            {"name": TEACHER},
            {"name": TEACHER, "password": "x" * 1025},
            {"name": "n" * 65, "password": PASSWORD},
        ):
            path = "/api/teacher/login"
            async with await api_send(http, server, "POST", path, body) as response:
                assert await error_of(response) == (400, "invalid_field")
        headers = {"X-CSRF-Token": (await me(http, server))["csrf"]}
        url = server.make_url("/api/teacher/login")
        async with http.post(url, data=b"{not json", headers=headers) as response:
            assert await error_of(response) == (400, "bad_json")
    assert await attempt(server, PASSWORD) == (200, "teacher")
