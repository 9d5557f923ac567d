"""A teacher's members over real HTTP: listed, given a PIN, removed; a class deleted. Removing
closes the person's sockets at once (4016), revokes their cookie and deletes their runs."""

from __future__ import annotations

import time

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestServer

from server.engine.people.rows import PictureRow
from server.handlers.keys import PEOPLE
from tests.conftest import StartServer
from tests.people_support import (
    api_json,
    api_send,
    create_class,
    error_of,
    joined_student,
    logged_in_teacher,
    me,
    members_of,
    open_socket,
)
from tests.pipeline_support import StartPipeline, pipeline_of


async def test_members_are_listed_and_a_pin_has_six_digits_and_an_expiry(
    start_server: StartServer,
) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
        async with (
            await joined_student(server, klass["code"], "Mika"),
            await joined_student(server, klass["code"], "Noor"),
        ):
            members = await members_of(teacher, server, klass["id"])
            path = f"/api/classes/{klass['id']}/members/{members[0]['id']}/pin"
            before = time.time()
            pin = await api_json(teacher, server, "POST", path)
    assert [m["nickname"] for m in members] == ["Mika", "Noor"]
    assert pin["pin"].isdecimal()
    assert len(pin["pin"]) == 6
    assert before + 14 * 60 < pin["expires"] <= time.time() + 15 * 60


async def test_a_member_of_another_class_is_not_found(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with await logged_in_teacher(server) as teacher:
        first = await create_class(teacher, server, "4b")
        second = await create_class(teacher, server, "5a")
        async with await joined_student(server, first["code"], "Mika"):
            [mika] = await members_of(teacher, server, first["id"])
            path = f"/api/classes/{second['id']}/members/{mika['id']}"
            async with await api_send(teacher, server, "DELETE", path) as response:
                assert await error_of(response) == (404, "not_found")
            async with await api_send(teacher, server, "POST", path + "/pin") as response:
                assert await error_of(response) == (404, "not_found")
            assert len(await members_of(teacher, server, first["id"])) == 1


async def picture_of(server: TestServer, member_id: int, class_id: int, run_id: str) -> None:
    """A finished run of the member, as the pipeline leaves one: a folder and an index row."""
    pipeline_of(server).services.records.run_dir(run_id).mkdir(parents=True)
    row = PictureRow(run_id, f"m-{member_id}", class_id, time.time(), "a fox", "bauhaus", [])
    assert await server.app[PEOPLE].add_picture(row)


async def assert_closed_and_revoked(
    ws: ClientWebSocketResponse, student: ClientSession, server: TestServer
) -> None:
    closed = await ws.receive(timeout=10)
    assert (closed.type, closed.data) == (WSMsgType.CLOSE, 4016)
    assert (await me(student, server))["role"] is None


async def test_removing_a_member_closes_their_socket_revokes_them_and_deletes_their_runs(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    records = pipeline_of(server).services.records
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
        async with (
            await joined_student(server, klass["code"], "Mika") as mika,
            await joined_student(server, klass["code"], "Noor") as noor,
        ):
            members = {
                m["nickname"]: m["id"] for m in await members_of(teacher, server, klass["id"])
            }
            await picture_of(server, members["Mika"], klass["id"], "r-mika0001")
            await picture_of(server, members["Noor"], klass["id"], "r-noor0001")
            ws, _ = await open_socket(mika, server)
            path = f"/api/classes/{klass['id']}/members/{members['Mika']}"
            await api_json(teacher, server, "DELETE", path, status=204)
            await assert_closed_and_revoked(ws, mika, server)
            await ws.close()
            assert (await me(noor, server))["nickname"] == "Noor"
            assert [m["nickname"] for m in await members_of(teacher, server, klass["id"])] == [
                "Noor"
            ]
    assert not records.run_dir("r-mika0001").exists()
    assert records.run_dir("r-noor0001").exists()


async def test_deleting_a_class_closes_every_members_socket_and_deletes_its_runs(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    records = pipeline_of(server).services.records
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
        kept = await create_class(teacher, server, "5a")
        async with (
            await joined_student(server, klass["code"], "Mika") as mika,
            await joined_student(server, kept["code"], "Noor") as noor,
        ):
            [member] = await members_of(teacher, server, klass["id"])
            [other] = await members_of(teacher, server, kept["id"])
            await picture_of(server, member["id"], klass["id"], "r-mika0001")
            await picture_of(server, other["id"], kept["id"], "r-noor0001")
            ws, _ = await open_socket(mika, server)
            await api_json(teacher, server, "DELETE", f"/api/classes/{klass['id']}", status=204)
            await assert_closed_and_revoked(ws, mika, server)
            await ws.close()
            assert (await me(noor, server))["class_name"] == "5a"
        assert await api_json(teacher, server, "GET", "/api/classes") == {"classes": [kept]}
    assert not records.run_dir("r-mika0001").exists()
    assert records.run_dir("r-noor0001").exists()
