"""The vision check of stage 4, end to end over real sockets: the app on a real port, the
demo's ComfyUI simulator writing the vision marker into a picture whose prompt asks for it, and
the LLM simulator answering as a vision model from that marker."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from PIL import Image

from server.engine.safety_verdict import VERDICT_SCHEMA
from server.harness.demo import DemoResponder
from server.harness.llm_sim import OllamaSimulator
from server.harness.vision_marker import MARKER_WORD, UNSAFE_ANSWER, images_in, png_text
from server.wiring import load_definitions
from tests.conftest import make_settings
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    demo_of,
    events_of,
    pipeline_of,
    record_of,
    run_done,
    stage_trail,
    start_run,
)

UNSIGHTLY = f"an {MARKER_WORD} fox in the snow"


def checking_index(events: Sequence[dict[str, object]]) -> int:
    return next(
        i
        for i, m in enumerate(events)
        if m["type"] == "stage" and m["stage"] == "generation" and m["status"] == "checking"
    )


async def media_status(server: TestServer, url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(server.make_url(url)) as response:
        return response.status


async def test_a_harmless_picture_is_checked_then_shown(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="kids")
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    done = await run_done(client, run)
    assert done["status"] == "completed"
    trail = stage_trail(client, run)
    assert trail[-3:] == [
        ("generation", "started"),
        ("generation", "checking"),
        ("generation", "done"),
    ]
    events = events_of(client, run)
    outputs = [i for i, m in enumerate(events) if m["type"] == "output"]
    assert len(outputs) == 1
    assert outputs[0] > checking_index(events)  # shown only after the check
    url = str(events[outputs[0]]["url"])
    assert await media_status(server, url) == 200
    # The vision model saw exactly the stored picture, in Ollama's `images`.
    chat = demo_of(server).llm.last_chat
    assert chat is not None
    [picture] = images_in(chat["messages"])
    stored = pipeline_dir(server, run) / url.rsplit("/", 1)[-1]
    assert picture == stored.read_bytes()
    assert chat["model"] == "qwen2.5vl:3b"
    record = record_of(server, run)
    verdict = record["verdicts"]["generation"]
    assert verdict["safe"] is True
    assert verdict["read_as"] == "json"  # the structured verdict, as the text checks ask it
    assert chat["format"] == VERDICT_SCHEMA
    assert record["models"]["generation"].endswith("@demo-comfyui")  # the renderer, not the check
    assert_nothing_left(server)


def pipeline_dir(server: TestServer, run: str) -> Path:
    return pipeline_of(server).services.records.run_dir(run)


async def test_a_marked_picture_is_blocked_and_never_sent(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="kids")
    client = await connected(server)
    run = await start_run(client, UNSIGHTLY, lang="de")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert done["reason"].startswith("Dieses Bild ist für diesen Workshop nicht passend")
    assert MARKER_WORD not in done["reason"]  # the model's words go to the teacher only
    assert stage_trail(client, run)[-2:] == [("generation", "checking"), ("generation", "blocked")]
    assert not [m for m in events_of(client, run) if m["type"] == "output"]
    record = record_of(server, run)
    verdict = record["verdicts"]["generation"]
    assert verdict["safe"] is False
    assert verdict["reason"] == UNSAFE_ANSWER.removeprefix("UNSAFE: ").rstrip(".")
    assert record["outputs"] == []
    assert list(pipeline_dir(server, run).glob("*.png")) == []  # nothing left to serve
    assert_nothing_left(server)


async def test_the_simulator_marks_only_pictures_that_ask_for_it(
    start_pipeline: StartPipeline,
) -> None:
    """The marker is in the image itself: what the vision mode's verdict rests on."""
    server = await start_pipeline(safety_level="adult")  # no check: the picture is served
    client = await connected(server)
    marked = await start_run(client, UNSIGHTLY)
    plain = await start_run(client, "a red fox in the snow")
    for run in (marked, plain):
        assert (await run_done(client, run))["status"] == "completed"
    found = {}
    for run in (marked, plain):
        [picture] = pipeline_dir(server, run).glob("*.png")
        found[run] = png_text(picture.read_bytes()).get("atelier-vision")
    assert found == {marked: "unsafe", plain: None}
    assert "generation" not in record_of(server, marked)["verdicts"]
    assert ("generation", "checking") not in stage_trail(client, marked)


@dataclass
class DownAfterStageThree(DemoResponder):
    """Answers every text step, then drops every later chat: the vision model is gone."""

    sim: list[OllamaSimulator] = field(default_factory=list)

    def __call__(self, messages: Sequence[dict[str, str]]) -> str:
        if self.is_prompt("safety_output", messages[0]["content"]):
            self.sim[0].faults.drop_connections = True
        return super().__call__(messages)


async def test_the_picture_is_blocked_when_the_vision_model_is_down(
    start_pipeline: StartPipeline,
) -> None:
    catalog, _ = load_definitions(make_settings())
    responder = DownAfterStageThree(catalog)
    server = await start_pipeline(safety_level="youth", responder=responder)
    responder.sim.append(demo_of(server).llm)
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow", lang="en")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert done["reason"].startswith("The picture could not be checked right now")
    assert stage_trail(client, run)[-2:] == [("generation", "checking"), ("generation", "blocked")]
    assert not [m for m in events_of(client, run) if m["type"] == "output"]
    verdict = record_of(server, run)["verdicts"]["generation"]
    assert verdict["safe"] is False
    assert verdict["fail_closed"] is True
    assert demo_of(server).llm.counters.dropped >= 1
    assert_nothing_left(server)


@dataclass
class Mumbler(DemoResponder):
    """A vision model that answers, but not with a verdict."""

    def __call__(self, messages: Sequence[dict[str, str]]) -> str:
        if images_in(messages):
            return "It is a nice picture of a fox, I think it is mostly fine."
        return super().__call__(messages)


async def test_an_unclear_answer_blocks_the_picture(start_pipeline: StartPipeline) -> None:
    catalog, _ = load_definitions(make_settings())
    server = await start_pipeline(safety_level="kids", responder=Mumbler(catalog))
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert not [m for m in events_of(client, run) if m["type"] == "output"]
    verdict = record_of(server, run)["verdicts"]["generation"]
    assert verdict == {
        "safe": False,
        "read_as": "none",
        "answer": "It is a nice picture of a fox, I think it is mostly fine.",
    }


async def test_a_picture_over_the_size_bound_is_blocked_unchecked(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids", vision_max_image_bytes=1024)
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert done["reason"].startswith("The picture could not be checked right now")
    verdict = record_of(server, run)["verdicts"]["generation"]
    assert verdict["fail_closed"] is True
    assert "vision_max_image_bytes" in verdict["error"]
    last = demo_of(server).llm.last_chat  # stage 3's verdict: the picture was never sent
    assert last is not None
    assert not images_in(last["messages"])


async def test_previews_at_kids_are_only_a_coarse_mosaic(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="kids")
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    assert (await run_done(client, run))["status"] == "completed"
    previews = [m for m in events_of(client, run) if m["type"] == "preview"]
    assert previews
    for message in previews:
        assert message["mime"] == "image/png"
        assert_mosaic(base64.b64decode(message["data"]))


async def test_previews_at_adult_are_sent_as_rendered(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="adult")
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    assert (await run_done(client, run))["status"] == "completed"
    previews = [m for m in events_of(client, run) if m["type"] == "preview"]
    assert previews
    sides = {image_side(base64.b64decode(m["data"])) for m in previews}
    assert sides == {32}  # the simulator's own preview size, untouched


def image_side(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        return image.width


def assert_mosaic(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (64, 64)
        rgb = image.convert("RGB")
        for by in range(4):
            for bx in range(4):
                block = {
                    rgb.getpixel((bx * 16 + x, by * 16 + y)) for x in range(16) for y in range(16)
                }
                assert len(block) == 1  # each of the 4 x 4 blocks is one colour
