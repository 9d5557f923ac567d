"""A run from the student's own picture over real sockets: upload, `run.start` with its id, the
picture checked by the vision model in stage 1 (kids/youth, fail-closed) and rendered by the
img2img variant; the upload is one run's only, and no file of it is left on disk after a
cancel, a block or retention."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse
from aiohttp.test_utils import TestServer

from server.harness.demo import DemoResponder, DemoSpeed
from server.harness.llm_sim import OllamaSimulator
from server.harness.vision_marker import images_in
from server.wiring import load_definitions
from tests.conftest import make_settings
from tests.people_support import me, open_socket, people_client
from tests.pipeline_support import StartPipeline, demo_of, pipeline_of
from tests.uploads_support import png_bytes, upload_files, uploaded


async def guest(server: TestServer) -> ClientSession:
    http = people_client()
    await me(http, server)
    return http


async def until(
    ws: ClientWebSocketResponse, kind: str, trail: list[dict[str, Any]]
) -> dict[str, Any]:
    """The next message of `kind` (or an `error`), keeping everything on the way."""
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=30)
        trail.append(message)
        if message["type"] in (kind, "error"):
            return message


async def run_with(ws: ClientWebSocketResponse, image: str, **fields: Any) -> list[dict[str, Any]]:
    """A `run.start` with `image`, to its `run.done` (or its `error`): every message."""
    await ws.send_json(
        {
            "type": "run.start",
            "prompt": "a fox in the snow",
            "interception": "bauhaus",
            "image": image,
            **fields,
        }
    )
    trail: list[dict[str, Any]] = []
    if (await until(ws, "run.accepted", trail))["type"] == "run.accepted":
        await until(ws, "run.done", trail)
    return trail


def first(trail: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(m for m in trail if m["type"] == kind)


def run_dir(server: TestServer, run: str) -> Any:
    return pipeline_of(server).services.records.run_dir(run)


async def test_a_run_from_the_students_picture_completes_and_keeps_it_with_the_run(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids")
    http = await guest(server)
    upload = await uploaded(http, server, png_bytes((96, 64), (250, 20, 20)))
    ws, _ = await open_socket(http, server)
    trail = await run_with(ws, upload["id"])
    accepted, done = first(trail, "run.accepted"), first(trail, "run.done")
    assert done["status"] == "completed", done
    assert accepted["input"] == upload["url"]
    assert accepted["output"] == "sdxl_img2img"  # bauhaus's output, for a run with a picture
    safety = [m for m in trail if m["type"] == "stage" and m["stage"] == "safety"]
    assert "vision" in safety[-1]["detail"]["checks"]  # the picture was looked at in stage 1
    await pipeline_of(server).services.uploads.settled()
    assert upload_files(server) == []
    assert pipeline_of(server).services.uploads.held == 0  # atelier_uploads_held back to 0
    kept = run_dir(server, done["run"]) / "input.png"
    assert kept.is_file()
    async with http.get(server.make_url(upload["url"])) as response:
        assert response.status == 200  # still its owner's to see, now from the run's folder
    media = f"/media/{done['run']}/input.png"
    async with http.get(server.make_url(media)) as response:
        assert response.status == 200  # beside the run's pictures, for whoever may see them
        assert await response.read() == kept.read_bytes()
    stranger = await guest(server)
    async with stranger.get(server.make_url(media)) as response:
        assert response.status == 404
    await stranger.close()
    again = await run_with(ws, upload["id"])  # one upload, one run
    assert first(again, "error")["code"] == "unknown_upload"
    removed = await pipeline_of(server).services.records.prune(now=time.time() + 73 * 3600)
    assert removed >= 1
    assert not kept.exists()  # it followed its run's retention
    await ws.close()
    await http.close()


async def test_another_persons_upload_is_unknown_and_a_compare_takes_none(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline()
    mika, noah = await guest(server), await guest(server)
    upload = await uploaded(mika, server)
    ws, _ = await open_socket(noah, server)
    trail = await run_with(ws, upload["id"], lang="de")
    error = first(trail, "error")
    assert error["code"] == "unknown_upload"
    assert error["message"] == "Dein Bild ist nicht mehr da. Bitte füge es noch einmal hinzu."
    await ws.send_json(
        {
            "type": "compare.start",
            "prompt": "a fox",
            "perspectives": ["bauhaus", "haiku"],
            "image": upload["id"],
        }
    )
    assert (await ws.receive_json(timeout=10))["code"] == "invalid_field"
    assert len(upload_files(server)) == 1  # still Mika's, unclaimed
    await ws.close()
    await mika.close()
    await noah.close()


async def test_a_cancelled_runs_picture_is_deleted(start_pipeline: StartPipeline) -> None:
    # The interception's first token takes 30 s: the cancel always finds the run going.
    slow = DemoSpeed(tokens_per_second=0, first_token_delay=30, step_time=0.005, steps=4)
    server = await start_pipeline(safety_level="adult", speed=slow)
    http = await guest(server)
    upload = await uploaded(http, server)
    ws, _ = await open_socket(http, server)
    await ws.send_json(
        {"type": "run.start", "prompt": "a fox", "interception": "bauhaus", "image": upload["id"]}
    )
    trail: list[dict[str, Any]] = []
    accepted = await until(ws, "run.accepted", trail)
    await ws.send_json({"type": "run.cancel", "run": accepted["run"]})
    done = await until(ws, "run.done", trail)
    assert done["status"] == "cancelled"
    await pipeline_of(server).services.uploads.settled()
    assert upload_files(server) == []
    assert not (run_dir(server, done["run"]) / "input.png").exists()
    await ws.close()
    await http.close()


async def test_a_failed_runs_picture_is_deleted(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="adult")
    demo_of(server).llm.faults.error_status = 500  # the interception's LLM fails
    http = await guest(server)
    upload = await uploaded(http, server)
    ws, _ = await open_socket(http, server)
    done = first(await run_with(ws, upload["id"]), "run.done")
    assert done["status"] == "failed"
    await pipeline_of(server).services.uploads.settled()
    assert upload_files(server) == []
    assert not (run_dir(server, done["run"]) / "input.png").exists()
    await ws.close()
    await http.close()


@dataclass
class SeesTrouble(DemoResponder):
    """A vision model that calls every uploaded picture unsafe, or is gone when asked."""

    gone: bool = False
    sim: list[OllamaSimulator] = field(default_factory=list)
    seen: list[bytes] = field(default_factory=list)

    def __call__(self, messages: Sequence[dict[str, str]]) -> str:
        if self.gone and self.is_prompt("safety_input", messages[0]["content"]):
            self.sim[0].faults.drop_connections = True  # the next chat, the picture's, drops
        pictures = images_in(messages)
        if pictures:
            self.seen.extend(pictures)
            return "UNSAFE: this picture is not suitable."
        return super().__call__(messages)


async def blocked_run(
    start_pipeline: StartPipeline, responder: SeesTrouble
) -> tuple[TestServer, list[dict[str, Any]]]:
    server = await start_pipeline(safety_level="youth", responder=responder)
    responder.sim.append(demo_of(server).llm)
    http = await guest(server)
    upload = await uploaded(http, server)
    ws, _ = await open_socket(http, server)
    trail = await run_with(ws, upload["id"])
    await pipeline_of(server).services.uploads.settled()
    assert upload_files(server) == []  # a blocked run's picture goes
    assert not (run_dir(server, first(trail, "run.done")["run"]) / "input.png").exists()
    stages = [m["stage"] for m in trail if m["type"] == "stage"]
    assert set(stages) == {"safety"}  # nothing else ran
    await ws.close()
    await http.close()
    return server, trail


async def test_an_unsafe_picture_blocks_the_run_before_anything_else_runs(
    start_pipeline: StartPipeline,
) -> None:
    catalog, _ = load_definitions(make_settings())
    responder = SeesTrouble(catalog)
    _, trail = await blocked_run(start_pipeline, responder)
    done = first(trail, "run.done")
    assert done["status"] == "blocked"
    assert done["reason"] == "Your picture cannot be used here. Please choose another one."
    [picture] = responder.seen  # the cleaned PNG went to the vision model, once
    assert picture.startswith(b"\x89PNG")


async def test_the_picture_is_refused_when_the_vision_model_is_down(
    start_pipeline: StartPipeline,
) -> None:
    catalog, _ = load_definitions(make_settings())
    server, trail = await blocked_run(start_pipeline, SeesTrouble(catalog, gone=True))
    done = first(trail, "run.done")
    assert done["status"] == "blocked"
    assert done["reason"].startswith("Your picture could not be checked right now")
    blocked = [m for m in trail if m["type"] == "stage" and m["status"] == "blocked"]
    assert blocked[0]["detail"] == {"check": "vision", "fail_closed": True}
    assert demo_of(server).llm.counters.dropped >= 1
