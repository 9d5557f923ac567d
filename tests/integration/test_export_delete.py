"""Clearing up after a lesson over real HTTP: deleting a class's pictures takes its name typed
as confirmation and keeps its members; a class's own retention prunes its old pictures only."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from tests.people_support import (
    api_json,
    api_send,
    create_class,
    error_of,
    joined_student,
    members_of,
    people_of,
)
from tests.pictures_support import classroom, fetch_status, gallery, make_picture
from tests.pipeline_support import StartPipeline, pipeline_of


async def delete(
    http: ClientSession, server: TestServer, class_id: int, body: dict[str, Any] | None
) -> tuple[int, Any]:
    path = f"/api/classes/{class_id}/pictures"
    async with await api_send(http, server, "DELETE", path, body) as response:
        if response.status == 200:
            return 200, await response.json()
        return await error_of(response)


async def test_deleting_a_classs_pictures_needs_its_name_and_keeps_its_members(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Noah")
    mika, class_id = room.students["Mika"], room.klass["id"]
    run, [url] = await make_picture(mika, server, "a fox")
    noah_run, _ = await make_picture(room.students["Noah"], server, "a boat")
    for wrong in (None, {}, {"confirm": "4c"}, {"confirm": " "}):
        assert await delete(room.teacher, server, class_id, wrong) == (400, "confirm_mismatch")
    assert len(await gallery(mika, server)) == 1
    wall = pipeline_of(server).services.classes.wall.subscribe(class_id)
    assert wall is not None

    assert await delete(room.teacher, server, class_id, {"confirm": " 4B "}) == (
        200,
        {"deleted": 2},
    )
    assert await gallery(mika, server) == []
    assert await fetch_status(mika, server, url) == 404
    hidden = [await wall.next(timeout=5), await wall.next(timeout=5)]
    assert {(event.kind, event.run) for event in hidden if event} == {
        ("hidden", run),
        ("hidden", noah_run),
    }
    assert not (pipeline_of(server).services.records.root / run).exists()
    assert [m["nickname"] for m in await members_of(room.teacher, server, class_id)] == [
        "Mika",
        "Noah",
    ]
    await room.close()


async def test_a_classs_own_retention_prunes_its_old_pictures_only(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", retention_hours=72)
    room = await classroom(server, "Mika")
    path = f"/api/classes/{room.klass['id']}"
    rules = await api_json(room.teacher, server, "PATCH", path, {"rules": {"retention_hours": 1}})
    assert rules["rules"] == {"retention_hours": 1}
    other = await create_class(room.teacher, server, "5a")
    noah = await joined_student(server, other["code"], "Noah")
    mika_run, [mika_url] = await make_picture(room.students["Mika"], server, "a fox")
    noah_run, _ = await make_picture(noah, server, "a boat")
    records = pipeline_of(server).services.records

    assert await records.prune(now=time.time() + 1800) == 0  # within the class's hour
    assert await records.prune(now=time.time() + 2 * 3600) == 1
    assert await people_of(server).picture(mika_run) is None
    assert await fetch_status(room.students["Mika"], server, mika_url) == 404
    assert not (records.root / mika_run).exists()
    assert await people_of(server).picture(noah_run) is not None  # the operator's 72 hours
    await noah.close()
    await room.close()


async def test_a_class_may_not_keep_pictures_longer_than_the_operator(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", retention_hours=72)
    room = await classroom(server)
    path = f"/api/classes/{room.klass['id']}"
    async with await api_send(
        room.teacher, server, "PATCH", path, {"rules": {"retention_hours": 73}}
    ) as response:
        assert await error_of(response) == (400, "invalid_field")
    await room.close()


async def test_an_export_leaves_out_runs_past_the_classs_retention_before_the_pruner_runs(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", retention_hours=72)
    room = await classroom(server, "Mika")
    path = f"/api/classes/{room.klass['id']}"
    await api_json(room.teacher, server, "PATCH", path, {"rules": {"retention_hours": 1}})
    old, _ = await make_picture(room.students["Mika"], server, "a fox")
    new, _ = await make_picture(room.students["Mika"], server, "a boat")
    store = people_of(server)
    async with store._db.write() as tx:  # as if made two hours ago, not yet pruned
        await tx.run("UPDATE pictures SET created = ? WHERE run_id = ?", (time.time() - 7200, old))
    async with room.teacher.get(server.make_url(f"{path}/export")) as response:
        assert response.status == 200, await response.text()
        archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert sorted(n for n in archive.namelist() if n.startswith("runs/")) == [f"runs/{new}.json"]
    await room.close()
