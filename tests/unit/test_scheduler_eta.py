"""ETA maths: capped service records per pool and stage, remaining time of a running job,
list scheduling over slots, retry hints."""

from __future__ import annotations

import pytest

from server.engine.eta import (
    OUTLIER_CAP,
    OVERRUN_SHARE,
    ServiceRecord,
    ServiceTimes,
    estimate_waits,
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


def test_a_window_must_hold_a_sample() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ServiceRecord(0)


def test_waits_on_one_slot_add_up_the_jobs_ahead() -> None:
    etas = list(estimate_waits(1, [5.0], [10.0, 10.0, 10.0]))
    assert etas == [5.0, 15.0, 25.0]


def test_waits_are_shared_out_over_the_pools_slots() -> None:
    etas = list(estimate_waits(2, [4.0, 1.0], [10.0, 10.0, 10.0]))
    assert etas == [1.0, 4.0, 11.0]


def test_free_slots_count_as_available_now() -> None:
    assert list(estimate_waits(3, [6.0], [2.0, 2.0])) == [0.0, 0.0]


def test_an_unmeasured_running_job_makes_every_estimate_unknown() -> None:
    assert list(estimate_waits(1, [None], [1.0, 1.0])) == [None, None]


def test_everyone_behind_an_unmeasured_job_has_no_estimate() -> None:
    etas = list(estimate_waits(1, [0.0], [3.0, None, 3.0, 3.0]))
    assert etas == [0.0, 3.0, None, None]


def test_retry_after_is_the_mean_time_between_slot_grants() -> None:
    hint = suggest_retry_after([(3, 150.0), (1, None)], default=10, floor=1, ceiling=600)
    assert hint == pytest.approx(50.0)


def test_retry_after_falls_back_to_the_default_before_any_measurement() -> None:
    assert suggest_retry_after([(1, None)], default=10, floor=1, ceiling=600) == 10


def test_retry_after_is_clamped() -> None:
    assert suggest_retry_after([(8, 0.5)], default=10, floor=1, ceiling=60) == 1
    assert suggest_retry_after([(1, 9000.0)], default=10, floor=1, ceiling=60) == 60
