"""The load harness reports the backend health changes a load caused, from two /metrics
scrapes."""

from __future__ import annotations

from server.harness.load.metrics import parse_metrics, transitions_during

BEFORE = """\
atelier_backend_transitions_total{instance="a",kind="llm",state="healthy"} 1.0
atelier_backend_transitions_total{instance="b",kind="llm",state="healthy"} 1.0
"""
AFTER = """\
atelier_backend_transitions_total{instance="a",kind="llm",state="healthy"} 2.0
atelier_backend_transitions_total{instance="a",kind="llm",state="unhealthy"} 1.0
atelier_backend_transitions_total{instance="b",kind="llm",state="healthy"} 1.0
atelier_backend_transitions_total{instance="b",kind="llm",state="down"} 2.0
"""


def test_changes_during_the_load_are_summed_over_instances_by_state() -> None:
    before, after = parse_metrics(BEFORE), parse_metrics(AFTER)
    assert transitions_during(before, after) == {"down": 2, "healthy": 1, "unhealthy": 1}


def test_a_quiet_load_changed_nothing() -> None:
    before = parse_metrics(BEFORE)
    assert transitions_during(before, before) == {"healthy": 0}
