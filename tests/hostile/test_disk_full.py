"""A full or read-only data_dir: the picture is delivered from memory, the student is told, and
no empty or partial file is left behind.

Root ignores `chmod`, and mounting a tiny tmpfs needs privileges CI lacks, so the refusals are
made two other ways, both real: the media writer (the seam the image stage writes through) is
replaced by one that writes through a `.part` file linked to `/dev/full`, where the kernel
answers every write with ENOSPC; and `data_dir/runs` is made a plain file, so every write under
it (pictures and records alike) fails in the kernel.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from server.engine.stages import texts
from server.harness.client import AtelierClient, Message
from tests.hostile.test_disk_full_memory import PNG, full_disk_writer
from tests.pipeline_support import (
    StartPipeline,
    connected,
    events_of,
    pipeline_of,
    run_done,
    start_run,
)


async def fetch(server: TestServer, url: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{server.port}{url}") as response,
    ):
        return response.status, await response.read()


async def picture_run(client: AtelierClient) -> tuple[str, Message]:
    run = await start_run(client, "a fox in the snow")
    return run, await run_done(client, run)


def generation_done(client: AtelierClient, run: str) -> Message:
    [done] = [
        m
        for m in events_of(client, run)
        if m["type"] == "stage" and m["stage"] == "generation" and m["status"] == "done"
    ]
    return done


def output_url(client: AtelierClient, run: str) -> str:
    [output] = [m for m in events_of(client, run) if m["type"] == "output"]
    return str(output["url"])


async def test_full_disk_picture_is_served_from_memory_and_the_student_is_told(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult")
    services = pipeline_of(server).services
    services.media_writer = full_disk_writer
    client = await connected(server)
    run, done = await picture_run(client)
    assert done["status"] == "completed"
    assert generation_done(client, run)["text"] == texts.text("disk_full", "en")
    status, body = await fetch(server, output_url(client, run))
    assert (status, body[:8]) == (200, PNG)
    folder = services.records.run_dir(run)
    assert sorted(p.name for p in folder.iterdir()) == ["record.json"]  # no picture, no .part
    assert services.held_media.held_bytes == len(body)


async def test_unwritable_data_dir_keeps_picture_deliverable_after_the_run_ended(
    start_pipeline: StartPipeline, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "runs").write_bytes(b"")  # every folder and file under it is refused
    server = await start_pipeline(safety_level="adult", data_dir=data)
    client = await connected(server)
    run = await start_run(client, "ein Fuchs im Schnee", lang="de")
    done = await run_done(client, run)
    assert done["status"] == "completed"
    assert generation_done(client, run)["text"] == texts.text("disk_full", "de")
    # The record could not be written either: who may see the picture comes from memory.
    status, body = await fetch(server, output_url(client, run))
    assert (status, body[:8]) == (200, PNG)
    assert (data / "runs").read_bytes() == b""


async def test_a_picture_larger_than_memory_may_hold_fails_the_run_as_disk_full(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult", held_media_bytes=len(PNG))
    services = pipeline_of(server).services
    services.media_writer = full_disk_writer
    client = await connected(server)
    run, done = await picture_run(client)
    assert (done["status"], done["code"]) == ("failed", "disk_full")
    assert "disk is full" in done["reason"]
    assert not [m for m in events_of(client, run) if m["type"] == "output"]
    assert len(services.held_media) == 0
    # The image server did its work: its health did not hear of the disk.
    assert all(info.to_json()["state"] == "healthy" for info in services.backends.status())
