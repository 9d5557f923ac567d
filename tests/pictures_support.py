"""Pictures in tests: a class with students on the whole server, runs made over their own
sockets (their cookies), and the gallery and media as each client sees them.

    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    run, [url] = await make_picture(room.students["Mika"], server, "a fox")
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from tests.people_support import (
    ID_COOKIE,
    cookie,
    create_class,
    joined_student,
    logged_in_teacher,
    open_socket,
    people_client,
)


@dataclass
class Classroom:
    """A teacher's class and its students' clients, by nickname (close with `close`)."""

    teacher: ClientSession
    klass: dict[str, Any]
    students: dict[str, ClientSession] = field(default_factory=dict)

    async def close(self) -> None:
        for http in (self.teacher, *self.students.values()):
            await http.close()


async def classroom(server: TestServer, *nicknames: str, teacher: str = "ms-lee") -> Classroom:
    """A new teacher, a class of theirs, and a joined client per nickname."""
    http = await logged_in_teacher(server, teacher)
    klass = await create_class(http, server, "4b")
    room = Classroom(http, klass)
    for nickname in nicknames:
        room.students[nickname] = await joined_student(server, klass["code"], nickname)
    return room


def same_person(http: ClientSession) -> ClientSession:
    """A second browser of the same person: a new client holding only their identity cookie."""
    value = cookie(http, ID_COOKIE)
    assert value is not None
    second = people_client()
    second.cookie_jar.update_cookies({ID_COOKIE: value})
    return second


async def make_picture(
    http: ClientSession, server: TestServer, prompt: str, interception: str = "bauhaus"
) -> tuple[str, list[str]]:
    """One completed run over the client's own socket; its id and its image URLs."""
    ws, welcome = await open_socket(http, server)
    assert welcome["type"] == "welcome", welcome
    await ws.send_json({"type": "run.start", "prompt": prompt, "interception": interception})
    run, urls = "", []
    async with asyncio.timeout(30):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            assert message["type"] != "error", message
            if message["type"] == "run.accepted":
                run = message["run"]
            elif message["type"] == "output":
                urls.append(message["url"])
            elif message["type"] == "run.done":
                assert message["status"] == "completed", message
                break
    await ws.close()
    return run, urls


async def gallery(http: ClientSession, server: TestServer) -> list[dict[str, Any]]:
    """`GET /api/pictures` as this client; asserts it answered 200."""
    async with http.get(server.make_url("/api/pictures")) as response:
        assert response.status == 200, await response.text()
        pictures: list[dict[str, Any]] = (await response.json())["pictures"]
        return pictures


async def fetch_status(http: ClientSession, server: TestServer, url: str) -> int:
    async with http.get(server.make_url(url)) as response:
        await response.read()
        return response.status
