"""1,000 refused upgrades with a huge Origin cost a bounded number of log bytes; a victim runs.

The log is captured through the production flood guards (server/logs.py) on a clock the test
moves, so the repeat window is exact, not timed.
"""

from __future__ import annotations

import asyncio

import aiohttp
import orjson
import pytest

from server.logs import (
    LOG_REPEAT_WINDOW,
    LOG_REPEATS_PER_WINDOW,
    LOG_VALUE_MAX_CHARS,
    SUPPRESSED_EVENT,
    flood_guards,
)
from tests.conftest import ws_url
from tests.log_support import Clock, Line, captured_log, captured_records
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    run_done,
    start_run,
)

ATTACKS = 1000
#: Longer than aiohttp's header line limit (8190): refused by its parser with 400 before our
#: handler, and logged by aiohttp (`aiohttp.server`) with a traceback each time.
HUGE_ORIGIN = "http://evil.example/" + "a" * (64 * 1024)
#: Just under that limit: reaches the Origin check and its log line.
LONG_ORIGIN = "http://evil.example/" + "a" * 8000
#: A logged line's fields other than the cut Origin: event, level, client, marker.
LINE_OVERHEAD = 200


async def refused_upgrade(session: aiohttp.ClientSession, url: str, origin: str) -> int:
    try:
        async with session.ws_connect(url, headers={"Origin": origin}):
            return 101
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


async def attack(url: str, origin: str) -> list[int]:
    async with aiohttp.ClientSession() as session:
        statuses: list[int] = []
        for _ in range(ATTACKS // 50):
            batch = [refused_upgrade(session, url, origin) for _ in range(50)]
            statuses += await asyncio.gather(*batch)
        return statuses


def size(lines: list[Line]) -> int:
    return sum(len(orjson.dumps(line, default=str)) + 1 for line in lines)


AIOHTTP_ERROR = "aiohttp.server: Error handling request from %s"


@pytest.mark.parametrize(
    ("origin", "status", "flooded"),
    [(LONG_ORIGIN, 403, "origin_refused"), (HUGE_ORIGIN, 400, AIOHTTP_ERROR)],
    ids=["origin_refused", "aiohttp_line_too_long"],
)
async def test_refused_upgrades_log_a_bounded_number_of_bytes(
    start_pipeline: StartPipeline, origin: str, status: int, flooded: str
) -> None:
    server = await start_pipeline()
    clock = Clock()
    guards = flood_guards(clock)
    with captured_log(guards) as lines, captured_records("aiohttp", guards[-1]) as records:
        victim = await connected(server)
        beside = await start_run(victim, "a cat on a roof")
        assert set(await attack(ws_url(server), origin)) == {status}
        assert (await run_done(victim, beside))["status"] == "completed"
        refused = [line for line in lines if line["event"] == "origin_refused"]
        assert len(refused) + len(records) == LOG_REPEATS_PER_WINDOW
        assert size(refused) <= len(refused) * (LOG_VALUE_MAX_CHARS + LINE_OVERHEAD)
        clock.now += LOG_REPEAT_WINDOW  # the next line closes the window: its summary
        run = await start_run(victim, "a fox in the snow")
        assert (await run_done(victim, run))["status"] == "completed"
    summaries = [line for line in lines if line["event"] == SUPPRESSED_EVENT]
    count = ATTACKS - LOG_REPEATS_PER_WINDOW
    assert summaries == [
        {"event": SUPPRESSED_EVENT, "of": flooded, "client": "127.0.0.1", "count": count}
    ]
    assert size(lines) <= 20 * (LOG_VALUE_MAX_CHARS + LINE_OVERHEAD)  # the victim's lines too
    await victim.close()
    assert_nothing_left(server)
