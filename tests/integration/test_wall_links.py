"""Wall links over real HTTP: the class's teacher makes, lists and revokes them; the wall's
pictures and feed open for the teacher and a live link of that class only, and 404 for
another teacher, a student, nobody and a revoked link, exactly as a class that does not exist."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.engine.people.wall_links import MAX_WALL_LINKS
from tests.people_support import api_json, api_send, error_of, people_client
from tests.pictures_support import Classroom, classroom, fetch_status, make_picture
from tests.pipeline_support import StartPipeline

WALL_HEADER = "X-Wall-Key"


def links_path(room: Classroom) -> str:
    return f"/api/classes/{room.klass['id']}/wall-links"


async def new_link(room: Classroom, server: TestServer) -> tuple[int, str]:
    """A wall link of the room's class: its id and its token (from the url's fragment)."""
    made = await api_json(room.teacher, server, "POST", links_path(room), status=201)
    path, token = made["url"].split("#k=")
    assert path == f"/wall/{room.klass['id']}"
    return made["id"], token


async def wall_status(
    http: ClientSession, server: TestServer, class_id: int | str, **headers: str
) -> int:
    async with http.get(server.make_url(f"/api/wall/{class_id}"), headers=headers) as response:
        await response.read()
        return response.status


async def test_a_teacher_makes_lists_and_revokes_wall_links(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server)
    first, token = await new_link(room, server)
    second, _ = await new_link(room, server)
    listed = await api_json(room.teacher, server, "GET", links_path(room))
    assert [link["id"] for link in listed["links"]] == [second, first]
    assert all(set(link) == {"id", "created"} for link in listed["links"])  # never a token
    assert len(token) == 43  # 256 random bits, URL-safe
    await api_json(room.teacher, server, "DELETE", f"{links_path(room)}/{first}", status=204)
    listed = await api_json(room.teacher, server, "GET", links_path(room))
    assert [link["id"] for link in listed["links"]] == [second]
    async with await api_send(room.teacher, server, "DELETE", f"{links_path(room)}/{first}") as r:
        assert await error_of(r) == (404, "not_found")  # revoked already
    await room.close()


async def test_a_class_has_a_bounded_number_of_live_links(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server)
    for _ in range(MAX_WALL_LINKS):
        await new_link(room, server)
    async with await api_send(room.teacher, server, "POST", links_path(room)) as response:
        assert await error_of(response) == (409, "too_many_wall_links")
    await room.close()


async def test_only_the_classs_teacher_manages_its_wall_links(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    other = await classroom(server, teacher="mr-kim")
    link, _ = await new_link(room, server)
    refusals: dict[str, Any] = {}
    async with people_client() as nobody:
        for who, http in (
            ("teacher", other.teacher),
            ("student", room.students["Mika"]),
            ("nobody", nobody),
        ):
            for method, path in (
                ("POST", links_path(room)),
                ("GET", links_path(room)),
                ("DELETE", f"{links_path(room)}/{link}"),
            ):
                async with await api_send(http, server, method, path) as response:
                    refusals[f"{who} {method}"] = await error_of(response)
    assert {key: value for key, value in refusals.items() if key.startswith("teacher")} == {
        "teacher POST": (404, "not_found"),
        "teacher GET": (404, "not_found"),
        "teacher DELETE": (404, "not_found"),
    }
    assert {refusals[f"student {m}"] for m in ("POST", "GET", "DELETE")} == {(403, "teachers_only")}
    assert {refusals[f"nobody {m}"] for m in ("POST", "GET", "DELETE")} == {(401, "join_required")}
    still = await api_json(room.teacher, server, "GET", links_path(room))
    assert [entry["id"] for entry in still["links"]] == [link]
    await room.close()
    await other.close()


async def test_the_wall_opens_for_its_teacher_and_a_live_link_only(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    other = await classroom(server, teacher="mr-kim")
    class_id = room.klass["id"]
    link, token = await new_link(room, server)
    _, other_token = await new_link(other, server)
    assert await wall_status(room.teacher, server, class_id) == 200
    async with people_client() as projector, people_client() as nobody:
        assert await wall_status(projector, server, class_id, **{WALL_HEADER: token}) == 200
        assert await wall_status(projector, server, class_id) == 200  # its cookie from now on
        assert await wall_status(nobody, server, class_id) == 404
        assert await wall_status(nobody, server, class_id, **{WALL_HEADER: other_token}) == 404
        assert await wall_status(nobody, server, class_id, **{WALL_HEADER: "x" * 43}) == 404
        assert await wall_status(other.teacher, server, class_id) == 404
        assert await wall_status(room.students["Mika"], server, class_id) == 404
        assert await wall_status(nobody, server, 999_999, **{WALL_HEADER: token}) == 404
        await api_json(room.teacher, server, "DELETE", f"{links_path(room)}/{link}", status=204)
        assert await wall_status(projector, server, class_id) == 404  # revoked: at once
        assert await wall_status(nobody, server, class_id, **{WALL_HEADER: token}) == 404
    await room.close()
    await other.close()


async def test_a_wall_cookie_opens_its_own_wall_and_nothing_else(
    start_pipeline: StartPipeline,
) -> None:
    """A projector holding class A's wall cookie: class B's wall, feed and pictures are 404
    as for nobody, the teacher API refuses it as a visitor, and a class id that is not a
    plain number (a word, negative, huge) is 404 like a missing class."""
    server = await start_pipeline(access="codes")
    room = await classroom(server)
    other = await classroom(server, "Noah", teacher="mr-kim")
    a, b = room.klass["id"], other.klass["id"]
    _, token = await new_link(room, server)
    _, urls = await make_picture(other.students["Noah"], server, "a fox in the snow")
    assert await fetch_status(other.teacher, server, urls[0]) == 200  # a real picture of B
    async with people_client() as wall:
        assert await wall_status(wall, server, a, **{WALL_HEADER: token}) == 200  # the cookie
        assert await wall_status(wall, server, b) == 404
        assert await fetch_status(wall, server, f"/api/wall/{b}/events") == 404
        assert await fetch_status(wall, server, urls[0]) == 404
        for path in (f"/api/classes/{a}/wall-links", f"/api/classes/{a}/moderation"):
            async with await api_send(wall, server, "GET", path) as response:
                assert await error_of(response) == (401, "join_required")
        for bad in ("abc", "-1", "1.5", "9" * 30, "%C2%B2"):
            assert await wall_status(wall, server, bad, **{WALL_HEADER: token}) == 404, bad
    for bad in ("abc", "-1", "9" * 30):
        async with await api_send(room.teacher, server, "DELETE", f"{links_path(room)}/{bad}") as r:
            assert await error_of(r) == (404, "not_found"), bad
    await room.close()
    await other.close()
