"""The tally of things held per key and in all: caps, and refusals counted in episodes."""

from __future__ import annotations

import pytest

from server.engine.tally import EpisodeEnd, Refusal, Scope, Tally


def test_a_key_is_refused_at_its_cap_and_others_are_not() -> None:
    tally = Tally(per_key=2, total=10)
    assert tally.take("a") is None
    assert tally.take("a") is None
    assert tally.take("a") == Refusal(Scope.KEY, first=True)
    assert tally.take("a") == Refusal(Scope.KEY, first=False)
    assert tally.take("b") is None
    assert (tally.held("a"), tally.held("b"), tally.held()) == (2, 1, 3)


def test_the_total_is_refused_for_every_key_and_for_no_key() -> None:
    tally = Tally(per_key=5, total=2)
    assert tally.take("a") is None
    assert tally.take(None) is None
    assert tally.take("b") == Refusal(Scope.TOTAL, first=True)
    assert tally.take(None) == Refusal(Scope.TOTAL, first=False)
    assert tally.held("b") == 0


def test_an_episode_ends_once_its_key_calms_down_with_its_count() -> None:
    tally = Tally(per_key=10, total=100)
    for _ in range(10):
        tally.take("a")
    for _ in range(7):
        tally.take("a")
    assert tally.release("a") == []  # 9 held: still at 90 % of its cap, the episode goes on
    assert tally.take("a") is None
    assert tally.take("a") == Refusal(Scope.KEY, first=False)
    assert tally.release("a") == []
    assert tally.release("a") == [EpisodeEnd(Scope.KEY, "a", 8)]
    assert tally.take("a") is None  # and the next refusal would open a new episode


def test_the_total_episode_ends_below_its_calm_share() -> None:
    tally = Tally(per_key=1, total=2)
    tally.take("a")
    tally.take("b")
    tally.take("c")
    assert tally.release("a") == [EpisodeEnd(Scope.TOTAL, None, 1)]


def test_a_release_without_a_take_is_a_bug() -> None:
    tally = Tally(per_key=1, total=1)
    tally.take("a")
    tally.release("a")
    assert tally.held() == 0
    with pytest.raises(ValueError, match="without take"):
        tally.release("a")
    with pytest.raises(ValueError, match="without take"):
        tally.release(None)


def test_caps_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Tally(per_key=0, total=1)
