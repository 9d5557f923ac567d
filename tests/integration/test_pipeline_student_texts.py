"""Nothing a student's socket receives names a server's address, port or file path.

Backends fail for real here (processes killed, streams that error or stall, a start command
that exits, junk sent by the client), and every text in every message the client got is
searched: `error.message`, `stage` and `run.done` reasons and details, `backend` events. The
technical account is still there for the operator: in the run record and `/api/status`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.harness.client import AtelierClient
from tests.backends_support import (
    Spawn,
    StartAtelier,
    free_port,
    llm_killed_mid_stream,
    state_becomes,
)
from tests.conftest import MONITOR_HEADERS
from tests.pipeline_support import connected, record_of, run_done, start_run

pytest_plugins = ["tests.backends_support"]

FORBIDDEN = ("127.0.0.1", "localhost", "http://", "/tmp", ".log", "Traceback")


def texts_in(value: object, key: str = "") -> Iterator[str]:
    """Every string in a decoded message, except a preview's base64 image."""
    if isinstance(value, str) and key != "data":
        yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from texts_in(name)
            yield from texts_in(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from texts_in(item, key)


def assert_no_server_details(client: AtelierClient, *ports: int) -> None:
    forbidden = (*FORBIDDEN, *(str(port) for port in ports))
    leaks = [
        (message["type"], text)
        for message in client.messages
        for text in texts_in(message)
        if any(word in text for word in forbidden)
    ]
    assert leaks == []


async def status_messages(server: TestServer) -> str:
    async with ClientSession() as http:
        url = server.make_url("/api/status")
        return await (await http.get(url, headers=MONITOR_HEADERS)).text()


async def test_an_llm_killed_mid_stream(
    spawn: Spawn, start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    server, client, run, llm = await llm_killed_mid_stream(spawn, start_atelier, comfyui_sim)
    assert (await run_done(client, run))["status"] == "failed"

    assert_no_server_details(client, llm.port)
    assert "only stopped answering" in record_of(server, run)["error"]  # for the operator
    await state_becomes(server, "llm:only", "down")
    assert "127.0.0.1" in await status_messages(server)
    await client.close()


async def test_llm_streams_that_break_off_with_an_error_or_stall(
    spawn: Spawn, start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    failing = await spawn("ollama", "--tokens-per-second", "0", "--fail-after", "1")
    stalling = await spawn("ollama", "--tokens-per-second", "0", "--hang-after", "1")
    image = ComfyUIBackendConfig(name="img", url=comfyui_sim)
    for llm, fields in ((failing, {}), (stalling, {"idle_timeout": 0.3})):
        server = await start_atelier(
            llm=[LLMBackendConfig(name="only", url=llm.url, **fields)], comfyui=[image]
        )
        client = await connected(server)
        done = await run_done(client, await start_run(client, "a red fox in the snow"))
        assert done["status"] == "failed"
        assert_no_server_details(client, llm.port)
        await client.close()
        await server.close()


async def test_an_image_server_killed_mid_render(
    spawn: Spawn, start_atelier: StartAtelier, ollama_sim: str
) -> None:
    comfy = await spawn("comfyui", "--step-time", "0.2", "--steps", "50")
    server = await start_atelier(
        llm=[LLMBackendConfig(name="llm", url=ollama_sim)],
        comfyui=[ComfyUIBackendConfig(name="img", url=comfy.url)],
    )
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    await client.expect(lambda m: m["type"] == "progress" and m["run"] == run, timeout=30)
    comfy.kill()
    done = await run_done(client, run, timeout=60)
    assert done["status"] == "failed"
    assert [m["reason"] for m in client.of_type("backend")][-1:] == ["unreachable"]
    assert_no_server_details(client, comfy.port, free_port_of(ollama_sim))
    await client.close()


async def test_a_start_command_that_fails_and_a_client_that_sends_junk(
    start_atelier: StartAtelier, ollama_sim: str, tmp_path: Path
) -> None:
    port = free_port()
    comfy = ComfyUIBackendConfig(
        name="img",
        url=f"http://127.0.0.1:{port}",
        start_command=(sys.executable, "-c", "import sys; print('no GPU'); sys.exit(3)"),
        log_file=tmp_path / "comfy-bad.log",
    )
    server = await start_atelier(
        llm=[LLMBackendConfig(name="llm", url=ollama_sim)], comfyui=[comfy]
    )
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    assert (await run_done(client, run))["status"] == "failed"
    assert [m["reason"] for m in client.of_type("backend")] == ["starting", "start_failed"]
    for junk in ('{"type": []}', "[1, {}]", '{"type": "run.cancel", "run": {"a": 1}}'):
        await client.send_raw(junk)
        await client.expect(lambda m: m["type"] == "error")
    await client.send({"type": "run.start", "prompt": "x", "interception": "no-such-thing"})
    await client.expect(lambda m: m["type"] == "error" and m["code"] == "unknown_config")

    assert_no_server_details(client, port, free_port_of(ollama_sim))
    assert "comfy-bad.log" in record_of(server, run)["error"]
    await client.close()


def free_port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])
