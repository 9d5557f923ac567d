"""What the real-LLM tests read off a client, a real server and the app: the tokens of a stage,
the server's own log and CPU time, the states a backend went through."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.harness.client import AtelierClient, Message
from tests.pipeline_support import events_of
from tests.real.llama_server import LlamaServer

#: What llama-cpp-python prints when the client of a streaming answer went away and it
#: stopped generating (`llama_cpp/server/app.py`, `get_event_publisher`).
SERVER_SAW_DISCONNECT = "Disconnected from client (via refresh/close)"
#: The server counts as idle when its CPU time grows by less than IDLE_CPU seconds over
#: IDLE_WINDOW seconds: generating costs it one thread's worth (about IDLE_WINDOW seconds),
#: idle uvicorn wakes ten times a second for microseconds.
IDLE_WINDOW = 1.0
IDLE_CPU = 0.05
#: Failure deadlines of the waits below (they return as soon as their condition holds).
SERVER_WAIT = 30.0


def token_messages(client: AtelierClient, run: str, stage: str = "interception") -> list[Message]:
    return [m for m in events_of(client, run) if m["type"] == "token" and m["stage"] == stage]


def stage_text(client: AtelierClient, run: str, stage: str = "interception") -> str:
    """The stage's streamed text as the browser assembles it (one stream, never restarted)."""
    tokens = token_messages(client, run, stage)
    assert not any(m.get("clear") for m in tokens)
    return "".join(str(m["text"]) for m in tokens)


def stage_done(client: AtelierClient, run: str, stage: str) -> Message:
    return next(
        m
        for m in events_of(client, run)
        if m["type"] == "stage" and m["stage"] == stage and m["status"] == "done"
    )


async def tokens_arrive(client: AtelierClient, run: str, count: int, timeout: float = 60) -> None:
    """Read until the run has streamed at least `count` token messages."""
    if len(token_messages(client, run)) < count:
        await client.wait_for(lambda _: len(token_messages(client, run)) >= count, timeout)


async def server_log_says(server: LlamaServer, text: str, timeout: float = SERVER_WAIT) -> None:
    """Wait for `text` in the server's log (another process: there is no event to await)."""
    async with asyncio.timeout(timeout):
        while text not in server.log_text():  # noqa: ASYNC110 - a file written by another process
            await asyncio.sleep(0.05)


async def cpu_settles(server: LlamaServer, timeout: float = SERVER_WAIT) -> float:
    """Wait until the server's CPU time stands still over one IDLE_WINDOW; returns its growth."""
    async with asyncio.timeout(timeout):
        while True:
            before = server.cpu_seconds()
            await asyncio.sleep(IDLE_WINDOW)
            grown = server.cpu_seconds() - before
            if grown < IDLE_CPU:
                return grown


async def api_status(server: TestServer) -> dict[str, Any]:
    async with ClientSession() as http, http.get(server.make_url("/api/status")) as response:
        status: dict[str, Any] = await response.json()
    return status


def states_entered(status: dict[str, Any], instance: str) -> dict[str, int]:
    """How often the instance entered each state since start-up (`/api/status`)."""
    return next(b["entered"] for b in status["backends"] if b["instance"] == instance)
