"""The log's flood guards: long values cut with their length, repeats per client counted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import structlog

from server import logs
from server.logs import (
    LOG_REPEAT_WINDOW,
    LOG_REPEATS_PER_WINDOW,
    LOG_VALUE_MAX_CHARS,
    SUPPRESSED_EVENT,
    RepeatLimiter,
    cut,
    cut_long_values,
)
from tests.log_support import Clock, captured_log


def test_a_long_value_keeps_its_start_a_marker_and_its_length() -> None:
    assert cut("x" * LOG_VALUE_MAX_CHARS) == "x" * LOG_VALUE_MAX_CHARS
    assert cut("x" * 70_000) == "x" * LOG_VALUE_MAX_CHARS + "…[cut, 70000 in all]"
    long = LOG_VALUE_MAX_CHARS * 4
    assert cut(b"\xff" * long) == "\ufffd" * LOG_VALUE_MAX_CHARS + f"…[cut, {long} in all]"


def test_every_value_but_the_event_and_a_traceback_is_cut() -> None:
    long = "y" * 1000
    event = cut_long_values(None, "warning", {"event": long, "exception": long, "origin": long})
    assert (event["event"], event["exception"]) == (long, long)
    assert len(event["origin"]) < LOG_VALUE_MAX_CHARS + 30


def passed(limiter: RepeatLimiter, **event: object) -> bool:
    try:
        limiter(None, "warning", {"event": "origin_refused", **event})
    except structlog.DropEvent:
        return False
    return True


@pytest.fixture
def reports(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    monkeypatch.setattr(RepeatLimiter, "_report", lambda _self, *args: found.append(args))
    return found


def test_repeats_of_one_client_are_dropped_then_counted_once_the_window_ends(
    reports: list[tuple[str, str, int]],
) -> None:
    clock = Clock()
    limiter = RepeatLimiter(clock)
    flood = [passed(limiter, client="10.0.0.9") for _ in range(100)]
    assert flood == [True] * LOG_REPEATS_PER_WINDOW + [False] * (100 - LOG_REPEATS_PER_WINDOW)
    assert passed(limiter, client="10.0.0.7")  # another client is not held back
    clock.now = LOG_REPEAT_WINDOW
    assert passed(limiter, client="10.0.0.9")
    assert reports == [("origin_refused", "10.0.0.9", 100 - LOG_REPEATS_PER_WINDOW)]


def test_lines_no_client_caused_are_never_held_back(reports: list[tuple[str, str, int]]) -> None:
    limiter = RepeatLimiter(Clock())
    assert all(passed(limiter) for _ in range(100))
    assert all(passed(limiter, client=None) for _ in range(100))
    assert not reports


def test_the_window_table_is_capped_and_an_evicted_window_still_reports(
    monkeypatch: pytest.MonkeyPatch, reports: list[tuple[str, str, int]]
) -> None:
    monkeypatch.setattr(logs, "LOG_REPEAT_KEYS_MAX", 3)
    limiter = RepeatLimiter(Clock())
    for _ in range(LOG_REPEATS_PER_WINDOW + 2):
        passed(limiter, client="first")
    for number in range(10):
        passed(limiter, client=f"other {number}")
    assert len(limiter._windows) == 3
    assert reports == [("origin_refused", "first", 2)]


def test_the_summary_line_passes_the_limiter_it_comes_from() -> None:
    limiter = RepeatLimiter(Clock())
    with captured_log([limiter]) as lines:
        for _ in range(LOG_REPEATS_PER_WINDOW + 1):
            structlog.get_logger().warning("origin_refused", client="c")
        limiter._close_oldest()
    summary = {"event": SUPPRESSED_EVENT, "of": "origin_refused", "client": "c", "count": 1}
    assert lines[-1] == summary


PRODUCTION_LOG = """
import logging, structlog
from server.logs import configure_logging
configure_logging("json")
for _ in range(100):
    logging.getLogger("aiohttp.server").error("Error handling request from %s", "10.0.0.9")
    structlog.get_logger("server.handlers.ws").warning(
        "origin_refused", origin="o" * 70_000, client="10.0.0.9"
    )
"""


def test_configure_logging_guards_both_structlog_and_stdlib_lines() -> None:
    """In a fresh interpreter, as `python -m server` configures it."""
    done = subprocess.run(
        [sys.executable, "-c", PRODUCTION_LOG],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    stdout = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [line["event"] for line in stdout] == ["origin_refused"] * LOG_REPEATS_PER_WINDOW
    assert all(len(line["origin"]) < LOG_VALUE_MAX_CHARS + 30 for line in stdout)
    assert done.stderr.count("Error handling request") == LOG_REPEATS_PER_WINDOW
