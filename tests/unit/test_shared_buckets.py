"""A person's message budget shared by all their sockets, and what a socket is allowed when
both its own bucket and its person's must have a token (issue 15)."""

from __future__ import annotations

import pytest

from server.engine.ratelimit import MessageRate, SharedBuckets, TokenBucket


def test_sockets_of_one_person_spend_one_budget_and_others_keep_theirs() -> None:
    shared = SharedBuckets(rate=1.0, burst=3)
    assert [shared.take("g-1", 0.0) for _ in range(4)] == [True, True, True, False]
    assert shared.take("g-2", 0.0)  # another person: a budget of their own
    assert shared.take("g-1", 1.0)  # a second later: one more token


def test_the_least_recently_used_budget_goes_first_beyond_the_bound() -> None:
    shared = SharedBuckets(rate=1.0, burst=1, max_keys=2)
    shared.take("a", 0.0)
    shared.take("b", 0.0)
    shared.take("a", 0.0)  # a is the most recent now (refused: its one token is spent)
    shared.take("c", 0.0)  # b goes
    assert len(shared) == 2
    assert shared.take("b", 0.0)  # b starts full again
    assert not shared.take("c", 0.0)  # c was kept: its token is spent


def test_a_message_passes_only_with_a_token_from_both_buckets() -> None:
    shared = SharedBuckets(rate=0.001, burst=2)
    one = MessageRate(TokenBucket(0.001, 5, 0.0), shared, "g-1")
    two = MessageRate(TokenBucket(0.001, 5, 0.0), shared, "g-1")
    assert [one.take(0.0), two.take(0.0), two.take(0.0), one.take(0.0)] == [
        True,
        True,
        False,
        False,
    ]
    assert (one.refused_in_a_row, two.refused_in_a_row) == (1, 1)


def test_a_socket_over_its_own_rate_is_refused_while_its_person_has_budget() -> None:
    rate = MessageRate(TokenBucket(0.001, 1, 0.0), SharedBuckets(0.001, 100), "m-7")
    assert [rate.take(0.0) for _ in range(3)] == [True, False, False]
    assert rate.refused_in_a_row == 2


@pytest.mark.parametrize(("rate", "burst", "keys"), [(0.0, 1, 1), (1.0, 0, 1), (1.0, 1, 0)])
def test_a_budget_without_room_is_a_setting_error(rate: float, burst: int, keys: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        SharedBuckets(rate, burst, keys)
