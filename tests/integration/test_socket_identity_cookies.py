"""The socket's identity from a real cookie: a student who joined with the class code, a
logged-in teacher, a removed member. Real app, real port, the real people store and identity
middleware (`tests/people_support.py` makes the clients)."""

from __future__ import annotations

from server.handlers.keys import REGISTRY
from server.protocol import PROTOCOL_VERSION, CloseCode
from tests.conftest import StartServer, ws_url
from tests.identity_support import close_code
from tests.people_support import (
    api_json,
    create_class,
    joined_student,
    logged_in_teacher,
    members_of,
    open_socket,
    people_client,
)


async def test_a_joined_students_socket_is_theirs_and_a_cookieless_one_is_refused(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    teacher = await logged_in_teacher(server)
    klass = await create_class(teacher, server, "4b")
    student = await joined_student(server, klass["code"], "Mika")
    stranger = people_client()
    try:
        ws, welcome = await open_socket(student, server)
        assert welcome["you"] == {"role": "student", "nickname": "Mika", "class_name": "4b"}
        assert welcome["access"] == "codes"
        await ws.close()
        teachers_ws, teachers = await open_socket(teacher, server)
        assert teachers["you"]["role"] == "teacher"
        await teachers_ws.close()
        refused_ws, refused = await open_socket(stranger, server)
        assert (refused["type"], refused["code"]) == ("error", "join_required")
        assert await close_code(refused_ws) == CloseCode.JOIN_REQUIRED
    finally:
        for http in (teacher, student, stranger):
            await http.close()


async def test_removing_a_member_closes_their_socket_with_identity_revoked(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    teacher = await logged_in_teacher(server)
    klass = await create_class(teacher, server, "4b")
    student = await joined_student(server, klass["code"], "Mika")
    try:
        ws, welcome = await open_socket(student, server)
        [member] = (await api_json(teacher, server, "GET", f"/api/classes/{klass['id']}/members"))[
            "members"
        ]
        path = f"/api/classes/{klass['id']}/members/{member['id']}"
        await api_json(teacher, server, "DELETE", path, status=204)
        assert await close_code(ws) == CloseCode.IDENTITY_REVOKED
        assert server.app[REGISTRY].get(welcome["session"]) is None
        again, refused = await open_socket(student, server)  # the cookie no longer holds
        assert refused["code"] == "join_required"
        await again.close()
    finally:
        for http in (teacher, student):
            await http.close()


async def test_a_socket_upgraded_before_its_member_was_removed_is_refused_at_hello(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    teacher = await logged_in_teacher(server)
    klass = await create_class(teacher, server, "4b")
    student = await joined_student(server, klass["code"], "Mika")
    try:
        ws = await student.ws_connect(ws_url(server))  # the cookie is checked here
        [member] = await members_of(teacher, server, klass["id"])
        path = f"/api/classes/{klass['id']}/members/{member['id']}"
        await api_json(teacher, server, "DELETE", path, status=204)
        await ws.send_json({"type": "hello", "protocol": PROTOCOL_VERSION})
        refused = await ws.receive_json()
        assert (refused["type"], refused["code"]) == ("error", "join_required")
        assert await close_code(ws) == CloseCode.IDENTITY_REVOKED
        assert len(server.app[REGISTRY]) == 0
    finally:
        for http in (teacher, student):
            await http.close()
