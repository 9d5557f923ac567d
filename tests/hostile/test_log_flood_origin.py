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
from tests.log_support import Clock, Line, captured_log
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    run_done,
    start_run,
)

ATTACKS = 1000
#: Longer than aiohttp's header line limit (8190): refused by the parser, before our handler.
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


@pytest.mark.parametrize(("origin", "status"), [(LONG_ORIGIN, 403), (HUGE_ORIGIN, 400)])
async def test_refused_upgrades_log_a_bounded_number_of_bytes(
    start_pipeline: StartPipeline, origin: str, status: int
) -> None:
    server = await start_pipeline()
    clock = Clock()
    with captured_log(flood_guards(clock)) as lines:
        victim = await connected(server)
        beside = await start_run(victim, "a cat on a roof")
        assert set(await attack(ws_url(server), origin)) == {status}
        assert (await run_done(victim, beside))["status"] == "completed"
        refused = [line for line in lines if line["event"] == "origin_refused"]
        assert len(refused) == (LOG_REPEATS_PER_WINDOW if status == 403 else 0)
        assert size(refused) <= len(refused) * (LOG_VALUE_MAX_CHARS + LINE_OVERHEAD)
        clock.now += LOG_REPEAT_WINDOW  # the next line closes the window: its summary
        run = await start_run(victim, "a fox in the snow")
        assert (await run_done(victim, run))["status"] == "completed"
    summaries = [line for line in lines if line["event"] == SUPPRESSED_EVENT]
    if status == 403:
        assert summaries == [
            {
                "event": SUPPRESSED_EVENT,
                "of": "origin_refused",
                "client": "127.0.0.1",
                "count": ATTACKS - LOG_REPEATS_PER_WINDOW,
            }
        ]
    assert size(lines) <= 20 * (LOG_VALUE_MAX_CHARS + LINE_OVERHEAD)  # the victim's lines too
    await victim.close()
    assert_nothing_left(server)
