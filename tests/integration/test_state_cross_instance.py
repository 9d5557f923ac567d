"""Two Atelier processes on one Redis (`state = "redis"`) and one signing key: a guest's
client finishes a run on instance A, leaves, and resumes on instance B with exactly the events
it missed (none lost, none twice, `seq` continuous); then a new run on B works, and when B
stops (SIGTERM) the client resumes on A again."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientError, ClientSession

from server.harness.client import AtelierClient, Message
from tests.integration.test_server_process import free_port, run_server, server_env
from tests.state_support import redis_server, redis_url

__all__ = ["redis_server", "redis_url"]  # fixtures

RUN = {"type": "run.start", "prompt": "a fox in the snow", "interception": "bauhaus"}


async def ready(port: int) -> None:
    async with ClientSession() as http, asyncio.timeout(60):
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status == 200:
                    return
            except ClientError:
                await asyncio.sleep(0.05)  # not listening yet: start-up is still running


Instances = tuple[tuple[int, int], list[asyncio.subprocess.Process]]


@pytest.fixture
async def instances(redis_url: str, tmp_path: Path) -> AsyncIterator[Instances]:
    """Instances A and B (demo backends each): their ports and processes."""
    ports = free_port(), free_port()
    procs = []
    for name, port in zip("ab", ports, strict=True):
        env = server_env(
            ATELIER_DATA_DIR=str(tmp_path / name),
            ATELIER_STATE="redis",
            ATELIER_REDIS_URL=redis_url,
            ATELIER_SECRET_KEY_FILE=str(tmp_path / "secret.key"),  # guests' cookies: both
            ATELIER_LOG_LEVEL="warning",
        )
        procs.append(await run_server(env, "--port", str(port)))
    try:
        await asyncio.gather(*(ready(port) for port in ports))
        yield ports, procs
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            for proc in procs:
                await proc.communicate()


async def one_run(client: AtelierClient) -> Message:
    await client.send(RUN)
    accepted = await client.wait_for(lambda m: m["type"] == "run.accepted", timeout=30)
    await client.wait_for(lambda m: m["type"] == "run.done" and m["run"] == accepted["run"], 60)
    return accepted


async def test_a_session_resumes_on_another_instance_with_exactly_what_it_missed(
    instances: Instances,
) -> None:
    (a, b), procs = instances
    async with ClientSession() as http:  # a guest cookie, as the page gets one
        cookie = (await http.get(f"http://127.0.0.1:{a}/api/me")).cookies["atelier_id"].value
    headers = {"Cookie": f"atelier_id={cookie}"}
    client = AtelierClient(f"ws://127.0.0.1:{a}/ws", headers=headers)
    first = await client.connect()
    assert first["you"]["role"] == "student"
    accepted = await one_run(client)
    seen = list(client.messages)
    await client.close()
    # It missed everything after run.accepted (a tunnel that dropped them, say).
    client.last_seq = accepted["seq"]
    client.messages = [m for m in seen if m["seq"] <= accepted["seq"]]
    client.url = f"ws://127.0.0.1:{b}/ws"
    again = await client.connect()
    assert again["resumed"] is True
    assert again["session"] == first["session"]
    assert client.messages[:-1] == seen  # the missed ones, as A sent them, then welcome
    assert client.replayed == len(seen) - seen.index(accepted) - 1
    assert again["seq"] == seen[-1]["seq"] + 1
    await one_run(client)  # a new run, on B
    assert len(client.of_type("run.done")) == 2
    # B stops: it hands the session over (kept in Redis) and closes the socket (1001).
    procs[1].send_signal(signal.SIGTERM)
    _, closed = await client.read_until_closed(timeout=30)
    assert closed.code == 1001
    client.url = f"ws://127.0.0.1:{a}/ws"
    back = await client.connect()
    assert back["resumed"] is True
    assert back["session"] == first["session"]
    assert (client.gaps, client.duplicates) == (0, 0)
    await client.close()
