"""The wall's live feed over real HTTP (Server-Sent Events): a class member's finished picture
arrives as it is made (a blocked run never does), a hidden one is taken away and its media are
refused to the wall from then on, a removed student's pictures leave it, revoking the link
closes the open feed at once, and a wall that stops reading is dropped while publishing never
waits for it."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiohttp import ClientResponse, ClientSession, web
from aiohttp.test_utils import TestServer

from server.engine.classroom.wall import SUBSCRIBER_QUEUE, WallEvent
from server.handlers import wall
from server.handlers.keys import CLASSES, PEOPLE
from tests.integration.test_wall_links import WALL_HEADER, links_path, new_link
from tests.people_support import api_json, members_of, open_socket, people_client
from tests.pictures_support import Classroom, classroom, fetch_status, make_picture
from tests.pipeline_support import StartPipeline

#: Bound on every wait for the feed; the feed itself answers within milliseconds.
WAIT = 10.0


async def next_event(feed: ClientResponse) -> tuple[str, dict[str, Any]]:
    """The next event on the stream (comments skipped): its name and its data."""
    name, data = "message", b""
    async with asyncio.timeout(WAIT):
        while True:
            line = (await feed.content.readline()).rstrip(b"\n")
            if not line and data:
                return name, orjson.loads(data)
            if line.startswith(b"event: "):
                name = line.removeprefix(b"event: ").decode()
            elif line.startswith(b"data: "):
                data = line.removeprefix(b"data: ")
            elif feed.content.at_eof():
                raise EOFError("the feed ended")


async def open_feed(http: ClientSession, server: TestServer, class_id: int) -> ClientResponse:
    response = await http.get(server.make_url(f"/api/wall/{class_id}/events"))
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return response


async def projector(room: Classroom, server: TestServer) -> tuple[ClientSession, int]:
    """A client that opened the class's wall with a new link (holding its cookie)."""
    link, token = await new_link(room, server)
    http = people_client()
    path = f"/api/wall/{room.klass['id']}"
    async with http.get(server.make_url(path), headers={WALL_HEADER: token}) as response:
        assert response.status == 200
    return http, link


async def blocked_run(http: ClientSession, server: TestServer, prompt: str) -> None:
    ws, _ = await open_socket(http, server)
    await ws.send_json({"type": "run.start", "prompt": prompt, "interception": "bauhaus"})
    async with asyncio.timeout(WAIT):
        while (message := await ws.receive_json())["type"] != "run.done":
            pass
    assert message["status"] == "blocked"
    await ws.close()


async def test_a_picture_arrives_and_a_hidden_one_leaves(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes", safety_level="kids")
    room = await classroom(server, "Mika")
    class_id = room.klass["id"]
    wall_http, _ = await projector(room, server)
    feed = await open_feed(wall_http, server, class_id)
    await blocked_run(room.students["Mika"], server, "a knight with a gun")
    run, urls = await make_picture(room.students["Mika"], server, "a fox in the snow")
    name, event = await next_event(feed)  # the blocked run came first and sent nothing
    assert (name, event["kind"], event["run"]) == ("message", "picture", run)
    picture = event["picture"]
    assert (picture["nickname"], picture["prompt"], picture["files"]) == (
        "Mika",
        "a fox in the snow",
        urls,
    )
    assert picture["perspective"] == "bauhaus"
    assert picture["perspective_name"]["en"]
    assert "teacher_reason" not in picture
    assert picture["group"] is None
    assert await fetch_status(wall_http, server, urls[0]) == 200
    change = f"/api/classes/{class_id}/pictures/{run}"
    await api_json(room.teacher, server, "PATCH", change, {"hidden": True})
    name, event = await next_event(feed)
    assert (event["kind"], event["run"]) == ("hidden", run)
    assert await fetch_status(wall_http, server, urls[0]) == 404
    async with wall_http.get(server.make_url(f"/api/wall/{class_id}")) as response:
        assert (await response.json())["pictures"] == []
    feed.close()
    await wall_http.close()
    await room.close()


async def test_a_removed_students_pictures_leave_the_wall(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    class_id = room.klass["id"]
    wall_http, _ = await projector(room, server)
    feed = await open_feed(wall_http, server, class_id)
    run, _ = await make_picture(room.students["Mika"], server, "a fox")
    kept, _ = await make_picture(room.students["Noah"], server, "a boat")
    assert [(await next_event(feed))[1]["run"] for _ in range(2)] == [run, kept]
    [mika] = [
        m for m in await members_of(room.teacher, server, class_id) if m["nickname"] == "Mika"
    ]
    path = f"/api/classes/{class_id}/members/{mika['id']}"
    await api_json(room.teacher, server, "DELETE", path, status=204)
    assert (await next_event(feed))[1] == {"kind": "hidden", "run": run, "picture": None}
    async with wall_http.get(server.make_url(f"/api/wall/{class_id}")) as response:
        assert [p["run"] for p in (await response.json())["pictures"]] == [kept]
    feed.close()
    await wall_http.close()
    await room.close()


async def test_revoking_the_link_closes_its_open_feed(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    wall_http, link = await projector(room, server)
    feed = await open_feed(wall_http, server, room.klass["id"])
    run, [url] = await make_picture(room.students["Mika"], server, "a boat")
    assert (await next_event(feed))[1]["run"] == run
    await api_json(room.teacher, server, "DELETE", f"{links_path(room)}/{link}", status=204)
    assert await next_event(feed) == ("end", {"why": "revoked"})
    async with asyncio.timeout(WAIT):
        assert await feed.content.read() == b""  # and the stream ends
    assert await fetch_status(wall_http, server, url) == 404
    async with wall_http.get(server.make_url(f"/api/wall/{room.klass['id']}/events")) as again:
        assert again.status == 404
    await wall_http.close()
    await room.close()


async def test_a_link_revoked_while_its_feed_opens_gets_no_feed(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revocation lands after the feed's link check and before its subscription (where
    `close_link` finds nothing to close): the feed is refused, not left open for good."""
    server = await start_pipeline(access="codes")
    room = await classroom(server)
    wall_http, link = await projector(room, server)
    checked = wall.wall_class

    async def revoked_meanwhile(request: web.Request) -> Any:
        found = await checked(request)
        await request.app[PEOPLE].revoke_wall_link(room.klass["id"], link)
        assert request.app[CLASSES].wall.close_link(link) == 0  # nothing open to close yet
        return found

    monkeypatch.setattr(wall, "wall_class", revoked_meanwhile)
    path = f"/api/wall/{room.klass['id']}/events"
    async with asyncio.timeout(WAIT), wall_http.get(server.make_url(path)) as response:
        assert response.status == 404
    assert server.app[CLASSES].wall.subscribers(room.klass["id"]) == 0
    await wall_http.close()
    await room.close()


async def test_a_wall_that_stops_reading_is_dropped(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server)
    class_id = room.klass["id"]
    hub = server.app[CLASSES]
    stalled = await open_feed(room.teacher, server, class_id)  # and never read again
    assert hub.wall.subscribers(class_id) == 1
    picture = {"prompt": "a fox " * 500}  # about 3 kB an event: the socket's buffers fill
    sent = 0
    async with asyncio.timeout(WAIT):
        while hub.wall.subscribers(class_id):
            hub.publish(class_id, WallEvent("picture", f"r-aaaa{sent}", picture))
            sent += 1
            await asyncio.sleep(0)  # the feed's writer gets its turn, until its send blocks
    assert sent > SUBSCRIBER_QUEUE  # it took what the socket held first
    stalled.close()
    await room.close()


async def test_an_idle_feed_sends_heartbeats(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wall, "HEARTBEAT_SECONDS", 0.01)
    server = await start_pipeline(access="codes")
    room = await classroom(server)
    feed = await open_feed(room.teacher, server, room.klass["id"])  # the teacher's own cookie
    async with asyncio.timeout(WAIT):
        while not (await feed.content.readline()).startswith(b": heartbeat"):
            pass
    feed.close()
    await room.close()
