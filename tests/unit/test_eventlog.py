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


def test_the_byte_bound_drops_the_oldest_before_the_entry_bound() -> None:
    log = EventLog(100, byte_limit=10)
    for seq in range(1, 7):
        log.append(seq, b"abc")  # 18 bytes offered, 10 allowed: the last three stay
    assert (len(log), log.held_bytes) == (3, 9)
    assert log.since(3) == [b"abc"] * 3
    assert log.since(2) is None  # the caller sends `resync`


def test_a_message_larger_than_the_byte_bound_is_not_kept() -> None:
    log = EventLog(100, byte_limit=10)
    log.append(1, b"small")
    log.append(2, b"x" * 11)
    assert (len(log), log.held_bytes, log.last_seq) == (0, 0, 2)
    assert log.since(1) is None
    assert log.since(2) == []


def test_dropping_by_entries_keeps_the_byte_count_true() -> None:
    log = filled(2, 5)  # m1..m5, the last two kept
    assert log.held_bytes == len(b"m4") + len(b"m5")


def test_a_replay_larger_than_its_byte_bound_answers_none() -> None:
    log = filled(10, 6)  # m1..m6, two bytes each
    assert log.since(3, max_bytes=6) == [b"m4", b"m5", b"m6"]
    assert log.since(2, max_bytes=6) is None  # eight bytes: the caller sends `resync`
