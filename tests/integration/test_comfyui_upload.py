"""`ComfyUIClient.upload_image` against ComfyUI's answers as captured (upload.jsonl: the status,
the content type and the body, replayed byte for byte) and against the simulator's input folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.engine.comfyui import ComfyUIClient, ComfyUIConfig
from server.engine.comfyui.upload import BLANK_PNG, UploadedImage
from server.engine.errors import BackendProtocolError, BackendRejected
from server.harness.comfyui_sim import ComfyUISimulator
from server.harness.comfyui_sim.png import gradient_png
from tests.comfyui_support import sim_config, transcript

IMAGE = gradient_png(4, 4, "pupil")


def captured_answers() -> list[dict[str, Any]]:
    return [
        line["response"]
        for line in transcript("upload.jsonl")
        if line["kind"] == "http" and line["request"]["path"] == "/upload/image"
    ]


class Replay:
    """A server answering each `POST /upload/image` with the next captured answer, and
    keeping the form fields it was sent."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers: Iterator[dict[str, Any]] = iter(answers)
        self.forms: list[dict[str, str]] = []
        self.images: list[bytes] = []

    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.forms.append(
            {
                key: value.filename if isinstance(value, web.FileField) else str(value)
                for key, value in form.items()
            }
        )
        image = form.get("image")
        self.images.append(image.file.read() if isinstance(image, web.FileField) else b"")
        answer = next(self.answers)
        body = orjson.dumps(answer["body"]) if "body" in answer else b""
        kind = answer["content_type"].split(";")[0] or None
        return web.Response(status=answer["status"], body=body, content_type=kind)


async def replay_client(answers: list[dict[str, Any]]) -> tuple[ComfyUIClient, Replay, TestServer]:
    replay = Replay(answers)
    app = web.Application()
    app.router.add_post("/upload/image", replay.upload)
    server = TestServer(app)
    await server.start_server()
    client = ComfyUIClient(ComfyUIConfig(url=str(server.make_url(""))))
    await client.start()
    return client, replay, server


@pytest.fixture
async def replayed() -> AsyncIterator[tuple[ComfyUIClient, Replay]]:
    client, replay, server = await replay_client(captured_answers())
    yield client, replay
    await client.close()
    await server.close()


async def test_the_captured_answers_become_names_and_refusals(
    replayed: tuple[ComfyUIClient, Replay],
) -> None:
    client, replay = replayed
    got = [
        (await client.upload_image(IMAGE, "capture_upload.png", subfolder="captures")).reference
        for _ in range(3)
    ]
    assert got == [
        "captures/capture_upload.png",
        "captures/capture_upload.png",
        "captures/capture_upload (1).png",  # renamed by ComfyUI: the graph must use this one
    ]
    root = await client.upload_image(IMAGE, "capture_upload_root.png")
    assert (root.name, root.subfolder, root.type, root.reference) == (
        "capture_upload_root.png",
        "",
        "input",
        "capture_upload_root.png",
    )
    for _ in range(2):  # missing field, path escape: 400 with an empty body
        with pytest.raises(BackendRejected, match=r"refused the upload \(400\)"):
            await client.upload_image(IMAGE, "x.png")
    assert replay.forms[0] == {
        "image": "capture_upload.png",
        "type": "input",
        "subfolder": "captures",
        "overwrite": "false",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"name": "../../etc/passwd", "subfolder": "", "type": "input"},
        {"name": "ok.png", "subfolder": "../up", "type": "input"},
        {"name": "ok.png", "subfolder": "", "type": "output"},
        {"subfolder": "", "type": "input"},
        ["ok.png"],
    ],
)
async def test_an_answer_that_is_not_a_safe_input_name_is_a_protocol_error(body: object) -> None:
    answer = {"status": 200, "content_type": "application/json; charset=utf-8", "body": body}
    client, _, server = await replay_client([answer])
    try:
        with pytest.raises(BackendProtocolError):
            await client.upload_image(IMAGE, "ok.png")
    finally:
        await client.close()
        await server.close()


async def test_the_simulator_keeps_a_name_for_the_same_bytes_and_renames_other_bytes(
    tmp_path: Path,
) -> None:
    sim = ComfyUISimulator(sim_config(tmp=tmp_path / "sim"))
    await sim.start()
    client = ComfyUIClient(ComfyUIConfig(url=sim.url))
    await client.start()
    try:
        first = await client.upload_image(IMAGE, "atelier-r-1.png", subfolder="atelier")
        again = await client.upload_image(IMAGE, "atelier-r-1.png", subfolder="atelier")
        other = await client.upload_image(
            gradient_png(4, 4, "x"), "atelier-r-1.png", subfolder="atelier"
        )
    finally:
        await client.close()
        await sim.close()
    assert first.reference == again.reference == "atelier/atelier-r-1.png"
    assert other.reference == "atelier/atelier-r-1 (1).png"


async def test_forgetting_an_upload_overwrites_it_blank_and_a_refusal_is_only_logged() -> None:
    ok = {"status": 200, "content_type": "application/json; charset=utf-8"}
    answers = [
        {**ok, "body": {"name": "atelier-r-1 (1).png", "subfolder": "atelier", "type": "input"}},
        {"status": 400, "content_type": "", "len": 0},
    ]
    client, replay, server = await replay_client(answers)
    try:
        uploaded = UploadedImage("atelier-r-1 (1).png", "atelier", "input")
        await client.forget_upload(uploaded)
        await client.forget_upload(uploaded)  # refused: nothing raised, nothing waits
    finally:
        await client.close()
        await server.close()
    assert replay.images == [BLANK_PNG, BLANK_PNG]
    assert replay.forms[0] == {
        "image": "atelier-r-1 (1).png",
        "type": "input",
        "subfolder": "atelier",
        "overwrite": "true",
    }
