"""Shared helpers for the ComfyUI tests: transcripts, a simulator fixture, a WS recorder."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.engine.comfyui.frames import PreviewFrame, parse_binary
from server.harness.comfyui_sim import ComfyUISimulator, ExecConfig, SimConfig

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "comfyui"
WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
TIMEOUT = 10.0


def transcript(name: str) -> list[dict[str, Any]]:
    with (REFERENCE / name).open() as handle:
        return [json.loads(line) for line in handle]


def ws_messages(lines: list[dict[str, Any]], ws: str) -> list[dict[str, Any]]:
    return [line["msg"] for line in lines if line["kind"] == "ws" and line["ws"] == ws]


def prompt_ids(lines: list[dict[str, Any]]) -> list[str]:
    return [
        line["response"]["body"]["prompt_id"]
        for line in lines
        if line["kind"] == "http"
        and line["request"]["path"] == "/prompt"
        and line["request"]["method"] == "POST"
        and line["response"]["status"] == 200
    ]


def posted(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The POST /prompt exchanges of a transcript, in order."""
    return [
        line
        for line in lines
        if line["kind"] == "http"
        and line["request"]["path"] == "/prompt"
        and line["request"]["method"] == "POST"
    ]


def timeline(lines: list[dict[str, Any]], ws: str) -> list[str]:
    """The transcript's counterpart of `Recorder.timeline()`."""
    out: list[str] = []
    for line in lines:
        if line.get("ws") != ws:
            continue
        if line["kind"] == "ws":
            out.extend(shape([line["msg"]]))
        elif line["kind"] == "ws_bin":
            out.append(f"bin:{line['frame']['event_type']}")
    return out


def shape(messages: list[dict[str, Any]], prompt_id: str | None = None) -> list[str]:
    """Message types (with the node for `executing`), for one prompt or all."""
    out = []
    for message in messages:
        data = message.get("data", {})
        if prompt_id is not None and data.get("prompt_id") not in (prompt_id, None):
            continue
        if prompt_id is not None and message["type"] == "status":
            continue
        kind = message["type"]
        if kind == "executing":
            kind += f":{data.get('node')}"
        out.append(kind)
    return out


@dataclass
class Recorder:
    """A WebSocket client that records text messages and decoded binary frames, in order."""

    ws: aiohttp.ClientWebSocketResponse
    items: list[dict[str, Any] | PreviewFrame] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def texts(self) -> list[dict[str, Any]]:
        return [item for item in self.items if isinstance(item, dict)]

    def timeline(self) -> list[str]:
        """Text message types (executing with its node) and `bin:<event>` for frames."""
        out = []
        for item in self.items:
            if isinstance(item, PreviewFrame):
                out.append(f"bin:{item.event_type}")
            else:
                out.extend(shape([item]))
        return out

    async def read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.items.append(json.loads(message.data))
            elif message.type == aiohttp.WSMsgType.BINARY:
                frame = parse_binary(message.data)
                assert frame is not None
                self.items.append(frame)
            self.changed.set()

    async def wait_for(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The first recorded message of `kind` whose data has `fields` (bounded wait)."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                for item in self.texts:
                    data = item.get("data", {})
                    if item["type"] == kind and all(data.get(k) == v for k, v in fields.items()):
                        return item
                self.changed.clear()
                await self.changed.wait()

    async def wait_count(self, kind: str, count: int) -> None:
        async with asyncio.timeout(TIMEOUT):
            while sum(1 for item in self.texts if item["type"] == kind) < count:
                self.changed.clear()
                await self.changed.wait()

    async def wait_done(self, prompt_id: str) -> None:
        await self.wait_for("executing", node=None, prompt_id=prompt_id)


@dataclass
class SimHarness:
    sim: ComfyUISimulator
    session: aiohttp.ClientSession
    recorders: list[Recorder] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.sim.url

    async def record(self, client_id: str | None = None, flags: bool = False) -> Recorder:
        params = {"clientId": client_id} if client_id else {}
        ws = await self.session.ws_connect(self.url + "/ws", params=params)
        recorder = Recorder(ws)
        if flags:
            await ws.send_str(
                json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}})
            )
        recorder.task = asyncio.create_task(recorder.read())
        self.recorders.append(recorder)
        await recorder.wait_for("status")
        if flags:
            await recorder.wait_for("feature_flags")
        return recorder

    async def post(self, path: str, payload: Any) -> tuple[int, Any]:
        async with self.session.post(self.url + path, json=payload) as response:
            body = await response.read()
            try:
                return response.status, json.loads(body) if body else None
            except ValueError:
                return response.status, body.decode()

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        async with self.session.get(self.url + path, params=params) as response:
            body = await response.read()
            is_json = "json" in response.headers.get("Content-Type", "")
            return response.status, json.loads(body) if is_json else body

    async def close(self) -> None:
        for recorder in self.recorders:
            await recorder.ws.close()
            if recorder.task is not None:
                await asyncio.gather(recorder.task, return_exceptions=True)
        await self.session.close()
        await self.sim.close()


def sim_config(
    step_time: float = 0.005, steps: int | None = None, tmp: Path | None = None, **kwargs: Any
) -> SimConfig:
    return SimConfig(execution=ExecConfig(step_time=step_time, steps=steps, **kwargs), root=tmp)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[SimHarness]:
    sim = ComfyUISimulator(sim_config(tmp=tmp_path / "sim"))
    await sim.start()
    h = SimHarness(sim, aiohttp.ClientSession())
    try:
        yield h
    finally:
        await h.close()
