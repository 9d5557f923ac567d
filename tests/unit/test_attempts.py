"""Attempts per minute by key: the bound is hit exactly, waiting always helps, keys are bounded."""

from __future__ import annotations

import pytest

from server.engine.attempts import AttemptWindow


def test_the_attempt_beyond_the_limit_is_refused_until_the_oldest_leaves_the_window() -> None:
    window = AttemptWindow(limit=5, window=60)
    assert [window.take("10.0.0.1", t) for t in range(6)] == [True] * 5 + [False]
    assert window.retry_after("10.0.0.1", 5) == pytest.approx(55)
    assert window.take("10.0.0.1", 59.9) is False
    assert window.take("10.0.0.1", 60.0) is True  # the attempt at 0 has left the window
    assert window.take("10.0.0.1", 60.5) is False


def test_refused_attempts_do_not_count() -> None:
    window = AttemptWindow(limit=1, window=60)
    assert window.take("a", 0)
    for t in range(1, 60):
        assert not window.take("a", t)
    assert window.take("a", 60)


def test_keys_are_counted_apart() -> None:
    window = AttemptWindow(limit=1, window=60)
    assert window.take("a", 0)
    assert window.take("b", 0)
    assert not window.take("a", 1)


def test_allows_counts_nothing() -> None:
    window = AttemptWindow(limit=1, window=60)
    assert window.allows("a", 0)
    assert window.allows("a", 0)
    window.count("a", 0)
    assert not window.allows("a", 0)
    assert window.retry_after("b", 0) == 0.0


def test_a_full_table_drops_stale_keys_then_refuses_new_ones() -> None:
    window = AttemptWindow(limit=3, window=60, max_keys=2)
    assert window.take("a", 0)
    assert window.take("b", 0)
    assert not window.take("c", 1)  # both keys are recent: no room, refused
    assert window.take("a", 2)  # a known key still has its own limit
    assert window.take("c", 61)  # "b" went stale and made room
    assert len(window) == 2


@pytest.mark.parametrize(("limit", "seconds", "keys"), [(0, 60, 1), (1, 0, 1), (1, 60, 0)])
def test_a_window_needs_a_limit_a_length_and_room(limit: int, seconds: float, keys: int) -> None:
    with pytest.raises(ValueError, match="attempt window"):
        AttemptWindow(limit, seconds, keys)
