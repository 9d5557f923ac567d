"""Media by identity over real HTTP: a picture is read by its student and their class's
teacher only, answered 404 to everyone else exactly as a picture that does not exist;
deleting it removes it everywhere; a download is named after prompt, perspective and date."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse

from server.engine.run_record import RunRecord
from tests.people_support import ID_COOKIE, api_send, open_socket, people_client
from tests.pictures_support import classroom, fetch_status, gallery, make_picture
from tests.pipeline_support import StartPipeline, pipeline_of


async def test_only_the_owner_and_their_teacher_can_fetch_a_picture(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    other_room = await classroom(server, teacher="mr-kim")
    _, [url] = await make_picture(room.students["Mika"], server, "a fox")
    assert await fetch_status(room.students["Mika"], server, url) == 200
    assert await fetch_status(room.teacher, server, url) == 200
    assert await fetch_status(room.students["Noah"], server, url) == 404
    assert await fetch_status(room.students["Noah"], server, url + "?download=1") == 404
    assert await fetch_status(other_room.teacher, server, url) == 404
    async with ClientSession() as nobody:
        assert await fetch_status(nobody, server, url) == 404
    async with people_client() as forger:
        forger.cookie_jar.update_cookies({ID_COOKIE: "v1.m.1.1.1.forged"})
        assert await fetch_status(forger, server, url) == 404
    await room.close()
    await other_room.close()


async def test_a_refusal_reads_exactly_like_a_picture_that_does_not_exist(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    run, [url] = await make_picture(room.students["Mika"], server, "a fox")
    noah = room.students["Noah"]
    answers = []
    for path in (url, f"/media/{run}/nothing.png", "/media/r-neverexisted/a.png"):
        async with noah.get(server.make_url(path)) as response:
            answers.append((response.status, await response.json()))
    not_found = {"error": {"code": "not_found", "message": "This was not found."}}
    assert answers == [(404, not_found)] * 3
    await room.close()


async def test_deleting_a_picture_removes_it_from_the_gallery_and_the_disk(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    mika, noah = room.students["Mika"], room.students["Noah"]
    run, [url] = await make_picture(mika, server, "a fox")
    kept, _ = await make_picture(mika, server, "a boat")
    folder = pipeline_of(server).services.records.root / run
    async with await api_send(noah, server, "DELETE", f"/api/pictures/{run}") as response:
        assert response.status == 404  # not Noah's: not even deleted
    assert folder.is_dir()
    async with await api_send(mika, server, "DELETE", f"/api/pictures/{run}") as response:
        assert response.status == 204
    assert [p["run"] for p in await gallery(mika, server)] == [kept]
    assert await fetch_status(mika, server, url) == 404
    assert not folder.exists()
    async with await api_send(mika, server, "DELETE", f"/api/pictures/{run}") as response:
        assert response.status == 404  # gone already
    async with await api_send(mika, server, "DELETE", "/api/pictures/..%2Fsecret.key") as response:
        assert response.status == 404
    await room.close()


async def test_a_download_is_named_after_prompt_perspective_and_date(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    mika = room.students["Mika"]
    _, [url] = await make_picture(mika, server, "Füchse im Schnee!", "fairy_tale")
    [picture] = await gallery(mika, server)
    date = time.strftime("%Y-%m-%d", time.gmtime(picture["created"]))
    async with mika.get(server.make_url(url), params={"download": "1"}) as response:
        assert response.status == 200
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="fuechse-im-schnee_fairy-tale_{date}.png"; '
            f"filename*=UTF-8''f%C3%BCchse-im-schnee_fairy-tale_{date}.png"
        )
        assert response.headers["Cache-Control"].startswith("private")
        assert (await response.read()).startswith(b"\x89PNG")
    async with mika.get(server.make_url(url)) as response:
        assert "Content-Disposition" not in response.headers  # shown in the page, not saved
    await room.close()


async def test_a_run_in_flight_shows_its_pictures_to_its_owner_alone(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    mika, noah = room.students["Mika"], room.students["Noah"]
    records = pipeline_of(server).services.records
    finish, release = records.finish, asyncio.Event()

    async def held_finish(run_id: str, record: RunRecord) -> None:
        await release.wait()  # the run has its image but no record yet
        await finish(run_id, record)

    monkeypatch.setattr(records, "finish", held_finish)
    ws, _ = await open_socket(mika, server)
    await ws.send_json({"type": "run.start", "prompt": "a fox", "interception": "bauhaus"})
    output = await next_of(ws, "output")
    assert not (records.root / output["run"] / "record.json").exists()
    assert await fetch_status(mika, server, output["url"]) == 200
    assert await fetch_status(room.teacher, server, output["url"]) == 200
    assert await fetch_status(noah, server, output["url"]) == 404
    release.set()
    assert (await next_of(ws, "run.done"))["status"] == "completed"
    assert await fetch_status(mika, server, output["url"]) == 200  # now from the record
    assert await fetch_status(noah, server, output["url"]) == 404
    await ws.close()
    await room.close()


async def next_of(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            assert message["type"] != "error", message
            if message["type"] == kind:
                return message
