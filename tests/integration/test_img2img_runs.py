"""Image-to-image runs over real sockets: the student's picture reaches the ComfyUI instance that
renders it (uploaded in the run's slot, under the run's own name), the graph loads it, and the
picture that comes back shows it; a render moved to another instance uploads it there again."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import ClientSession, ClientWebSocketResponse
from aiohttp.test_utils import TestServer
from PIL import Image, ImageStat

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.engine.comfyui.upload import BLANK_PNG
from server.engine.records import RECORD_NAME
from server.engine.stages.input_image import UPLOAD_SUBFOLDER, upload_name
from server.harness.comfyui_sim import ComfyUISimulator, SimConfig
from server.harness.comfyui_sim.executor import ExecConfig
from tests.backends_support import StartAtelier
from tests.comfyui_support import TIMEOUT
from tests.people_support import me, open_socket, people_client
from tests.pipeline_support import pipeline_of, until
from tests.uploads_support import png_bytes, uploaded

pytest_plugins = ["tests.backends_support"]

RED, BLUE = (230, 20, 20), (20, 20, 230)


@dataclass
class Student:
    """A guest with a cookie (uploads need a person) and their socket."""

    http: ClientSession
    ws: ClientWebSocketResponse
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def until(self, kind: str) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = await self.ws.receive_json(timeout=TIMEOUT * 3)
            self.messages.append(message)
            if message["type"] in (kind, "error"):
                return message

    def of(self, run: str, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("run") == run and m["type"] == kind]


@asynccontextmanager
async def student(server: TestServer) -> AsyncIterator[Student]:
    http = people_client()
    try:
        await me(http, server)
        ws, _ = await open_socket(http, server)
        yield Student(http, ws)
        await ws.close()
    finally:
        await http.close()


async def start_from(
    pupil: Student, server: TestServer, picture: bytes, interception: str = "passthrough"
) -> dict[str, Any]:
    """Upload `picture` (POST /api/uploads) and start a run from it: its `run.accepted`."""
    upload = await uploaded(pupil.http, server, picture)
    start = {"type": "run.start", "prompt": "my cat, but brave", "interception": interception}
    await pupil.ws.send_json({**start, "image": upload["id"], "seed": 7})
    accepted = await pupil.until("run.accepted")
    assert accepted["type"] == "run.accepted", accepted
    return accepted


def mean_colour(png: bytes) -> tuple[float, float, float]:
    with Image.open(io.BytesIO(png)) as image:
        red, green, blue = ImageStat.Stat(image.convert("RGB")).mean
    return red, green, blue


async def output_of(pupil: Student, server: TestServer, run: str) -> bytes:
    (output,) = pupil.of(run, "output")
    async with pupil.http.get(server.make_url(output["url"])) as response:
        assert response.status == 200
        return await response.read()


def sim(tmp_path: Path, name: str) -> ComfyUISimulator:
    execution = ExecConfig(step_time=0.002, steps=3)
    return ComfyUISimulator(SimConfig(execution=execution, root=tmp_path / name))


@pytest.fixture
async def two_sims(tmp_path: Path) -> AsyncIterator[tuple[ComfyUISimulator, ComfyUISimulator]]:
    first, second = sim(tmp_path, "one"), sim(tmp_path, "two")
    await asyncio.gather(first.start(), second.start())
    yield first, second
    for each in (first, second):
        each.release()
        await each.close()


async def atelier(start_atelier: StartAtelier, llm: str, *sims: ComfyUISimulator) -> TestServer:
    return await start_atelier(
        llm=[LLMBackendConfig(name="llm", url=llm)],
        comfyui=[ComfyUIBackendConfig(name=f"img{n}", url=s.url) for n, s in enumerate(sims)],
    )


def uploaded_to(sim: ComfyUISimulator, run: str) -> Path:
    return sim.root / "input" / UPLOAD_SUBFOLDER / upload_name(run)


def blanked(path: Path) -> Callable[[], bool]:
    return lambda: path.read_bytes() == BLANK_PNG


async def test_the_picture_is_uploaded_under_the_runs_name_and_shows_in_the_result(
    start_atelier: StartAtelier,
    ollama_sim: str,
    two_sims: tuple[ComfyUISimulator, ComfyUISimulator],
) -> None:
    only = two_sims[0]
    server = await atelier(start_atelier, ollama_sim, only)
    results: dict[tuple[int, int, int], tuple[float, float, float]] = {}
    runs: list[str] = []
    async with student(server) as pupil:
        for colour in (RED, BLUE):
            accepted = await start_from(pupil, server, png_bytes((48, 32), colour))
            run = accepted["run"]
            assert accepted["output"] == "sd35_img2img"  # passthrough's output, with a picture
            done = await pupil.until("run.done")
            assert done["status"] == "completed", done
            results[colour] = mean_colour(await output_of(pupil, server, run))
            # ComfyUI cannot delete it: once the render is over, the picture is blanked there.
            await until(blanked(uploaded_to(only, run)))
            runs.append(run)
    red, blue = results[RED], results[BLUE]
    assert red[0] > red[2] + 60  # the input's colour dominates the result
    assert blue[2] > blue[0] + 60
    loaded = [
        node["inputs"]["image"]
        for entry in only.state.history.values()
        for node in entry["prompt"][2].values()
        if node["class_type"] == "LoadImage"
    ]
    assert loaded == [f"{UPLOAD_SUBFOLDER}/{upload_name(run)}" for run in runs]


async def test_a_render_moved_to_another_instance_uploads_the_picture_there_again(
    start_atelier: StartAtelier,
    ollama_sim: str,
    two_sims: tuple[ComfyUISimulator, ComfyUISimulator],
) -> None:
    server = await atelier(start_atelier, ollama_sim, *two_sims)
    holds = {each: each.hold_after(1) for each in two_sims}
    async with student(server) as pupil:
        accepted = await start_from(pupil, server, png_bytes((48, 32), RED), "bauhaus")
        run = accepted["run"]
        assert accepted["output"] == "sdxl_img2img"
        waits = {asyncio.ensure_future(held.wait()): each for each, held in holds.items()}
        finished, pending = await asyncio.wait(
            waits, timeout=TIMEOUT, return_when="FIRST_COMPLETED"
        )
        for task in pending:
            task.cancel()
        (first,) = (waits[task] for task in finished)
        (other,) = (each for each in two_sims if each is not first)
        other.executor.hold_at = None  # the retry there renders straight through
        assert uploaded_to(first, run).is_file()
        assert not uploaded_to(other, run).exists()
        await first.crash()

        done = await pupil.until("run.done")
        assert done["status"] == "completed", done
        await until(blanked(uploaded_to(other, run)))
        kept = uploaded_to(first, run).read_bytes()  # it was down when its copy was blanked
        assert mean_colour(kept)[0] > 200
        record = _record(server, run)
        assert record["models"]["generation"].endswith(f"@img{two_sims.index(other)}")
        red, _, blue = mean_colour(await output_of(pupil, server, run))
    assert red > blue + 60


def _record(server: TestServer, run: str) -> dict[str, Any]:
    records = pipeline_of(server).services.records
    loaded: dict[str, Any] = orjson.loads((records.run_dir(run) / RECORD_NAME).read_bytes())
    return loaded
