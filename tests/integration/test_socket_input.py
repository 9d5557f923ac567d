"""Bad input, origins, rate limits, heartbeats and slow clients over a real socket."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientSession, WSMsgType
from aiohttp.test_utils import TestServer
from websockets.exceptions import InvalidStatus

from server.engine.session import Session
from server.handlers import ws as ws_handler
from server.handlers.keys import REGISTRY, STATS
from server.harness.client import AtelierClient
from server.protocol import CloseCode, Token, parse_client
from tests.conftest import StartServer, ws_url
from tests.pipeline_support import until


async def greeted(start_server: StartServer, **settings: object) -> tuple[AtelierClient, object]:
    server = await start_server(**settings)
    client = AtelierClient(ws_url(server))
    await client.connect()
    return client, server


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{oops", "bad_json"),
        ('"just a string"', "bad_json"),
        ('{"type": "run.dance"}', "unknown_type"),
        ('{"type": "run.start", "prompt": "", "interception": "x"}', "invalid_field"),
        ('{"type": "run.cancel"}', "invalid_field"),
        ('{"type": "hello", "protocol": 1}', "already_greeted"),
        ('{"type": "run.cancel", "run": "r1"}', "unavailable"),
    ],
)
async def test_bad_message_gets_an_error_and_the_socket_stays_open(
    start_server: StartServer, frame: str, code: str
) -> None:
    client, _ = await greeted(start_server)
    await client.send_raw(frame)
    error = await client.wait_for(lambda m: m["type"] == "error")
    assert error["code"] == code
    assert error["message"]
    await client.send_raw("{oops")  # still open, still answering
    assert (await client.wait_for(lambda m: m["type"] == "error"))["code"] == "bad_json"


async def test_oversized_message_is_refused_and_the_socket_stays_open(
    start_server: StartServer,
) -> None:
    client, _ = await greeted(start_server, max_message_bytes=2048)
    await client.send({"type": "run.start", "prompt": "x" * 5000, "interception": "a"})
    error = await client.wait_for(lambda m: m["type"] == "error")
    assert error["code"] == "too_large"
    assert "2048" in error["message"]
    await client.send_raw("{oops")
    assert (await client.wait_for(lambda m: m["type"] == "error"))["code"] == "bad_json"


async def test_binary_frames_are_refused_with_an_error(start_server: StartServer) -> None:
    client, _ = await greeted(start_server)
    await client.send_raw(b"\x00\x01")
    assert (await client.wait_for(lambda m: m["type"] == "error"))["code"] == "unsupported_frame"


async def test_messages_before_hello_get_unnumbered_errors(start_server: StartServer) -> None:
    server = await start_server()
    async with ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await ws.send_str('{"type": "run.cancel", "run": "r1"}')
        error = await ws.receive_json(timeout=5)
        assert (error["type"], error["code"], error["seq"]) == ("error", "hello_required", 0)
        await ws.send_str('{"type": "hello", "protocol": 1}')
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"


#: JSON of the wrong type where an object, `type` or a field belongs, and the code it earns.
WRONG_TYPES = [
    ('{"type": []}', "unknown_type"),
    ('{"type": {}}', "unknown_type"),
    ('{"type": 7}', "unknown_type"),
    ('{"type": null}', "unknown_type"),
    ("[]", "bad_json"),
    ("1", "bad_json"),
    ("null", "bad_json"),
    ('{"type": "hello", "protocol": []}', "invalid_field"),
    ('{"type": "run.start", "prompt": {"a": [1]}, "interception": [[]]}', "invalid_field"),
    ('{"type": "run.cancel", "run": {"nested": {"junk": [null]}}}', "invalid_field"),
]


async def test_json_of_the_wrong_type_gets_its_code_before_and_after_hello(
    start_server: StartServer,
) -> None:
    server = await start_server()
    async with ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        for frame, code in WRONG_TYPES:
            await ws.send_str(frame)
            error = await ws.receive_json(timeout=5)
            assert (error["type"], error["code"], error["seq"]) == ("error", code, 0), frame
        await ws.send_str('{"type": "hello", "protocol": 1}')
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        for frame, code in WRONG_TYPES:
            await ws.send_str(frame)
            error = await ws.receive_json(timeout=5)
            # an answer to a bad message is not run history: seq 0, not logged (protocol.md)
            assert (error["type"], error["code"], error["seq"]) == ("error", code, 0), frame
        await ws.send_str('{"type": "run.cancel", "run": "r1"}')  # still open, still serving
        assert (await ws.receive_json(timeout=5))["code"] == "unavailable"
        assert not ws.closed


async def test_a_bug_before_hello_is_answered_internal_and_the_socket_stays_open(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_parse = parse_client

    def parse(data: bytes) -> object:
        if b"boom" in data:
            raise RuntimeError("a bug")
        return real_parse(data)

    monkeypatch.setattr(ws_handler, "parse_client", parse)
    server = await start_server()
    async with ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await ws.send_str('{"type": "boom"}')
        error = await ws.receive_json(timeout=5)
        assert (error["code"], error["message"]) == ("internal", "internal server error")
        await ws.send_str('{"type": "hello", "protocol": 1}')
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"


async def test_wrong_protocol_version_is_closed_with_its_code(start_server: StartServer) -> None:
    server = await start_server()
    async with ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await ws.send_str('{"type": "hello", "protocol": 99}')
        assert (await ws.receive_json(timeout=5))["code"] == "protocol_version"
        msg = await ws.receive(timeout=5)
        assert (msg.type, msg.data) == (WSMsgType.CLOSE, CloseCode.PROTOCOL_VERSION)


async def test_silent_socket_is_closed_after_the_hello_timeout(start_server: StartServer) -> None:
    server = await start_server(hello_timeout=0.05)
    async with ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        msg = await ws.receive(timeout=5)
        assert (msg.type, msg.data) == (WSMsgType.CLOSE, CloseCode.HELLO_TIMEOUT)


async def test_flooding_client_gets_rate_limited_then_closed(start_server: StartServer) -> None:
    client, server = await greeted(
        start_server, messages_per_second=0.001, message_burst=4, flood_tolerance=5
    )
    for _ in range(12):
        await client.send_raw("{oops")
    received, closed = await client.read_until_closed()
    codes = [m["code"] for m in received]
    assert closed.code == CloseCode.RATE_LIMITED
    assert codes[:3] == ["bad_json"] * 3  # the burst of 4 minus the hello
    assert codes[3:] == ["rate_limited"] * 5
    assert server.app[STATS].rate_limited >= 6  # type: ignore[attr-defined]


async def test_foreign_origin_is_refused_before_the_upgrade(start_server: StartServer) -> None:
    server = await start_server()
    client = AtelierClient(ws_url(server), origin="https://evil.example")
    with pytest.raises(InvalidStatus) as info:
        await client.connect()
    assert info.value.response.status_code == 403


async def test_same_and_listed_origins_are_accepted(start_server: StartServer) -> None:
    server = await start_server(allowed_origins=["https://ui.example"])
    same = AtelierClient(ws_url(server), origin=f"http://{server.host}:{server.port}")
    listed = AtelierClient(ws_url(server), origin="https://ui.example")
    assert (await same.connect())["type"] == "welcome"
    assert (await listed.connect())["type"] == "welcome"


async def test_idle_socket_receives_heartbeat_messages(start_server: StartServer) -> None:
    client, _ = await greeted(start_server, heartbeat_idle=0.05)
    first = await client.wait_for(lambda m: m["type"] == "heartbeat")
    second = await client.wait_for(lambda m: m["type"] == "heartbeat")
    assert second["seq"] == first["seq"] + 1
    assert second["time"] >= first["time"]


async def test_server_sends_websocket_ping_frames(start_server: StartServer) -> None:
    server = await start_server(ping_interval=0.05)
    async with ClientSession() as http, http.ws_connect(ws_url(server), autoping=False) as ws:
        await ws.send_str('{"type": "hello", "protocol": 1}')
        kinds = set()
        async with asyncio.timeout(5):
            while WSMsgType.PING not in kinds:
                msg = await ws.receive()
                kinds.add(msg.type)
                if msg.type is WSMsgType.PING:
                    await ws.pong(msg.data)


async def connected_pair(
    server: TestServer,
) -> tuple[tuple[AtelierClient, Session], tuple[AtelierClient, Session]]:
    """Two greeted clients, each with its server-side session."""
    pair = []
    for _ in range(2):
        client = AtelierClient(ws_url(server))
        await client.connect()
        session = server.app[REGISTRY].get(client.session or "")
        assert session is not None
        pair.append((client, session))
    return pair[0], pair[1]


#: These tests replay 16-20 MB after a slow or stalled socket: the log must hold and replay it.
LOG_BYTES_FOR_REPLAY = 32 * 1024 * 1024


async def test_client_that_stops_reading_is_dropped_and_never_slows_another(
    start_server: StartServer,
) -> None:
    server = await start_server(
        outbox_limit=64,
        send_timeout=30,
        event_log_limit=5000,
        event_log_bytes=LOG_BYTES_FOR_REPLAY,
        max_replay_bytes=LOG_BYTES_FOR_REPLAY,
    )
    stats = server.app[STATS]
    (slow, slow_session), (healthy, healthy_session) = await connected_pair(server)
    big = "x" * 16_384
    for i in range(1000):  # 16 MB for the slow client: far beyond any socket buffer
        slow_session.emit(Token, run="r", stage="interception", text=big)
        healthy_session.emit(Token, run="r", stage="interception", text=str(i))
        if i % 10 == 0:
            await asyncio.sleep(0)
    await healthy.wait_for(lambda m: m.get("text") == "999")
    assert len(healthy.of_type("token")) == 1000
    assert (healthy.gaps, healthy.duplicates) == (0, 0)
    assert stats.send_timeouts == 0  # the healthy client never waited on a timeout
    assert stats.outbox_overflows == 1
    # The slow client now reads: what got through, then the named close code.
    _, closed = await slow.read_until_closed()
    assert closed.code == CloseCode.SLOW_CONSUMER
    welcome = await slow.reconnect()  # and it can resume: nothing was lost
    assert welcome["resumed"] is True
    assert len(slow.of_type("token")) == 1000
    assert (slow.gaps, slow.duplicates) == (0, 0)


async def test_a_send_that_stalls_past_the_timeout_aborts_only_that_socket(
    start_server: StartServer,
) -> None:
    server = await start_server(
        outbox_limit=100_000,
        send_timeout=0.3,
        event_log_limit=5000,
        event_log_bytes=LOG_BYTES_FOR_REPLAY,
        max_replay_bytes=LOG_BYTES_FOR_REPLAY,
    )
    stats = server.app[STATS]
    (stalled, stalled_session), (healthy, healthy_session) = await connected_pair(server)
    big = "y" * 65_536
    for _ in range(300):  # 20 MB: the kernel buffers fill and the writer's send blocks
        stalled_session.emit(Token, run="r", stage="interception", text=big)
    healthy_session.emit(Token, run="r", stage="interception", text="still here")
    assert (await healthy.wait_for(lambda m: m["type"] == "token"))["text"] == "still here"
    await until(lambda: stats.send_timeouts == 1)
    await until(lambda: stalled_session.connection is None)  # detached: it may resume
    assert stats.outbox_overflows == 0
    welcome = await stalled.reconnect()
    assert welcome["resumed"] is True
