"""My pictures over real HTTP and sockets: a student's gallery comes from the server, the same
from every client of that identity and after a restart; nobody else's pictures are in it."""

from __future__ import annotations

import asyncio
import time

from aiohttp import ClientSession

from tests.people_support import api_json, me, open_socket, people_client, people_of
from tests.pictures_support import classroom, fetch_status, gallery, make_picture, same_person
from tests.pipeline_support import StartPipeline, connected, pipeline_of, run_done, start_run


async def test_a_students_pictures_are_listed_from_a_second_client_and_after_a_restart(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    mika = room.students["Mika"]
    before = time.time()
    run, urls = await make_picture(mika, server, "a fox in the snow", "haiku")
    [picture] = await gallery(mika, server)
    assert picture == {
        "run": run,
        "created": picture["created"],
        "prompt": "a fox in the snow",
        "perspective": "haiku",
        "files": urls,
        "group": None,
    }
    assert before <= picture["created"] <= time.time()
    async with same_person(mika) as second:
        assert await gallery(second, server) == [picture]
    await server.close()

    restarted = await start_pipeline(access="codes")  # the same data_dir: records and store
    async with same_person(mika) as after_restart:
        assert await gallery(after_restart, restarted) == [picture]
        assert await fetch_status(after_restart, restarted, urls[0]) == 200
    await room.close()


async def test_another_students_pictures_are_never_listed(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    await make_picture(room.students["Mika"], server, "a fox")
    noah_run, _ = await make_picture(room.students["Noah"], server, "a boat")
    assert [p["run"] for p in await gallery(room.students["Noah"], server)] == [noah_run]
    assert await gallery(room.teacher, server) == []  # a teacher has no gallery of their own
    await room.close()


async def test_the_gallery_is_newest_first_and_bounded(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes", max_pictures_listed=2)
    room = await classroom(server, "Mika")
    mika = room.students["Mika"]
    runs = [(await make_picture(mika, server, f"picture {n}"))[0] for n in range(3)]
    assert [p["run"] for p in await gallery(mika, server)] == runs[:0:-1]
    await room.close()


async def test_runs_without_pictures_are_not_listed_and_do_not_count(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", max_pictures_listed=1)
    room = await classroom(server, "Mika")
    mika = room.students["Mika"]
    run, _ = await make_picture(mika, server, "a fox")
    ws, _ = await open_socket(mika, server)
    await ws.send_json({"type": "run.start", "prompt": "a pistol", "interception": "bauhaus"})
    async with asyncio.timeout(30):
        while (done := await ws.receive_json())["type"] != "run.done":
            pass
    assert done["status"] == "blocked"
    await ws.close()
    blocked = await people_of(server).picture(done["run"])
    assert blocked is not None  # indexed, so that removing Mika finds its record
    assert blocked.files == []
    assert [p["run"] for p in await gallery(mika, server)] == [run]
    await room.close()


async def test_a_guest_with_a_cookie_keeps_their_own_gallery(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="open")
    async with people_client() as ana, people_client() as ben:
        for guest in (ana, ben):
            assert (await me(guest, server))["role"] == "student"  # a guest cookie now
        run, [url] = await make_picture(ana, server, "a cat")
        assert [p["run"] for p in await gallery(ana, server)] == [run]
        assert await gallery(ben, server) == []
        assert await fetch_status(ben, server, url) == 404
        assert await fetch_status(ana, server, url) == 200


async def test_a_cookie_less_run_is_in_no_gallery_and_its_media_are_read_by_url(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="open")
    client = await connected(server)  # a script: no cookie at all
    run = await start_run(client, "a lighthouse")
    await run_done(client, run)
    [output] = [m for m in client.messages if m["type"] == "output"]
    async with ClientSession() as stranger:
        assert await fetch_status(stranger, server, output["url"]) == 200
        async with stranger.get(server.make_url("/api/pictures")) as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "join_required"
    assert await people_of(server).picture(run) is None
    await client.close()


async def test_pruning_forgets_pictures_past_retention(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes", retention_hours=1)
    room = await classroom(server, "Mika")
    mika = room.students["Mika"]
    run, [url] = await make_picture(mika, server, "a fox")
    records = pipeline_of(server).services.records
    assert await records.prune(now=time.time() + 2 * 3600) == 1
    assert await gallery(mika, server) == []
    assert await fetch_status(mika, server, url) == 404
    assert not (records.root / run).exists()
    await room.close()


async def test_a_removed_members_pictures_go_with_them(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    run, [url] = await make_picture(room.students["Mika"], server, "a fox")
    klass = room.klass["id"]
    [member] = (await api_json(room.teacher, server, "GET", f"/api/classes/{klass}/members"))[
        "members"
    ]
    path = f"/api/classes/{klass}/members/{member['id']}"
    await api_json(room.teacher, server, "DELETE", path, status=204)
    assert not (pipeline_of(server).services.records.root / run).exists()
    assert await fetch_status(room.teacher, server, url) == 404
    await room.close()
