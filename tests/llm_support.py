"""Helpers for the LLM tests: running simulators on real ports, clients pointed at them, and
reading the kernel's socket table to find connections left in CLOSE_WAIT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from server.engine.llm import (
    BaseLLMClient,
    ChatMessage,
    ChatRequest,
    LLMInstanceConfig,
    create_llm_client,
)
from server.harness.llm_sim import OllamaSimulator, OpenAISimulator, SimSettings, SimulatorBase

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
DIALECTS = ("ollama", "openai")
TCP_CLOSE_WAIT = "08"


def make_simulator(dialect: str, **settings: Any) -> SimulatorBase:
    sim_settings = SimSettings(**settings)
    return OllamaSimulator(sim_settings) if dialect == "ollama" else OpenAISimulator(sim_settings)


@asynccontextmanager
async def running(
    dialect: str, *, client: dict[str, Any] | None = None, **settings: Any
) -> AsyncIterator[tuple[SimulatorBase, BaseLLMClient]]:
    """A simulator on a real 127.0.0.1 port and a client for it; both closed afterwards."""
    sim = make_simulator(dialect, **settings)
    url = await sim.start()
    config = LLMInstanceConfig(name="test", url=url, dialect=dialect, **(client or {}))
    llm = create_llm_client(config)
    try:
        yield sim, llm
    finally:
        await llm.close()
        await sim.stop()


def chat(text: str = "a fox in the snow", model: str = "llama3.2", **kw: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage(role="user", content=text),), **kw)


def close_wait_sockets(ports: set[int]) -> list[str]:
    """Sockets in CLOSE_WAIT whose local or remote port is one of `ports` (IPv4 and IPv6)."""
    found: list[str] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            endpoints = {int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)}
            if state == TCP_CLOSE_WAIT and endpoints & ports:
                found.append(line.strip())
    return found


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait, yielding to the loop, until `predicate()` holds: for state that another task or
    the kernel settles (a socket's FIN); bounded, and it fails loudly."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110  (no event exists for kernel socket states)
            await asyncio.sleep(0.005)
