"""A teacher's export of a class over real HTTP, of runs made through the simulators: the ZIP
holds every visible picture, one CSV row and one record per run, and a contact sheet; it is
the class's teacher's alone and bounded."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from typing import Any

import orjson
import pytest
from aiohttp import ClientError, ClientSession, web
from aiohttp.test_utils import TestServer

from server.engine.classroom.export import BOM, MAX_CONCURRENT_EXPORTS
from server.handlers import export
from tests.people_support import (
    api_send,
    error_of,
    logged_in_teacher,
    open_socket,
    people_client,
    people_of,
)
from tests.pictures_support import Classroom, classroom, make_picture
from tests.pipeline_support import StartPipeline, pipeline_of


def export_path(room: Classroom, query: str = "") -> str:
    return f"/api/classes/{room.klass['id']}/export{query}"


async def download(http: ClientSession, server: TestServer, path: str) -> zipfile.ZipFile:
    async with http.get(server.make_url(path)) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "application/zip"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"].startswith('attachment; filename="4b_')
        return zipfile.ZipFile(io.BytesIO(await response.read()))


async def refusal(http: ClientSession, server: TestServer, path: str) -> tuple[int, str]:
    async with http.get(server.make_url(path)) as response:
        return await error_of(response)


def csv_rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    text = archive.read("prompts.csv").decode()
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))


async def blocked_run(http: ClientSession, server: TestServer) -> str:
    """A run the word list blocks, over the client's own socket; its id."""
    ws, welcome = await open_socket(http, server)
    assert welcome["type"] == "welcome", welcome
    await ws.send_json({"type": "run.start", "prompt": "a pistol", "interception": "bauhaus"})
    async with asyncio.timeout(30):
        while (message := await ws.receive_json())["type"] != "run.done":
            pass
    await ws.close()
    assert message["status"] == "blocked"
    return str(message["run"])


async def test_the_zip_holds_every_picture_a_row_and_a_record_per_run_and_a_sheet(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika", "Jörg")
    made: dict[str, list[str]] = {}
    for nickname, prompt in (("Mika", 'a fox, "red"'), ("Jörg", "Füchse <script>")):
        run, urls = await make_picture(room.students[nickname], server, prompt)
        made[run] = urls
    blocked = await blocked_run(room.students["Mika"], server)

    archive = await download(room.teacher, server, export_path(room, "?tz=60&lang=de"))
    images = [n for n in archive.namelist() if n.startswith("images/")]
    assert len(images) == sum(len(urls) for urls in made.values())
    rows = csv_rows(archive)
    assert [row["run"] for row in rows] == [*made, blocked]
    assert [row["status"] for row in rows] == ["completed", "completed", "blocked"]
    assert rows[1]["nickname"] == "Jörg"
    assert rows[1]["prompt"] == "Füchse <script>"
    assert rows[2]["pictures"] == ""
    assert sorted(archive.namelist()) == sorted(
        ["index.html", "prompts.csv", *images, *(f"runs/{r}.json" for r in [*made, blocked])]
    )
    records = pipeline_of(server).services.records
    for row in rows[:2]:
        [url] = made[row["run"]]
        on_disk = (records.root / row["run"] / url.rsplit("/", 1)[-1]).read_bytes()
        assert archive.read(row["pictures"]) == on_disk
    record = orjson.loads(archive.read(f"runs/{blocked}.json"))
    assert record["owner"] == {"nickname": "Mika", "class_id": room.klass["id"]}
    assert "session" not in record
    assert "safety" in record["verdicts"]  # the reason, for the teacher who exports
    sheet = archive.read("index.html").decode()
    assert all(f'src="{name}"' in sheet for name in images)
    assert "Füchse &lt;script&gt;" in sheet
    assert "<script" not in sheet
    await room.close()


async def test_a_hidden_picture_stays_out_and_a_range_narrows_the_runs(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    first, _ = await make_picture(room.students["Mika"], server, "a fox")
    second, _ = await make_picture(room.students["Mika"], server, "a boat")
    people = people_of(server)
    assert await people.mark_picture(room.klass["id"], first, flagged=None, hidden=True)
    assert await people.mark_picture(room.klass["id"], second, flagged=True, hidden=None)
    archive = await download(room.teacher, server, export_path(room))
    rows = csv_rows(archive)
    marks = [(row["run"], row["hidden"], row["flagged"]) for row in rows]
    assert marks == [(first, "yes", ""), (second, "", "yes")]
    assert [n for n in archive.namelist() if n.startswith("images/")] == [rows[1]["pictures"]]

    row = await people.picture(second)
    assert row is not None
    narrowed = await download(room.teacher, server, export_path(room, f"?since={row.created}"))
    assert [row["run"] for row in csv_rows(narrowed)] == [second]
    before = await download(room.teacher, server, export_path(room, f"?until={row.created}"))
    assert [row["run"] for row in csv_rows(before)] == [first]  # the end is not in the range
    await room.close()


async def test_only_the_classs_teacher_may_export_or_delete_its_pictures(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    run, _ = await make_picture(room.students["Mika"], server, "a fox")
    other = await logged_in_teacher(server, "mr-kim")
    mika = room.students["Mika"]
    missing = f"/api/classes/{room.klass['id'] + 100}/export"
    assert await refusal(other, server, export_path(room)) == (404, "not_found")
    assert await refusal(room.teacher, server, missing) == (404, "not_found")
    assert await refusal(mika, server, export_path(room)) == (403, "teachers_only")
    async with people_client() as nobody:
        assert await refusal(nobody, server, export_path(room)) == (401, "join_required")
    pictures, confirm = f"/api/classes/{room.klass['id']}/pictures", {"confirm": "4b"}
    for http, refused in ((other, (404, "not_found")), (mika, (403, "teachers_only"))):
        async with await api_send(http, server, "DELETE", pictures, confirm) as response:
            assert await error_of(response) == refused
    assert await people_of(server).picture(run) is not None
    await other.close()
    await room.close()


async def test_a_bad_range_an_export_beyond_its_bounds_or_its_disk_and_a_busy_server_are_refused(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    for query in ("?since=yesterday", "?since=2026-12-02&until=2026-12-01", "?tz=900"):
        path = export_path(room, query)
        assert await refusal(room.teacher, server, path) == (400, "invalid_range"), query
    for prompt in ("a fox", "a boat"):
        await make_picture(room.students["Mika"], server, prompt)
    monkeypatch.setattr(export, "MAX_EXPORT_RUNS", 1)
    assert await refusal(room.teacher, server, export_path(room)) == (413, "export_too_large")
    monkeypatch.setattr(export, "MAX_EXPORT_RUNS", 10)
    monkeypatch.setattr("server.engine.classroom.export_zip.MAX_EXPORT_BYTES", 10)
    assert await refusal(room.teacher, server, export_path(room)) == (413, "export_too_large")
    monkeypatch.undo()

    def disk_full(**_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("server.engine.classroom.export_zip.tempfile.TemporaryFile", disk_full)
    assert await refusal(room.teacher, server, export_path(room)) == (500, "internal")
    monkeypatch.undo()

    slots = pipeline_of(server).services.export_slots
    held: list[Any] = []
    while not slots.locked():  # every slot taken, as by exports being written
        await slots.acquire()
        held.append(slots)
    assert await refusal(room.teacher, server, export_path(room)) == (429, "export_busy")
    for slot in held:
        slot.release()
    await download(room.teacher, server, export_path(room))
    await room.close()


async def test_a_client_that_stops_reading_the_export_frees_its_slot(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket never takes a chunk (as a client that stopped reading, once its buffers
    are full): the download is cut and every export slot is free again, not held for ever."""
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    await make_picture(room.students["Mika"], server, "a fox")
    monkeypatch.setattr(export, "SEND_TIMEOUT_SECONDS", 0.2)

    async def never_taken(self: web.StreamResponse, data: bytes) -> None:
        await asyncio.Event().wait()

    async def fetch() -> None:
        async with room.teacher.get(server.make_url(export_path(room))) as response:
            await response.read()

    monkeypatch.setattr(web.StreamResponse, "write", never_taken)
    async with asyncio.timeout(10):  # without the send timeout: this, and a slot held
        with pytest.raises(ClientError):
            await fetch()
    monkeypatch.undo()
    slots = pipeline_of(server).services.export_slots
    async with asyncio.timeout(10):  # every slot comes free (the handler ends at once)
        for _ in range(MAX_CONCURRENT_EXPORTS):
            await slots.acquire()
    for _ in range(MAX_CONCURRENT_EXPORTS):
        slots.release()
    await download(room.teacher, server, export_path(room))
    await room.close()


async def test_a_teacher_has_one_export_at_a_time_and_leaves_the_other_slots(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a teacher's export is being sent, their second is 429 `export_busy` (a script
    would take every slot), and another teacher's export goes through."""
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    other = await classroom(server, "Noah", teacher="mr-kim")
    await make_picture(room.students["Mika"], server, "a fox")
    await make_picture(other.students["Noah"], server, "a boat")
    write, sending, release = web.StreamResponse.write, asyncio.Event(), asyncio.Event()

    async def first_one_waits(self: web.StreamResponse, data: bytes) -> None:
        if not sending.is_set():
            sending.set()
            await release.wait()
        await write(self, data)

    monkeypatch.setattr(web.StreamResponse, "write", first_one_waits)
    first = asyncio.create_task(download(room.teacher, server, export_path(room)))
    async with asyncio.timeout(10):
        await sending.wait()
    assert await refusal(room.teacher, server, export_path(room)) == (429, "export_busy")
    await download(other.teacher, server, export_path(other))
    release.set()
    await first
    await download(room.teacher, server, export_path(room))  # their turn again
    await room.close()
    await other.close()
