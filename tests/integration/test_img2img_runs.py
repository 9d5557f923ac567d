"""Image-to-image runs over real sockets: the student's picture reaches the ComfyUI instance that
renders it (uploaded in the run's slot, under the run's own name), the graph loads it, and the
picture that comes back shows it; a render moved to another instance uploads it there again."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestServer
from PIL import Image, ImageStat

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.engine.records import RECORD_NAME
from server.engine.stages.input_image import UPLOAD_SUBFOLDER, upload_name
from server.engine.uploads import InputImage
from server.harness.client import AtelierClient
from server.harness.comfyui_sim import ComfyUISimulator, SimConfig
from server.harness.comfyui_sim.executor import ExecConfig
from tests.backends_support import StartAtelier
from tests.comfyui_support import TIMEOUT
from tests.pipeline_support import connected, events_of, pipeline_of, run_done, start_run

pytest_plugins = ["tests.backends_support"]

RED, BLUE = (230, 20, 20), (20, 20, 230)


def solid_png(colour: tuple[int, int, int], size: tuple[int, int] = (48, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def picture(colour: tuple[int, int, int]) -> InputImage:
    return InputImage(f"u-{colour[0]}", solid_png(colour), 48, 32)


def with_picture(server: TestServer, image: InputImage) -> None:
    """Every run the server prepares from now on starts from `image` (as a claimed upload)."""
    pipeline = pipeline_of(server)
    original = pipeline.prepare

    def prepare(*args: Any, **kwargs: Any) -> Any:
        run, rules = original(*args, **kwargs)
        run.input_image = image
        return run, rules

    pipeline.prepare = prepare  # type: ignore[method-assign]


def mean_colour(png: bytes) -> tuple[float, float, float]:
    with Image.open(io.BytesIO(png)) as image:
        red, green, blue = ImageStat.Stat(image.convert("RGB")).mean
    return red, green, blue


async def output_of(server: TestServer, client: AtelierClient, run: str) -> bytes:
    (url,) = [m["url"] for m in events_of(client, run) if m["type"] == "output"]
    async with aiohttp.ClientSession() as http, http.get(server.make_url(url)) as response:
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


async def img2img(client: AtelierClient, output: str = "model_free_img2img") -> str:
    return await start_run(client, "my cat, but brave", "passthrough", output=output, seed=7)


def uploaded(sim: ComfyUISimulator, run: str) -> Path:
    return sim.root / "input" / UPLOAD_SUBFOLDER / upload_name(run)


async def test_the_picture_is_uploaded_under_the_runs_name_and_shows_in_the_result(
    start_atelier: StartAtelier,
    ollama_sim: str,
    two_sims: tuple[ComfyUISimulator, ComfyUISimulator],
) -> None:
    only = two_sims[0]
    server = await atelier(start_atelier, ollama_sim, only)
    client = await connected(server)
    results: dict[tuple[int, int, int], tuple[float, float, float]] = {}
    for colour in (RED, BLUE):
        with_picture(server, picture(colour))
        run = await img2img(client)
        done = await run_done(client, run)
        assert done["status"] == "completed", done
        assert uploaded(only, run).read_bytes() == solid_png(colour)
        results[colour] = mean_colour(await output_of(server, client, run))
    red, blue = results[RED], results[BLUE]
    assert red[0] > red[2] + 60
    assert blue[2] > blue[0] + 60
    history = only.state.history
    loaded = [
        node["inputs"]["image"]
        for entry in history.values()
        for node in entry["prompt"][2].values()
        if node["class_type"] == "LoadImage"
    ]
    assert loaded == [f"{UPLOAD_SUBFOLDER}/{upload_name(r)}" for r in _runs(client)]
    await client.close()


def _runs(client: AtelierClient) -> list[str]:
    return [m["run"] for m in client.messages if m["type"] == "run.accepted"]


async def test_a_render_moved_to_another_instance_uploads_the_picture_there_again(
    start_atelier: StartAtelier,
    ollama_sim: str,
    two_sims: tuple[ComfyUISimulator, ComfyUISimulator],
) -> None:
    server = await atelier(start_atelier, ollama_sim, *two_sims)
    with_picture(server, picture(RED))
    holds = {each: each.hold_after(1) for each in two_sims}
    client = await connected(server)
    run = await img2img(client, "sdxl_img2img")
    waits = {asyncio.ensure_future(held.wait()): each for each, held in holds.items()}
    finished, pending = await asyncio.wait(waits, timeout=TIMEOUT, return_when="FIRST_COMPLETED")
    for task in pending:
        task.cancel()
    (first,) = (waits[task] for task in finished)
    (other,) = (each for each in two_sims if each is not first)
    other.executor.hold_at = None  # the retry there renders straight through
    assert uploaded(first, run).is_file()
    assert not uploaded(other, run).exists()
    await first.crash()

    done = await run_done(client, run)
    assert done["status"] == "completed", done
    assert uploaded(other, run).read_bytes() == solid_png(RED)
    record = _record(server, run)
    assert record["models"]["generation"].endswith(f"@img{two_sims.index(other)}")
    red, _, blue = mean_colour(await output_of(server, client, run))
    assert red > blue + 60
    await client.close()


def _record(server: TestServer, run: str) -> dict[str, Any]:
    records = pipeline_of(server).services.records
    loaded: dict[str, Any] = orjson.loads((records.run_dir(run) / RECORD_NAME).read_bytes())
    return loaded
