"""What the real-LLM tests give the app (a catalog with short and long answers, the backend
settings of llama-cpp-python) and what they read off a client, the real server and the app
(the tokens of a stage, the server's own log and CPU time, the states a backend went through)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import orjson
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.engine.backends.config import LLMBackendConfig
from server.engine.llm.types import Dialect
from server.harness.client import AtelierClient, Message
from server.settings import PROJECT_ROOT
from tests.conftest import MONITOR_HEADERS
from tests.pipeline_support import connected, events_of, start_run
from tests.real.llama_server import LlamaServer

#: Answers of the perspectives the tests use, in tokens: short keeps the tier fast; long is
#: an answer still streaming when a test cancels it or kills the server (the server caps it
#: at what its context leaves, about 12 s of generation on one thread).
SHORT_ANSWER_TOKENS = 48
LONG_ANSWER_TOKENS = 4096
#: The perspective whose answer outlasts anything a test does while it streams.
LONG_STORY = "long_story"
LONG_STORY_PROMPT = (
    "You are a storyteller. Tell a very long, detailed story about the student's idea, "
    "chapter after chapter, with many characters, places and events. Never stop early."
)
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


def real_catalog(root: Path) -> Path:
    """The project's catalog with short Bauhaus answers and a long-story perspective."""
    target = root / "workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", target, dirs_exist_ok=True)
    bauhaus_file = target / "interception" / "bauhaus.json"
    bauhaus = orjson.loads(bauhaus_file.read_bytes())
    bauhaus["generation"]["max_tokens"] = SHORT_ANSWER_TOKENS
    bauhaus_file.write_bytes(orjson.dumps(bauhaus))
    story = {**bauhaus, "id": LONG_STORY, "order": 999, "meta_prompt": LONG_STORY_PROMPT}
    story["generation"] = {**bauhaus["generation"], "max_tokens": LONG_ANSWER_TOKENS}
    (target / "interception" / f"{LONG_STORY}.json").write_bytes(orjson.dumps(story))
    return target


def llm_backend(url: str) -> LLMBackendConfig:
    """llama-cpp-python as an operator configures it: OpenAI dialect, one request at a time,
    verdicts asked as `json_object` (0.3.36 answers the `json_schema` form with a 500)."""
    return LLMBackendConfig(
        name="llama", url=url, dialect=Dialect.OPENAI, slots=1, structured_output="json_object"
    )


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
    url = server.make_url("/api/status")
    async with ClientSession() as http, http.get(url, headers=MONITOR_HEADERS) as response:
        status: dict[str, Any] = await response.json()
    return status


async def state_becomes(server: TestServer, instance: str, state: str, timeout: float) -> None:
    """Wait, polling `/api/status` a bounded number of times, until `instance` is in `state`."""
    for _ in range(int(timeout / 0.1)):
        status = await api_status(server)
        if any(b["instance"] == instance and b["state"] == state for b in status["backends"]):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{instance} did not become {state} within {timeout} s: {status}")


def states_entered(status: dict[str, Any], instance: str) -> dict[str, int]:
    """How often the instance entered each state since start-up (`/api/status`)."""
    return next(b["entered"] for b in status["backends"] if b["instance"] == instance)


async def long_story_streaming(server: TestServer, tokens: int) -> tuple[AtelierClient, str]:
    """A student whose long-story run has streamed at least `tokens` token messages."""
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow", interception=LONG_STORY, seed=7)
    await tokens_arrive(client, run, tokens)
    return client, run
