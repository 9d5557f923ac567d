"""The open-file limit: raised to the hard limit at start-up (a warning when it cannot also
hold a file sent on every connection), a limit too low for the caps stops start-up with one
clear line, and open descriptors near the limit are logged.

The first two run `python -m server` as its own process with the limits it is given.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import orjson

from server.listener import open_descriptors
from server.listener._descriptors import NEAR_LOG_INTERVAL, NearLimit, watch_descriptors
from tests.log_support import captured_log
from tests.pipeline_support import until

ROOT = Path(__file__).resolve().parents[2]


def with_file_limit(soft: int, hard: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return apply


async def server_process(
    tmp_path: Path, soft: int, hard: int, **env: str
) -> asyncio.subprocess.Process:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    environment.update(ATELIER_DATA_DIR=str(tmp_path), ATELIER_PORT="0", ATELIER_LOG_FORMAT="json")
    environment.update(env)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=with_file_limit(soft, hard),
    )


async def test_a_limit_too_low_for_the_caps_stops_start_up_in_one_line(tmp_path: Path) -> None:
    proc = await server_process(tmp_path, soft=300, hard=300)
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    [line] = err.decode().strip().splitlines()
    assert line.startswith("atelier: the open-file limit is 300 (hard limit 300), below the 16640")
    assert "LimitNOFILE=" in line


async def test_the_soft_limit_is_raised_to_the_hard_one_and_logged(tmp_path: Path) -> None:
    """3,000 hold 2,000 connections and the server's own 256, not a file sent on each too."""
    proc = await server_process(tmp_path, soft=300, hard=3000, ATELIER_MAX_CONNECTIONS="2000")
    assert proc.stdout is not None
    lines: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(30):
            while not lines or lines[-1]["event"] != "listening":
                lines.append(orjson.loads(await proc.stdout.readline()))
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await proc.communicate()
    assert proc.returncode == 0
    [limit] = [line for line in lines if line["event"] == "open_file_limit"]
    assert (limit["limit"], limit["hard"], limit["was"]) == (3000, 3000, 300)
    [tight] = [line for line in lines if line["event"] == "open_file_limit_tight"]
    assert (tight["limit"], tight["want"]) == (3000, 2 * 2000 + 256)


def test_near_the_limit_is_worth_a_warning_once_a_minute() -> None:
    near = NearLimit(1000)
    assert not near.warn(799, now=0.0)
    assert near.warn(800, now=0.0)
    assert not near.warn(990, now=NEAR_LOG_INTERVAL - 1)
    assert near.warn(990, now=NEAR_LOG_INTERVAL)


async def test_open_descriptors_near_the_limit_are_logged() -> None:
    count = open_descriptors()
    assert count is not None  # Linux: /proc/self/fd
    with captured_log() as lines:
        watcher = asyncio.create_task(watch_descriptors(limit=count + 1))
        await until(lambda: any(line["event"] == "descriptors_near_limit" for line in lines))
        watcher.cancel()
    [line] = lines
    assert line["limit"] == count + 1
    assert isinstance(line["open"], int)
    assert line["open"] >= count * 0.8
