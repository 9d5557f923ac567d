"""The per-session replay log."""

from __future__ import annotations

import pytest

from server.engine.eventlog import EventLog


def filled(limit: int, count: int) -> EventLog:
    log = EventLog(limit)
    for seq in range(1, count + 1):
        log.append(seq, f"m{seq}".encode())
    return log


def test_since_returns_exactly_the_missed_messages_in_order() -> None:
    assert filled(10, 6).since(3) == [b"m4", b"m5", b"m6"]


def test_since_the_latest_seq_is_empty() -> None:
    assert filled(10, 6).since(6) == []


def test_since_zero_replays_everything_while_the_log_reaches_back() -> None:
    assert filled(10, 3).since(0) == [b"m1", b"m2", b"m3"]


def test_log_that_no_longer_reaches_back_answers_none() -> None:
    log = filled(4, 10)
    assert log.since(6) == [b"m7", b"m8", b"m9", b"m10"]
    assert log.since(5) is None
    assert len(log) == 4


def test_a_seq_from_the_future_cannot_be_replayed() -> None:
    assert filled(4, 3).since(9) is None


def test_appending_out_of_order_raises() -> None:
    log = filled(4, 2)
    with pytest.raises(ValueError, match="expects seq 3"):
        log.append(5, b"x")
