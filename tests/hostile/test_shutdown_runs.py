"""SIGTERM with runs in flight: every unfinished run gets its `run.done` before the close.

A real `python -m server` process (demo backends at their demo speed) takes ten runs from one
socket: two render while eight wait for the image server, which takes seconds per picture.
Once the first render reports progress the process gets SIGTERM; the socket must then read
one `run.done` per run, each completed or ended `server_restarting` with a sentence for the
student, and only then the close (1001, going away).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from server.engine.stages import texts
from server.protocol import CloseCode
from tests.integration.test_server_process import free_port, run_server, server_env
from tests.pipeline_support import StartPipeline, connected, pipeline_of

RUNS = 10


async def until_ready(http: aiohttp.ClientSession, port: int) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as ready:
                    if ready.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)  # not listening yet: start-up is still running


async def start_runs(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """Hello, then RUNS run.starts; everything read until the first render's progress."""
    await ws.send_str('{"type": "hello", "protocol": 1}')
    start = {"type": "run.start", "prompt": "a fox in the snow", "interception": "bauhaus"}
    for n in range(RUNS):
        await ws.send_str(orjson.dumps({**start, "ref": f"c-{n}"}).decode())
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["type"] != "progress":
        seen.append(await ws.receive_json(timeout=60))
        assert seen[-1]["type"] != "error", seen[-1]
    return seen


async def read_until_close(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    rest = []
    async with asyncio.timeout(60):
        while (frame := await ws.receive()).type is aiohttp.WSMsgType.TEXT:
            rest.append(orjson.loads(frame.data))
    assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), frame
    return rest


async def test_sigterm_ends_every_unfinished_run_with_server_restarting(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(ATELIER_DATA_DIR=str(tmp_path), ATELIER_SAFETY_LEVEL="adult")
    proc = await run_server(env, "--port", str(port), "--max-runs-in-flight", "2")
    signalled = False  # a second SIGTERM would end the process at once
    try:
        async with aiohttp.ClientSession() as http:
            await until_ready(http, port)
            async with http.ws_connect(f"ws://127.0.0.1:{port}/ws") as ws:
                before = await start_runs(ws)
                proc.send_signal(signal.SIGTERM)
                signalled = True
                after = await read_until_close(ws)
                close_code = ws.close_code
    finally:
        if not signalled:
            proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            await proc.communicate()
    assert proc.returncode == 0
    accepted = {m["run"] for m in before + after if m["type"] == "run.accepted"}
    assert len(accepted) == RUNS
    done = [m for m in before + after if m["type"] == "run.done"]
    assert sorted(m["run"] for m in done) == sorted(accepted)  # one each, none lost
    restarted = [m for m in done if m.get("code") == "server_restarting"]
    assert len(restarted) >= RUNS - 2  # at most the two rendering could have finished
    for message in restarted:
        assert message["status"] == "failed"
        assert message["reason"] == texts.text("server_restarting", "en")
    assert all(m["status"] == "completed" for m in done if m not in restarted)
    assert close_code == CloseCode.GOING_AWAY


async def test_a_run_started_once_shutdown_began_is_refused(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="adult")
    client = await connected(server)
    assert await pipeline_of(server).shutdown() == set()  # no run was unfinished
    await client.send({"type": "run.start", "prompt": "a fox", "interception": "bauhaus"})
    refused = await client.wait_for(lambda m: m["type"] in ("error", "run.accepted"))
    assert (refused["type"], refused["code"]) == ("error", "unavailable")
    await client.close()
