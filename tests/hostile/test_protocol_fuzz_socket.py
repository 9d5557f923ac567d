"""The fuzzed frames of `tests/unit/test_protocol_fuzz.py` over a real socket, through `_handle`.

One server with the whole pipeline (simulators) takes every example; each example opens a
socket, says hello and sends its frames, each followed by a `run.cancel` of an id no run has
(a sentinel: its `unknown_run` error marks where the answers to the frame end). Every answer,
error or run event, carries a stable code and never `internal`, and the socket stays open.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp import ClientSession, ClientWebSocketResponse
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.protocol import ErrorCode, RunEndCode
from tests.conftest import ws_url
from tests.pipeline_support import StartPipeline
from tests.protocol_fuzz_support import spoiled_frame
from tests.unit.test_protocol_fuzz import IDS

ERROR_CODES = frozenset(code.value for code in ErrorCode) - {ErrorCode.INTERNAL.value}
END_CODES = frozenset(code.value for code in RunEndCode) - {RunEndCode.INTERNAL.value}


async def greeted(ws: ClientWebSocketResponse) -> None:
    await ws.send_str('{"type": "hello", "protocol": 1}')
    welcome = await ws.receive_json(timeout=10)
    assert welcome["type"] == "welcome"


async def answers(ws: ClientWebSocketResponse, frame: bytes, n: int) -> list[dict[str, Any]]:
    """Everything the server sends after `frame`, up to the error answering sentinel `n`."""
    await ws.send_str(frame.decode("utf-8", "replace"))
    await ws.send_str(orjson.dumps({"type": "run.cancel", "run": f"sentinel-{n}"}).decode())
    received: list[dict[str, Any]] = []
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=10)
        if message.get("run") == f"sentinel-{n}":
            assert message["code"] == ErrorCode.UNKNOWN_RUN.value
            return received
        received.append(message)


def assert_stable(message: dict[str, Any]) -> None:
    code = message.get("code")
    if message["type"] == "error":
        assert code in ERROR_CODES, message
        assert message["seq"] == 0, message  # an answer, never part of the run history
    elif code is not None:
        assert code in END_CODES, message


@pytest.fixture
def one_server() -> list[TestServer]:
    return []


@settings(
    max_examples=25,
    deadline=None,
    # One server for every example, on purpose: the fixture is the server's starter.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frames=st.lists(spoiled_frame(IDS), min_size=1, max_size=10))
async def test_fuzzed_frames_over_a_real_socket_get_stable_codes(
    start_pipeline: StartPipeline, one_server: list[TestServer], frames: list[bytes]
) -> None:
    if not one_server:  # the first example starts it; hypothesis hands every one this list
        one_server.append(
            await start_pipeline(
                messages_per_second=10_000,
                message_burst=100_000,
                # Every example's socket is the same person: its budget must not end the run.
                messages_per_second_per_person=10_000,
                message_burst_per_person=100_000,
                safety_level="adult",
            )
        )
    server = one_server[0]
    async with ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await greeted(ws)
        for n, frame in enumerate(frames):
            for message in await answers(ws, frame, n):
                assert_stable(message)
        assert not ws.closed
