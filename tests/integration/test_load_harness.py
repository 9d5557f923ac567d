"""The load harness: its report against a real server, and its checker on fabricated streams."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.harness.demo import DemoSpeed
from server.harness.load import LoadPlan, QueueProbes, SessionLedger, build_report, run_load
from server.harness.load.metrics import metrics_url, parse_metrics
from server.harness.load.report import Traffic, percentile, render_table
from tests.conftest import MONITOR_TOKEN, ws_url
from tests.pipeline_support import StartPipeline, assert_nothing_left

ZERO = {"atelier_upstream_open": 0.0, "atelier_slots_held": 0.0, "atelier_runs_active": 0.0}


def plan_for(url: str, **fields: Any) -> LoadPlan:
    base: dict[str, Any] = {"sessions": 3, "runs_per_session": 2, "pause": (0.0, 0.02)}
    return LoadPlan(
        url=url, ramp=0.0, run_timeout=15.0, monitor_token=MONITOR_TOKEN, **(base | fields)
    )


async def test_load_counts_every_run_of_every_session(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(monitor_token=MONITOR_TOKEN)
    async with asyncio.timeout(20):
        report = await run_load(plan_for(ws_url(server)))
    assert report["problems"] == []
    assert report["runs"] == {
        "started": 6,
        "refused": 0,
        "completed": 6,
        "blocked": 0,
        "cancelled": 0,
        "failed": 0,
    }
    assert report["latency_seconds"]["run_total"]["n"] == 6
    assert report["latency_seconds"]["first_token"]["n"] == 6
    assert report["server_after"]['atelier_sessions{state="detached"}'] == 3
    assert "PASS" in render_table(report)
    assert_nothing_left(server)


async def test_dropped_links_resume_without_losing_an_event(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(monitor_token=MONITOR_TOKEN)
    plan = plan_for(ws_url(server), drop_rate=1.0, cancel_rate=0.5, seed=7)
    async with asyncio.timeout(20):
        report = await run_load(plan)
    assert report["problems"] == []
    assert report["events"]["reconnects"] > 0
    assert report["server_after"]["atelier_resumes_total"] == report["events"]["reconnects"]
    runs = report["runs"]
    assert runs["completed"] + runs["cancelled"] == runs["started"] == 6


async def test_load_reports_how_far_off_the_image_etas_were(start_pipeline: StartPipeline) -> None:
    # Renders long enough that the runs pile up in the image line behind the first one.
    speed = DemoSpeed(tokens_per_second=0, first_token_delay=0, step_time=0.05, steps=8)
    server = await start_pipeline(speed=speed, monitor_token=MONITOR_TOKEN)
    async with asyncio.timeout(30):
        report = await run_load(plan_for(ws_url(server), sessions=4))
    assert report["problems"] == []
    row = report["eta_error_seconds"]["generation"]
    assert row["first"]["n"] >= 1  # told a number once the first render was measured
    waits = [w for w in report["eta_waits"] if w["stage"] == "generation"]
    assert len(waits) == row["waits"]
    assert all(w["first_waited"] >= 0 for w in waits if w["first_eta"] is not None)
    assert "first generation" in render_table(report)
    assert_nothing_left(server)


# -- the checker, on streams made up for the purpose


def welcome(seq: int = 1) -> dict[str, Any]:
    return {"type": "welcome", "seq": seq, "session": "s1", "resumed": False}


def ledger_with_run() -> SessionLedger:
    ledger = SessionLedger()
    ledger.start_sent("c-1", 0.0)
    for message in (welcome(), {"type": "run.accepted", "seq": 2, "run": "r1", "ref": "c-1"}):
        ledger.observe(message, 0.1)
    return ledger


def done(seq: int) -> dict[str, Any]:
    return {"type": "run.done", "seq": seq, "run": "r1", "status": "completed"}


def report_of(ledger: SessionLedger, after: dict[str, float] | None = None) -> dict[str, Any]:
    return build_report(
        [ledger], Traffic(seconds=1.0), dict(ZERO), ZERO if after is None else after
    )


def test_a_clean_stream_passes() -> None:
    ledger = ledger_with_run()
    ledger.observe(done(3), 0.5)
    assert report_of(ledger)["problems"] == []


def test_a_gap_in_seq_is_reported_as_lost() -> None:
    ledger = ledger_with_run()
    ledger.observe(done(5), 0.5)
    assert report_of(ledger)["problems"] == ["gaps: 1"]


def test_a_repeated_seq_is_reported_as_duplicate() -> None:
    ledger = ledger_with_run()
    ledger.observe(done(3), 0.5)
    ledger.observe(done(3), 0.6)
    assert report_of(ledger)["problems"] == ["duplicates: 1"]


def test_a_run_without_run_done_is_reported() -> None:
    ledger = ledger_with_run()
    ledger.observe({"type": "token", "seq": 3, "run": "r1", "stage": "interception"}, 0.2)
    assert not ledger.settled
    assert report_of(ledger)["problems"] == ["runs_without_one_done: 1"]


def test_a_second_run_done_is_reported() -> None:
    ledger = ledger_with_run()
    ledger.observe(done(3), 0.5)
    ledger.observe(done(4), 0.6)
    assert report_of(ledger)["problems"] == ["runs_without_one_done: 1"]


def test_a_held_slot_after_the_load_is_a_leak() -> None:
    ledger = ledger_with_run()
    ledger.observe(done(3), 0.5)
    problems = report_of(ledger, ZERO | {"atelier_slots_held": 1.0})["problems"]
    assert problems == ["leak: atelier_slots_held = 1"]


def test_resync_on_resume_is_not_a_gap() -> None:
    ledger = ledger_with_run()
    ledger.observe({"type": "resync", "seq": 9, "runs": []}, 0.3)
    ledger.observe(done(10), 0.5)
    assert (ledger.gaps, ledger.duplicates) == (0, 0)


def test_queue_probe_measures_from_cancel_to_the_next_lower_position() -> None:
    probes = QueueProbes()
    ledger = SessionLedger(probes)
    ledger.observe(welcome(), 0.0)
    for n, ref in enumerate(("a", "b"), 1):
        ledger.start_sent(ref, 0.0)
        ledger.observe({"type": "run.accepted", "seq": 1 + n, "run": ref, "ref": ref}, 0.0)
    for seq, (run, position) in enumerate((("a", 2), ("b", 3)), 4):
        queue = {"type": "queue", "seq": seq, "run": run, "stage": "generation"}
        ledger.observe(queue | {"position": position, "length": 3}, 0.1)
    ledger.cancel_sent("a", 1.0, ledger.records())
    ledger.observe(
        {"type": "queue", "seq": 6, "run": "b", "stage": "generation", "position": 2, "length": 2},
        1.25,
    )
    assert probes.delays == [0.25]


def test_metrics_text_is_read_with_labels() -> None:
    text = (
        "# HELP atelier_sessions sessions by state\n"
        'atelier_sessions{state="attached"} 3.0\n'
        "atelier_slots_held 0.0\n"
        "atelier_unrelated 5.0\n"
    )
    assert parse_metrics(text) == {
        'atelier_sessions{state="attached"}': 3.0,
        "atelier_slots_held": 0.0,
    }
    assert metrics_url("ws://127.0.0.1:8080/ws") == "http://127.0.0.1:8080/metrics"


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile([], 50)) == (50, 99, None)


def queued(seq: int, stage: str, eta: float | None, position: int = 1) -> dict[str, Any]:
    return {
        "type": "queue",
        "seq": seq,
        "run": "r1",
        "stage": stage,
        "position": position,
        "length": position,
        "eta": eta,
    }


def test_eta_error_is_what_was_told_minus_the_wait_that_followed() -> None:
    ledger = ledger_with_run()
    ledger.observe(queued(3, "generation", None, position=2), 1.0)
    ledger.observe(queued(4, "generation", 10.0), 2.0)
    ledger.observe(queued(5, "generation", 6.0), 5.0)  # an ETA-only refresh
    ledger.observe({"type": "progress", "seq": 6, "run": "r1", "value": 1, "max": 4}, 13.0)
    ledger.observe(done(7), 14.0)
    report = report_of(ledger)
    row = report["eta_error_seconds"]["generation"]
    assert row["first"]["signed_mean"] == pytest.approx(10.0 - 11.0)
    assert row["last"]["signed_mean"] == pytest.approx(6.0 - 8.0)
    assert (row["waits"], row["never_told"]) == (1, 0)
    assert report["eta_waits"] == [
        {
            "run": "r1",
            "stage": "generation",
            "first_eta": 10.0,
            "first_waited": 11.0,
            "last_eta": 6.0,
            "updates": 3,
        }
    ]
    assert "first generation" in render_table(report)


def test_a_wait_that_ends_without_a_slot_is_not_compared() -> None:
    ledger = ledger_with_run()
    ledger.observe(queued(3, "safety", 3.0), 1.0)
    ledger.observe({"type": "run.done", "seq": 4, "run": "r1", "status": "cancelled"}, 2.0)
    assert report_of(ledger)["eta_error_seconds"] == {}


def test_each_wait_of_a_stage_is_compared_on_its_own() -> None:
    # Stage 3 waits twice: for its translation (streamed), then for its safety check (not).
    ledger = ledger_with_run()
    ledger.observe(queued(3, "translation", 2.0), 1.0)
    ledger.observe({"type": "token", "seq": 4, "run": "r1", "stage": "translation"}, 3.0)
    ledger.observe(queued(5, "translation", 1.0), 4.0)
    stage_done = {"type": "stage", "seq": 6, "run": "r1", "stage": "translation"}
    ledger.observe(stage_done | {"status": "done", "elapsed": 5.0}, 7.0)
    first = report_of(ledger)["eta_error_seconds"]["translation"]["first"]
    assert (first["n"], first["p50"], first["max"]) == (2, 0.0, 2.0)
