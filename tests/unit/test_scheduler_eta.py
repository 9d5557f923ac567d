"""ETA maths: moving averages per pool and stage, list scheduling over slots, retry hints."""

from __future__ import annotations

import pytest

from server.engine.eta import (
    MovingAverage,
    ServiceTimes,
    estimate_waits,
    remaining,
    suggest_retry_after,
)


def test_an_unmeasured_stage_has_no_mean() -> None:
    times = ServiceTimes(window=3)
    assert times.mean("llm-a", "interception") is None


def test_the_mean_covers_only_the_last_window_of_jobs() -> None:
    times = ServiceTimes(window=3)
    for seconds in [100.0, 10.0, 20.0, 30.0]:
        times.record("llm-a", "interception", seconds)
    assert times.mean("llm-a", "interception") == pytest.approx(20.0)


def test_means_are_kept_per_pool_and_stage() -> None:
    times = ServiceTimes(window=5)
    times.record("llm-a", "safety", 2.0)
    times.record("llm-a", "interception", 60.0)
    times.record("llm-b", "safety", 4.0)
    assert times.mean("llm-a", "safety") == 2.0
    assert times.mean("llm-b", "safety") == 4.0
    assert times.pool_mean("llm-a") == pytest.approx(31.0)
    assert times.pool_mean("comfy") is None


def test_the_moving_average_converges_to_a_new_steady_service_time() -> None:
    average = MovingAverage(window=4)
    average.add(1000.0)
    for _ in range(4):
        average.add(8.0)
    assert average.mean == pytest.approx(8.0)


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


def test_an_overrunning_job_is_expected_to_end_now() -> None:
    assert remaining(10.0, 25.0) == 0.0
    assert remaining(10.0, 4.0) == 6.0
    assert remaining(None, 4.0) is None


def test_retry_after_is_the_mean_time_between_slot_grants() -> None:
    hint = suggest_retry_after([(3, 150.0), (1, None)], default=10, floor=1, ceiling=600)
    assert hint == pytest.approx(50.0)


def test_retry_after_falls_back_to_the_default_before_any_measurement() -> None:
    assert suggest_retry_after([(1, None)], default=10, floor=1, ceiling=600) == 10


def test_retry_after_is_clamped() -> None:
    assert suggest_retry_after([(8, 0.5)], default=10, floor=1, ceiling=60) == 1
    assert suggest_retry_after([(1, 9000.0)], default=10, floor=1, ceiling=60) == 60
