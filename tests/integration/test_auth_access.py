"""Access modes over real HTTP: `open` gives every browser a guest cookie that it keeps;
`codes` refuses API calls and sockets that prove nobody."""

from __future__ import annotations

from aiohttp import ClientSession

from tests.conftest import StartServer
from tests.people_support import (
    ID_COOKIE,
    cookie,
    create_class,
    error_of,
    joined_student,
    logged_in_teacher,
    me,
    open_socket,
    people_client,
)
from tests.pipeline_support import StartPipeline


async def test_open_mode_gives_a_guest_cookie_once_and_knows_it_afterwards(
    start_server: StartServer,
) -> None:
    server = await start_server()  # a laptop: 127.0.0.1, no public_url
    async with people_client() as browser:
        first = await me(browser, server)
        guest = cookie(browser, ID_COOKIE)
        second = await me(browser, server)
        assert cookie(browser, ID_COOKIE) == guest
        ws, welcome = await open_socket(browser, server)
        await ws.close()
    assert guest is not None
    assert guest.startswith("v1.g.")
    assert first == second
    assert (first["access"], first["role"], first["nickname"]) == ("open", "student", None)
    assert welcome["type"] == "welcome"
    assert welcome["you"]["role"] == "student"


async def test_open_mode_lets_a_student_join_a_class_too(start_server: StartServer) -> None:
    server = await start_server(access="open")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server, "4b")
    async with await joined_student(server, klass["code"], "Mika") as student:
        answer = await me(student, server)
    assert (answer["access"], answer["nickname"], answer["class_name"]) == ("open", "Mika", "4b")


async def test_codes_mode_gives_no_guest_cookie(start_server: StartServer) -> None:
    server = await start_server(public_url="https://atelier.school.example")  # auto: codes
    async with people_client() as browser:
        answer = await me(browser, server)
        assert cookie(browser, ID_COOKIE) is None
    assert (answer["access"], answer["role"]) == ("codes", None)


async def test_codes_mode_refuses_cookie_less_api_calls(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    async with ClientSession() as nobody:
        for path in ("/api/catalog", "/api/classes", "/api/pictures", "/api/anything"):
            async with nobody.get(server.make_url(path)) as response:
                assert await error_of(response) == (401, "join_required"), path
        async with nobody.get(server.make_url("/api/me")) as response:
            assert response.status == 200


async def test_codes_mode_serves_the_api_to_a_member(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server, "4b")
    async with await joined_student(server, klass["code"], "Mika") as student:
        async with student.get(server.make_url("/api/catalog")) as response:
            assert response.status == 200
        ws, welcome = await open_socket(student, server)
        await ws.close()
    assert welcome["type"] == "welcome"
    assert welcome["you"] == {"role": "student", "nickname": "Mika", "class_name": "4b"}


async def test_codes_mode_refuses_a_cookie_less_socket(start_server: StartServer) -> None:
    server = await start_server(access="codes")
    async with people_client() as nobody:
        ws, first = await open_socket(nobody, server)
        await ws.close()
    assert (first["type"], first["code"]) == ("error", "join_required")
