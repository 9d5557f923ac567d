"""ETA maths: capped service records per pool and stage, remaining time of a running job, the
rest of a run in a pool, list scheduling over slots, retry hints."""

from __future__ import annotations

import pytest

from server.engine.scheduler._eta import (
    OUTLIER_CAP,
    OVERRUN_SHARE,
    ServiceRecord,
    ServiceTimes,
    Work,
    estimate_waits,
    rests,
    suggest_retry_after,
)


def record_of(*seconds: float, window: int = 20) -> ServiceRecord:
    record = ServiceRecord(window)
    for value in seconds:
        record.add(value)
    return record


def test_an_unmeasured_stage_has_no_estimate() -> None:
    times = ServiceTimes(window=3)
    assert times.typical("llm-a", "interception") is None
    assert times.remaining("llm-a", "interception", 5.0) is None


def test_the_typical_time_covers_only_the_last_window_of_jobs() -> None:
    times = ServiceTimes(window=3)
    for seconds in [100.0, 10.0, 20.0, 30.0]:
        times.record("llm-a", "interception", seconds)
    assert times.typical("llm-a", "interception") == pytest.approx(20.0)


def test_records_are_kept_per_pool_and_stage() -> None:
    times = ServiceTimes(window=5)
    times.record("llm-a", "safety", 2.0)
    times.record("llm-a", "interception", 60.0)
    times.record("llm-b", "safety", 4.0)
    assert times.typical("llm-a", "safety") == 2.0
    assert times.typical("llm-b", "safety") == 4.0
    assert times.pool_typical("llm-a") == pytest.approx(31.0)
    assert times.pool_typical("comfy") is None


def test_one_outlier_counts_for_at_most_a_few_medians() -> None:
    record = record_of(4.0, 4.0, 4.0, 4.0, 400.0)
    assert record.typical == pytest.approx((4 * 4.0 + OUTLIER_CAP * 4.0) / 5)  # not 83.2


def test_a_regular_long_mode_under_the_cap_is_averaged_in_full() -> None:
    assert record_of(3.0, 3.0, 3.0, 10.0, 10.0).typical == pytest.approx(5.8)


def test_the_record_converges_to_a_new_steady_service_time() -> None:
    record = record_of(1000.0, window=4)
    for _ in range(4):
        record.add(8.0)
    assert record.typical == pytest.approx(8.0)


def test_a_job_that_has_not_started_is_expected_to_take_the_typical_time() -> None:
    record = record_of(6.0, 6.0, 30.0, 30.0)
    assert record.remaining(0.0) == pytest.approx(record.typical)


def test_a_running_job_is_expected_to_be_one_of_the_jobs_longer_than_its_elapsed_time() -> None:
    record = record_of(6.0, 6.0, 30.0, 30.0)
    assert record.remaining(2.0) == pytest.approx(16.0)  # (4 + 4 + 28 + 28) / 4
    assert record.remaining(10.0) == pytest.approx(20.0)  # only the 30 s jobs last that long


def test_a_uniform_job_near_its_end_is_expected_to_end_soon() -> None:
    assert record_of(6.0, 6.0, 6.0).remaining(5.9) == pytest.approx(0.1)


def test_a_job_past_every_recorded_time_keeps_needing_more_the_longer_it_runs() -> None:
    # real-peers.md item 7: a job 20 s into a stage of 6 s jobs is not "done in 0 s".
    record = record_of(6.0, 6.0, 6.0)
    assert record.remaining(6.0) == pytest.approx(0.0)
    assert record.remaining(20.0) == pytest.approx(OVERRUN_SHARE * 14.0)
    assert record.remaining(30.0) == pytest.approx(OVERRUN_SHARE * 24.0)


def test_runs_mostly_blocked_at_once_do_not_hide_the_rest_of_the_others() -> None:
    assert record_of(0.0, 0.0, 0.0, 10.0).typical == pytest.approx(2.5)


def test_the_rest_of_a_job_is_its_runs_later_time_in_the_same_pool() -> None:
    jobs = [
        ("llm", "safety", 0.5),
        ("llm", "interception", 2.0),
        ("llm", "translation", 1.0),
        ("comfy", "generation", 4.0),
    ]
    assert list(rests(jobs)) == [
        ("llm", "safety", 3.0),
        ("llm", "interception", 1.0),
        ("llm", "translation", 0.0),
        ("comfy", "generation", 0.0),
    ]


def test_the_rest_is_unknown_until_a_run_that_passed_the_stage_has_ended() -> None:
    times = ServiceTimes(window=5)
    times.record("llm", "safety", 2.0)
    assert times.rest("llm", "safety") is None
    times.record_run([("llm", "safety", 2.0), ("llm", "interception", 8.0)])
    assert times.rest("llm", "safety") == pytest.approx(8.0)
    assert times.rest("llm", "interception") == pytest.approx(0.0)


def test_a_window_must_hold_a_sample() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ServiceRecord(0)


def running(*jobs: float | None, rest: float | None = 0.0) -> list[Work]:
    """Jobs in the slots, all ahead of every waiter."""
    return [Work(-0.5, job, rest) for job in jobs]


def line(*jobs: float | None, rest: float | None = 0.0) -> list[Work]:
    return [Work(rank, job, rest) for rank, job in enumerate(jobs)]


def test_waits_on_one_slot_add_up_the_jobs_ahead() -> None:
    assert estimate_waits(1, running(5.0), line(10.0, 10.0, 10.0)) == [5.0, 15.0, 25.0]


def test_waits_are_shared_out_over_the_pools_slots() -> None:
    assert estimate_waits(2, running(4.0, 1.0), line(10.0, 10.0, 10.0)) == [1.0, 4.0, 11.0]


def test_free_slots_count_as_available_now() -> None:
    assert estimate_waits(3, running(6.0), line(2.0, 2.0)) == [0.0, 0.0]


def test_an_unmeasured_running_job_makes_every_estimate_unknown() -> None:
    assert estimate_waits(1, running(None), line(1.0, 1.0)) == [None, None]
    assert estimate_waits(1, running(1.0, rest=None), line(1.0, 1.0)) == [None, None]


def test_everyone_behind_an_unmeasured_job_has_no_estimate() -> None:
    etas = estimate_waits(1, running(0.0), line(3.0, None, 3.0, 3.0))
    assert etas == [0.0, 3.0, None, None]
    waiting = [Work(0, 3.0, None), Work(1, 3.0, 0.0)]
    assert estimate_waits(1, running(0.0), waiting) == [0.0, None]


def test_runs_ahead_come_back_for_their_rest_before_later_waiters() -> None:
    # One slot: the head waiter takes the slot a run frees, then that run's next stages go
    # ahead of everyone after it: h safety, r0 safety, h rest, r0 rest, then r1.
    etas = estimate_waits(1, running(2.0, rest=8.0), line(2.0, 2.0, rest=8.0))
    assert etas == [2.0, 20.0]


def test_a_running_run_ranked_after_a_waiter_comes_back_only_before_those_after_it() -> None:
    waiting = line(2.0, 2.0)
    assert estimate_waits(1, [Work(0.5, 2.0, 8.0)], waiting) == [2.0, 12.0]
    assert estimate_waits(1, [Work(1.5, 2.0, 8.0)], waiting) == [2.0, 4.0]


def test_retry_after_is_the_mean_time_between_slot_grants() -> None:
    hint = suggest_retry_after([(3, 150.0), (1, None)], default=10, floor=1, ceiling=600)
    assert hint == pytest.approx(50.0)


def test_retry_after_falls_back_to_the_default_before_any_measurement() -> None:
    assert suggest_retry_after([(1, None)], default=10, floor=1, ceiling=600) == 10


def test_retry_after_is_clamped() -> None:
    assert suggest_retry_after([(8, 0.5)], default=10, floor=1, ceiling=60) == 1
    assert suggest_retry_after([(1, 9000.0)], default=10, floor=1, ceiling=60) == 60
