"""The scheduler's pure rules: ordering keys, the slot queue, positions, coalescing, and when
a moved ETA is worth telling."""

from __future__ import annotations

import pytest

from server.engine.errors import InvalidState
from server.engine.scheduler._queueing import (
    QueueInfo,
    RunPriority,
    SlotQueue,
    Throttle,
    WaitKey,
    WaitReason,
    eta_drifted,
    run_priority,
)


def key(tick: int, rank: int = 0, seq: int = 0, lease: int = 0) -> WaitKey:
    return WaitKey(0, RunPriority(tick, rank, seq or tick), lease or seq or tick)


def test_runs_starting_later_get_later_priorities() -> None:
    first = run_priority(10.0, 1.0, person_starts=5, start_seq=1)
    second = run_priority(11.5, 1.0, person_starts=0, start_seq=2)
    assert first < second


def test_ties_within_a_fairness_window_go_to_the_person_with_fewer_starts() -> None:
    heavy = run_priority(10.1, 1.0, person_starts=3, start_seq=1)
    light = run_priority(10.9, 1.0, person_starts=0, start_seq=2)
    assert light < heavy


def test_a_zero_fairness_window_is_strict_first_come_first_served() -> None:
    heavy = run_priority(10.0, 0.0, person_starts=3, start_seq=1)
    light = run_priority(10.0, 0.0, person_starts=0, start_seq=2)
    assert heavy < light


def test_free_slots_are_granted_at_once_until_the_pool_is_full() -> None:
    queue: SlotQueue[str] = SlotQueue(2)
    assert queue.request(key(1), "a")
    assert queue.request(key(2), "b")
    assert not queue.request(key(3), "c")
    assert (queue.held, queue.waiting) == (2, 1)


def test_release_hands_the_slot_to_the_oldest_waiter_not_the_first_to_ask() -> None:
    queue: SlotQueue[str] = SlotQueue(1)
    queue.request(key(1), "running")
    queue.request(key(5), "fresh stage 1")
    queue.request(key(2), "older run, stage 3")
    assert queue.release() == "older run, stage 3"
    assert queue.held == 1
    assert queue.release() == "fresh stage 1"
    assert queue.release() is None
    assert queue.held == 0


def test_positions_follow_key_order_and_close_up_after_a_removal() -> None:
    queue: SlotQueue[str] = SlotQueue(1)
    queue.request(key(0), "holder")
    for tick, name in [(3, "c"), (1, "a"), (2, "b")]:
        queue.request(key(tick), name)
    assert list(queue) == ["a", "b", "c"]
    assert queue.position(key(3)) == 3
    assert queue.remove(key(2))
    assert queue.position(key(3)) == 2
    assert not queue.remove(key(2))
    assert queue.position(key(2)) is None


def test_release_without_a_held_slot_is_a_bug() -> None:
    queue: SlotQueue[str] = SlotQueue(1)
    with pytest.raises(InvalidState):
        queue.release()


def test_duplicate_wait_keys_are_rejected() -> None:
    queue: SlotQueue[str] = SlotQueue(1)
    queue.request(key(1), "a")
    queue.request(key(2), "b")
    with pytest.raises(ValueError, match="duplicate"):
        queue.request(key(2), "b again")


def test_the_first_change_is_flushed_at_once() -> None:
    throttle = Throttle(0.25)
    assert throttle.request(100.0) == 0.0


def test_changes_during_the_interval_coalesce_into_one_trailing_flush() -> None:
    throttle = Throttle(0.25)
    throttle.request(100.0)
    throttle.flushed(100.0)
    assert throttle.request(100.1) == pytest.approx(0.15)
    assert throttle.request(100.2) is None  # already pending: the same flush carries it
    throttle.flushed(100.25)
    assert not throttle.pending
    assert throttle.request(101.0) == 0.0


def test_a_change_after_a_flush_is_never_dropped() -> None:
    throttle = Throttle(0.25)
    throttle.request(0.0)
    throttle.flushed(0.0)
    delay = throttle.request(0.01)
    assert delay is not None
    assert delay > 0


def test_an_eta_that_follows_the_pages_countdown_has_not_drifted() -> None:
    assert not eta_drifted(30.0, 100.0, 20.0, 110.0)


def test_an_eta_stuck_while_the_countdown_ran_out_has_drifted() -> None:
    # real-peers.md item 7: "6 s" for 22 s. The page shows 1 s; the scheduler expects 8 s.
    assert eta_drifted(6.0, 100.0, 8.0, 122.0)


def test_a_second_of_jitter_is_not_worth_a_message() -> None:
    assert not eta_drifted(10.0, 100.0, 8.0, 103.0)  # the page shows 7 s
    assert eta_drifted(10.0, 100.0, 10.0, 103.0)  # 3 s more than the page shows


def test_long_etas_drift_by_a_share_not_by_seconds() -> None:
    assert not eta_drifted(300.0, 100.0, 280.0, 100.0)
    assert eta_drifted(300.0, 100.0, 260.0, 100.0)


def test_unknown_becoming_known_or_the_reverse_is_always_worth_telling() -> None:
    assert eta_drifted(None, 100.0, 5.0, 101.0)
    assert eta_drifted(5.0, 100.0, None, 101.0)
    assert not eta_drifted(None, 100.0, None, 101.0)


def test_only_the_eta_may_differ_in_the_same_place() -> None:
    here = QueueInfo(WaitReason.SLOT, "llm", "safety", 2, 5, 10.0)
    assert here.same_place(QueueInfo(WaitReason.SLOT, "llm", "safety", 2, 5, 30.0))
    assert not here.same_place(QueueInfo(WaitReason.SLOT, "llm", "safety", 2, 4, 10.0))
    assert not here.same_place(QueueInfo(WaitReason.SLOT, "llm", "translation", 2, 5, 10.0))
