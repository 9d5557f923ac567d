"""Resumes on demand: a small `hello` cannot make the server resend its whole log, over and over.

A resume replays only what came after `last_seq`, at most `max_replay_bytes` of it (a larger
gap gets a `resync` of snapshots), and a session resumes at most `resume_burst` times in quick
succession. The attacker speaks raw WebSocket on a real port; a victim session beside it runs
a whole pipeline run against the simulators and must see every event of it.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestServer

from server.handlers.keys import REGISTRY
from server.protocol import CloseCode, Token
from tests.conftest import ws_url
from tests.pipeline_support import StartPipeline, connected, run_done, start_run

MAX_REPLAY_BYTES = 64 * 1024
RESUME_BURST = 2
#: 2,000 tokens of about 290 bytes: a log of about 580 KB, nine times the replay bound.
LOGGED_TOKENS = 2_000


async def hello(ws: ClientWebSocketResponse, **fields: Any) -> list[str]:
    """Send `hello`; the raw text of every frame up to `welcome` or an `error`."""
    await ws.send_str(orjson.dumps({"type": "hello", "protocol": 1, **fields}).decode())
    frames: list[str] = []
    while not frames or orjson.loads(frames[-1])["type"] not in ("welcome", "error"):
        frames.append(await ws.receive_str(timeout=10))
    return frames


def kinds(frames: list[str]) -> list[str]:
    return [orjson.loads(frame)["type"] for frame in frames]


async def test_resumes_replay_only_the_gap_within_a_bound_and_are_rate_limited(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(
        safety_level="adult",
        max_replay_bytes=MAX_REPLAY_BYTES,
        resume_burst=RESUME_BURST,
        resumes_per_minute=0.1,  # no resume comes back while the test runs
    )
    victim = await connected(server)
    run = await start_run(victim, "a fox in the snow")
    async with ClientSession() as http:
        await attack(server, http)
    done = await run_done(victim, run)
    assert done["status"] == "completed"
    assert (victim.gaps, victim.duplicates) == (0, 0)
    assert victim.of_type("token")


async def attack(server: TestServer, http: ClientSession) -> None:
    url = ws_url(server)
    async with http.ws_connect(url) as first:
        welcome = orjson.loads((await hello(first))[-1])
    credentials = {"session": welcome["session"], "secret": welcome["secret"]}
    session = server.app[REGISTRY].get(welcome["session"])
    assert session is not None
    for i in range(LOGGED_TOKENS):  # a long run history, logged while detached
        session.emit(Token, run="r", stage="interception", text=f"{i:05d}" + "x" * 200)
    assert session.log.held_bytes > 8 * MAX_REPLAY_BYTES
    async with http.ws_connect(url) as claims_nothing_seen:
        frames = await hello(claims_nothing_seen, last_seq=0, **credentials)
    assert kinds(frames) == ["resync", "welcome"]  # a snapshot, not 580 KB
    assert sum(len(frame.encode()) for frame in frames) < MAX_REPLAY_BYTES
    missed_from = session.seq  # the client saw everything up to here, then missed five
    for i in range(5):
        session.emit(Token, run="r", stage="interception", text=f"missed {i}")
    async with http.ws_connect(url) as honest, http.ws_connect(url) as one_too_many:
        frames = await hello(honest, last_seq=missed_from, **credentials)
        assert [orjson.loads(f)["seq"] for f in frames[:-1]] == list(
            range(missed_from + 1, missed_from + 6)
        )  # exactly what it missed, then `welcome`
        refused = orjson.loads((await hello(one_too_many, last_seq=0, **credentials))[-1])
        assert (refused["code"], refused["seq"], refused["retry_after"]) == (
            "resume_limited",
            0,
            600.0,
        )
        closing = await one_too_many.receive(timeout=10)
        assert (closing.type, closing.data) == (WSMsgType.CLOSE, CloseCode.RESUME_LIMITED)
        session.emit(Token, run="r", stage="interception", text="still yours")
        live = orjson.loads(await honest.receive_str(timeout=10))
        assert live["text"] == "still yours"  # the refused resume did not take the socket
