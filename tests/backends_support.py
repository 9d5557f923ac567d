"""Simulator processes on free 127.0.0.1 ports, and Atelier apps pointed at them.

Every process is started and killed by the test (the fixture kills whatever is left), so no
simulator outlives its test. Waits are bounded; readiness is the simulator answering HTTP.
Used as a plugin (`pytest_plugins`) by the backends tests; it holds no assertions, so
PYTEST_DONT_REWRITE spares the "already imported" warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.engine.backends.registry import Backends
from server.harness.client import AtelierClient
from server.harness.comfyui_sim import ComfyUISimulator, SimConfig
from server.harness.comfyui_sim.executor import ExecConfig
from server.harness.llm_sim.common import SimSettings
from server.harness.llm_sim.ollama import OllamaSimulator
from tests.conftest import MONITOR_TOKEN, make_settings
from tests.pipeline_support import connected, pipeline_of, start_run, until

#: The path each simulator answers when it is up.
READY_PATH = {"ollama": "/api/version", "openai": "/v1/models", "comfyui": "/system_stats"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sim_command(kind: str, port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "server.harness", kind, "--port", str(port), *args]


class SimProcess:
    """One `python -m server.harness KIND` process."""

    def __init__(self, kind: str, port: int, process: asyncio.subprocess.Process) -> None:
        self.kind = kind
        self.port = port
        self.process = process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, timeout: float = 20.0) -> None:
        await wait_answering(self.url + READY_PATH[self.kind], timeout, self.process)

    def kill(self) -> None:
        """The crash: SIGKILL, no goodbye."""
        if self.process.returncode is None:
            self.process.kill()

    async def wait(self) -> int:
        return await self.process.wait()


async def wait_answering(
    url: str, timeout: float, process: asyncio.subprocess.Process | None = None
) -> None:
    """Poll `url` until it answers 200 (there is no event to wait on across processes)."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while True:
            if process is not None and process.returncode is not None:
                raise RuntimeError(f"{url}: the process exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)


Spawn = Callable[..., Awaitable[SimProcess]]


@pytest.fixture
async def spawn(tmp_path: Path) -> AsyncIterator[Spawn]:
    """Start simulator processes (ready when they answer); all are killed at teardown."""
    processes: list[SimProcess] = []

    async def start(kind: str, *args: str) -> SimProcess:
        port = free_port()
        log = (tmp_path / f"sim-{kind}-{port}.log").open("wb")
        with log:
            process = await asyncio.create_subprocess_exec(
                *sim_command(kind, port, *args),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        sim = SimProcess(kind, port, process)
        processes.append(sim)
        await sim.ready()
        return sim

    try:
        yield start
    finally:
        for sim in processes:
            sim.kill()
        for sim in processes:
            await sim.wait()


@pytest.fixture
async def comfyui_sim() -> AsyncIterator[str]:
    """A fast in-process ComfyUI for tests whose subject is the LLM side."""
    sim = ComfyUISimulator(SimConfig(execution=ExecConfig(step_time=0.002, steps=3)))
    port = await sim.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await sim.close()


@pytest.fixture
async def ollama_sim() -> AsyncIterator[str]:
    """A fast in-process Ollama for tests whose subject is the ComfyUI side."""
    sim = OllamaSimulator(SimSettings(tokens_per_second=0, first_token_delay=0))
    url = await sim.start("127.0.0.1", 0)
    try:
        yield url
    finally:
        await sim.stop()


#: Settings that make lifecycle tests quick: frequent checks, no LLM safety verdicts.
FAST_LIFECYCLE: dict[str, Any] = {
    "safety_level": "adult",
    "health_interval": 0.1,
    "health_timeout": 2.0,
    "demo": "off",
}

StartAtelier = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def start_atelier(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]], tmp_path: Path
) -> StartAtelier:
    """The real app with the given `llm=[...]` and `comfyui=[...]` backends."""

    async def start(**overrides: Any) -> TestServer:
        # The monitor token lets a test read /api/status and /metrics (MONITOR_HEADERS).
        base = {**FAST_LIFECYCLE, "data_dir": tmp_path / "data", "monitor_token": MONITOR_TOKEN}
        settings = make_settings(**{**base, **overrides})
        return await aiohttp_server(create_app(settings))

    return start


def backends_of(server: TestServer) -> Backends:
    return pipeline_of(server).services.backends


async def state_becomes(server: TestServer, pool: str, state: str, timeout: float = 10) -> None:
    backends = backends_of(server)
    instance = next(i for i in backends.all_instances() if i.pool == pool)
    await until(lambda: instance.health.state.value == state, timeout)


async def llm_killed_mid_stream(
    spawn: Spawn, start_atelier: StartAtelier, comfyui_sim: str
) -> tuple[TestServer, AtelierClient, str, SimProcess]:
    """A student's run streaming from the only LLM instance ("only"), which is then killed."""
    llm = await spawn("ollama", "--tokens-per-second", "20", "--answer-repeat", "30")
    server = await start_atelier(
        llm=[LLMBackendConfig(name="only", url=llm.url)],
        comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
    )
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    await client.expect(lambda m: m["type"] == "token" and m["run"] == run)
    llm.kill()
    return server, client, run, llm
