"""Students join a class over real HTTP: the code, the nickname, the PIN that takes a nickname
back, and every way a join is refused."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer

from server.handlers.keys import PEOPLE
from tests.conftest import StartServer
from tests.people_support import (
    api_send,
    create_class,
    error_of,
    joined_student,
    logged_in_teacher,
    me,
    open_socket,
    people_client,
    pin_for,
)


async def test_a_student_joins_with_the_code_and_is_known_on_every_request(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server, "4b")
    async with await joined_student(server, klass["code"], "Mika") as student:
        assert await me(student, server) == {
            "access": "codes",
            "role": "student",
            "nickname": "Mika",
            "class_name": "4b",
            "csrf": (await me(student, server))["csrf"],
        }


async def test_a_code_is_accepted_as_typed_lower_case_and_without_its_dash(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
    typed = klass["code"].replace("-", " ").lower()
    async with await joined_student(server, typed, "Mika") as student:
        assert (await me(student, server))["class_name"] == "4b"


async def join_error(server: TestServer, body: dict[str, Any]) -> tuple[int, str]:
    async with (
        people_client() as http,
        await api_send(http, server, "POST", "/api/join", body) as response,
    ):
        return await error_of(response)


async def test_an_unknown_code_is_refused_with_404(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    assert await join_error(server, {"code": "ABCD-EFGH", "nickname": "Mika"}) == (
        404,
        "unknown_code",
    )


async def test_an_expired_code_is_refused_with_410(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
    # Expire it in the store, as the clock would: no test waits for real time to pass.
    await server.app[PEOPLE].rotate_code(klass["id"], time.time() - 1)
    row = await server.app[PEOPLE].get_class(klass["id"])
    assert row is not None
    assert await join_error(server, {"code": row.code, "nickname": "Mika"}) == (
        410,
        "code_expired",
    )


async def test_a_rotated_code_stops_working_and_the_new_one_works(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        old = await create_class(teacher, server)
        async with await api_send(teacher, server, "POST", f"/api/classes/{old['id']}/code") as r:
            assert r.status == 200
            new = await r.json()
    assert new["code"] != old["code"]
    assert await join_error(server, {"code": old["code"], "nickname": "Mika"}) == (
        404,
        "unknown_code",
    )
    async with await joined_student(server, new["code"], "Mika") as student:
        assert (await me(student, server))["nickname"] == "Mika"


async def test_a_taken_nickname_is_refused_with_a_message_a_child_can_read(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
    async with await joined_student(server, klass["code"], "Mika"), people_client() as other:
        body = {"code": klass["code"], "nickname": "MIKA"}
        async with await api_send(other, server, "POST", "/api/join", body) as response:
            answer = await response.json()
    assert response.status == 409
    assert answer["error"] == {
        "code": "nickname_taken",
        "message": "This nickname is already taken in this class. Choose another one, or ask "
        "your teacher for a PIN if it is yours.",
    }


async def test_an_invalid_nickname_names_the_rule_in_the_childs_language(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
    async with people_client() as http:
        body = {"code": klass["code"], "nickname": "<script>"}
        german = {"Accept-Language": "de-DE,de;q=0.9"}
        async with await api_send(http, server, "POST", "/api/join", body) as response:
            english = await response.json()
        token = (await me(http, server))["csrf"]
        async with http.post(
            server.make_url("/api/join"), json=body, headers={**german, "X-CSRF-Token": token}
        ) as response:
            deutsch = await response.json()
    assert response.status == 400
    assert english["error"]["code"] == deutsch["error"]["code"] == "invalid_nickname"
    assert "letters, digits" in english["error"]["message"]
    assert "Buchstaben, Ziffern" in deutsch["error"]["message"]


async def test_a_pin_takes_a_nickname_back_and_revokes_the_old_devices_cookie_and_socket(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
        async with await joined_student(server, klass["code"], "Mika") as old_device:
            ws, welcome = await open_socket(old_device, server)
            assert welcome["type"] == "welcome"
            pin = await pin_for(teacher, server, klass["id"], "Mika")
            async with await joined_student(server, klass["code"], "mika", pin) as new_device:
                assert (await me(new_device, server))["nickname"] == "Mika"
                closed = await ws.receive(timeout=10)
                assert (closed.type, closed.data) == (WSMsgType.CLOSE, 4016)
                assert (await me(old_device, server))["role"] is None
            await ws.close()


async def test_a_wrong_pin_is_refused_and_a_pin_works_only_once(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
        async with await joined_student(server, klass["code"], "Mika"):
            pin = await pin_for(teacher, server, klass["id"], "Mika")
    wrong = "000000" if pin != "000000" else "111111"
    body = {"code": klass["code"], "nickname": "Mika"}
    assert await join_error(server, {**body, "pin": wrong}) == (403, "wrong_pin")
    async with await joined_student(server, klass["code"], "Mika", pin):
        pass
    assert await join_error(server, {**body, "pin": pin}) == (403, "wrong_pin")


async def test_joins_are_limited_per_client_address(start_server: StartServer) -> None:
    server = await start_server(access="codes", join_attempts_per_minute=3)
    body = {"code": "ABCD-EFGH", "nickname": "Mika"}
    refusals = [await join_error(server, body) for _ in range(4)]
    assert refusals == [(404, "unknown_code")] * 3 + [(429, "rate_limited")]


@pytest.mark.parametrize(
    "body",
    [
        {"code": "A" * 33, "nickname": "Mika"},
        {"code": "", "nickname": "Mika"},
        {"code": "ABCD-EFGH", "nickname": "M" * 201},
        {"code": "ABCD-EFGH", "nickname": "Mika", "pin": "1" * 17},
        {"code": "ABCD-EFGH", "nickname": "Mika", "admin": True},
        {"code": "ABCD-EFGH"},
        {"code": 12345678, "nickname": "Mika"},
    ],
)
async def test_a_join_body_beyond_its_bounds_is_refused_before_any_attempt_counts(
    start_server: StartServer, body: dict[str, Any]
) -> None:
    server = await start_server(access="codes", join_attempts_per_minute=1)
    assert await join_error(server, body) == (400, "invalid_field")
    assert await join_error(server, {"code": "ABCD-EFGH", "nickname": "Mika"}) == (
        404,
        "unknown_code",
    )


async def test_a_whole_class_joins_from_one_address_while_guesses_are_limited(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes", join_attempts_per_minute=3)
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server, "4b")
    for number in range(12):  # a class behind one school NAT: every join succeeds
        async with await joined_student(server, klass["code"], f"Kind {number}"):
            pass
    guess = {"code": "ABCD-EFGH", "nickname": "Mika"}
    refusals = [await join_error(server, guess) for _ in range(4)]
    assert refusals == [(404, "unknown_code")] * 3 + [(429, "rate_limited")]


async def test_a_full_class_refuses_a_new_nickname_but_takes_its_member_back_with_a_pin(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes", max_class_members=2)
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server, "4b")
        for nickname in ("Mika", "Noa"):
            async with await joined_student(server, klass["code"], nickname):
                pass
        body = {"code": klass["code"], "nickname": "Ida"}
        assert await join_error(server, body) == (409, "class_full")
        pin = await pin_for(teacher, server, klass["id"], "Mika")
    async with await joined_student(server, klass["code"], "Mika", pin):
        pass
