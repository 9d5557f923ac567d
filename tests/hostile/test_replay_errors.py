"""Bad messages cannot grow the replay log or be amplified into large replies.

The attacker speaks raw WebSocket on a real port; a victim session beside it runs a whole
pipeline run against the simulators and must see every event of it, in order.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import ClientSession, ClientWebSocketResponse
from aiohttp.test_utils import TestServer

from server.handlers.keys import REGISTRY
from server.harness.client import AtelierClient
from tests.conftest import ws_url
from tests.pipeline_support import StartPipeline, connected, run_done, start_run

#: The issue's bound: an error answering a 64 KiB message of unknown keys stays under this.
MAX_ERROR_REPLY_BYTES = 1024
MAX_MESSAGE_BYTES = 65_536


def unknown_keys_flood() -> bytes:
    """A `run.start` of about 7,750 short unknown keys, just within the message limit."""
    fields: dict[str, Any] = {"type": "run.start", "prompt": "fox", "interception": "bauhaus"}
    size = len(orjson.dumps(fields))
    i = 0
    while size + len(f'"{i:x}":0,') <= MAX_MESSAGE_BYTES:
        fields[f"{i:x}"] = 0
        size += len(f'"{i:x}":0,')
        i += 1
    return orjson.dumps(fields)


def one_huge_key() -> bytes:
    """Few problems, but each names a key of 12 KiB: five of them would be a 60 KiB reply."""
    fields: dict[str, Any] = {"type": "run.start", "prompt": "fox", "interception": "bauhaus"}
    fields.update({f"{i}{'k' * 12_000}": 0 for i in range(5)})
    return orjson.dumps(fields)


async def greeted(ws: ClientWebSocketResponse) -> dict[str, Any]:
    await ws.send_str('{"type": "hello", "protocol": 1}')
    welcome: dict[str, Any] = await ws.receive_json(timeout=10)
    assert welcome["type"] == "welcome"
    return welcome


async def attack(server: TestServer, frames: list[bytes]) -> list[str]:
    """Send each frame on one greeted socket; the raw text of each reply, and the log unmoved."""
    async with ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        welcome = await greeted(ws)
        log = server.app[REGISTRY].get(welcome["session"]).log  # type: ignore[union-attr]
        before = (log.last_seq, len(log), log.held_bytes)
        replies = []
        for frame in frames:
            await ws.send_str(frame.decode())
            replies.append(await ws.receive_str(timeout=10))
        assert (log.last_seq, len(log), log.held_bytes) == before  # nothing logged
        return replies


async def test_unknown_key_floods_get_small_unlogged_replies_beside_a_whole_run(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult", max_message_bytes=MAX_MESSAGE_BYTES)
    victim = await connected(server)
    run = await start_run(victim, "a fox in the snow")
    flood = unknown_keys_flood()
    assert flood.count(b'":0') > 7_500
    assert len(flood) <= MAX_MESSAGE_BYTES
    replies = await attack(server, [flood, one_huge_key()] * 3)
    for raw in replies:
        reply = orjson.loads(raw)
        assert (reply["type"], reply["code"], reply["seq"]) == ("error", "invalid_field", 0)
        assert len(raw.encode()) < MAX_ERROR_REPLY_BYTES, len(raw)
    await completes_with_every_event(victim, run)


async def completes_with_every_event(victim: AtelierClient, run: str) -> None:
    done = await run_done(victim, run)
    assert done["status"] == "completed"
    assert (victim.gaps, victim.duplicates) == (0, 0)
    assert victim.of_type("token")  # the streamed texts arrived too


def every_error_path() -> list[tuple[bytes, str]]:
    """One frame per kind of bad message, each as large as its field caps allow."""
    long = "z" * 60_000
    start = {"type": "run.start", "prompt": "fox", "interception": "bauhaus"}
    return [
        (b"{" + long.encode(), "bad_json"),
        (orjson.dumps([long]), "bad_json"),
        (orjson.dumps({"type": long}), "unknown_type"),
        (orjson.dumps({"type": [long[:500]] * 100}), "unknown_type"),
        (orjson.dumps({**start, "prompt": long}), "invalid_field"),
        (orjson.dumps({**start, "interception": "q" * 64}), "unknown_config"),
        (
            orjson.dumps(
                {**start, **dict.fromkeys(("seed", "width", "lang", "ref"), long[:15_000])}
            ),
            "invalid_field",
        ),
        (orjson.dumps({"type": "run.cancel", "run": long}), "invalid_field"),
        (orjson.dumps({"type": "hello", "protocol": 1, "secret": long}), "invalid_field"),
        (orjson.dumps({**start, "pad": "p" * MAX_MESSAGE_BYTES}), "too_large"),
    ]


async def test_every_error_path_gets_a_small_unlogged_reply_beside_a_whole_run(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult", max_message_bytes=MAX_MESSAGE_BYTES)
    victim = await connected(server)
    run = await start_run(victim, "a fox in the snow")
    frames, codes = zip(*every_error_path(), strict=True)
    replies = [orjson.loads(raw) for raw in await attack(server, list(frames))]
    assert [(r["code"], r["seq"]) for r in replies] == [(code, 0) for code in codes]
    assert max(len(orjson.dumps(r)) for r in replies) < MAX_ERROR_REPLY_BYTES
    await completes_with_every_event(victim, run)
