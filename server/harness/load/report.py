"""The load report: counts, latency percentiles, ETA errors, server counters, the verdict. Pure.

Built from the sessions' ledgers and two /metrics scrapes; rendered as a table for people and
as a JSON-ready dict for machines. `problems` lists why the run failed (empty: it passed).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.harness.load.etas import EtaWait
from server.harness.load.ledger import RunRecord, SessionLedger
from server.harness.load.metrics import transitions_during

#: Gauges that must be back at zero once every run ended and every session closed.
MUST_BE_ZERO = ("atelier_upstream_open", "atelier_slots_held", "atelier_runs_active")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


@dataclass
class Latencies:
    """Seconds, each measured at the client (see docs/performance.md for the definitions)."""

    admission_wait: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    run_total: list[float] = field(default_factory=list)
    queue_update: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)

    def add(self, record: RunRecord) -> None:
        if record.accepted_at is not None and record.first_stage_at is not None:
            self.admission_wait.append(record.first_stage_at - record.accepted_at)
        if record.first_token_at is not None:
            self.first_token.append(record.first_token_at - record.sent_at)
        if record.done_at is not None:
            self.run_total.append(record.done_at - record.sent_at)
        for stage, elapsed in record.stage_elapsed.items():
            self.stages.setdefault(stage, []).append(elapsed)

    def rows(self) -> dict[str, dict[str, float | int | None]]:
        rows = {
            "admission_wait": summary(self.admission_wait),
            "first_token": summary(self.first_token),
        }
        rows |= {f"stage.{name}": summary(v) for name, v in sorted(self.stages.items())}
        rows["run_total"] = summary(self.run_total)
        rows["queue_update_delay"] = summary(self.queue_update)
        return rows


def eta_errors(records: Iterable[RunRecord]) -> dict[str, dict[str, Any]]:
    """Per stage: how far the first and the last ETA told were from the wait that followed."""
    by_stage: dict[str, list[EtaWait]] = {}
    for record in records:
        for wait in record.etas.done:
            by_stage.setdefault(wait.stage, []).append(wait)
    return {stage: _eta_row(waits) for stage, waits in sorted(by_stage.items())}


def _eta_row(waits: list[EtaWait]) -> dict[str, Any]:
    first = [e for w in waits if (e := w.error(w.first)) is not None]
    last = [e for w in waits if (e := w.error(w.last)) is not None]
    return {
        "waits": len(waits),
        "never_told": sum(1 for w in waits if w.first is None),
        "first": error_summary(first),
        "last": error_summary(last),
    }


def error_summary(errors: Sequence[float]) -> dict[str, float | int | None]:
    """Percentiles of |told - actual|, and its signed mean (positive: told too long)."""
    sizes = [abs(e) for e in errors]
    return {
        "n": len(errors),
        "p50": percentile(sizes, 50),
        "p90": percentile(sizes, 90),
        "max": max(sizes, default=None),
        "signed_mean": sum(errors) / len(errors) if errors else None,
    }


@dataclass
class Traffic:
    """What the harness observed on the wire, beside the ledgers."""

    seconds: float
    reconnects: int = 0
    replayed: int = 0
    client_gaps: int = 0
    client_duplicates: int = 0


def build_report(
    ledgers: Iterable[SessionLedger],
    traffic: Traffic,
    before: dict[str, float],
    after: dict[str, float],
    queue_delays: Sequence[float] = (),
) -> dict[str, Any]:
    ledgers = list(ledgers)
    records = [r for ledger in ledgers for r in ledger.records()]
    latencies = Latencies(queue_update=list(queue_delays))
    for record in records:
        latencies.add(record)
    statuses = Counter(r.status for r in records if r.status)
    messages = sum(ledger.messages for ledger in ledgers)
    integrity = {
        "gaps": sum(ledger.gaps for ledger in ledgers),
        "duplicates": sum(ledger.duplicates for ledger in ledgers),
        "orphan_events": sum(ledger.orphans for ledger in ledgers),
        "runs_without_one_done": sum(len(ledger.lost_runs()) for ledger in ledgers),
        "client_gaps": traffic.client_gaps,
        "client_duplicates": traffic.client_duplicates,
    }
    report: dict[str, Any] = {
        "sessions": len(ledgers),
        "runs": {
            "started": len(records),
            "refused": sum(1 for r in records if r.refused is not None),
            **{s: statuses.get(s, 0) for s in ("completed", "blocked", "cancelled", "failed")},
        },
        "latency_seconds": latencies.rows(),
        "eta_error_seconds": eta_errors(records),
        "eta_waits": [w.row(str(r.run)) for r in records for w in r.etas.done],
        "events": {
            "received": messages,
            "seconds": round(traffic.seconds, 3),
            "per_second": round(messages / traffic.seconds, 1) if traffic.seconds > 0 else None,
            "reconnects": traffic.reconnects,
            "replayed": traffic.replayed,
        },
        "integrity": integrity,
        "server_before": before,
        "server_after": after,
        "backend_transitions": transitions_during(before, after),
    }
    report["problems"] = problems(report)
    return report


def problems(report: dict[str, Any]) -> list[str]:
    found = [f"{name}: {count}" for name, count in report["integrity"].items() if count]
    after = report["server_after"]
    found += [f"leak: {name} = {after[name]:g}" for name in MUST_BE_ZERO if after.get(name)]
    if not after:
        found.append("the server's /metrics could not be read after the run")
    return found


def _fmt(value: float | int | None, scale: float = 1000.0, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value * scale:.{digits}f}"


def _eta_lines(rows: dict[str, dict[str, Any]]) -> list[str]:
    """First and last ETA told against the wait that followed, per stage, in seconds."""
    lines = [
        "",
        f"{'ETA told-actual (s)':22} {'n':>6} {'p50':>9} {'p90':>9} {'max':>9} {'mean':>9}",
    ]
    for which in ("first", "last"):
        for stage, row in rows.items():
            errors = row[which]
            cells = " ".join(
                f"{_fmt(errors[k], 1.0, 2):>9}" for k in ("p50", "p90", "max", "signed_mean")
            )
            lines.append(f"{which + ' ' + stage:22} {errors['n']:>6} {cells}")
    never = ", ".join(f"{stage} {row['never_told']}" for stage, row in rows.items())
    return [*lines, f"waits never told a number: {never or '-'}"]


def render_table(report: dict[str, Any]) -> str:
    runs = report["runs"]
    lines = [
        f"sessions {report['sessions']}, runs started {runs['started']}: "
        + ", ".join(f"{k} {v}" for k, v in runs.items() if k != "started"),
        "",
        f"{'latency (ms)':22} {'n':>6} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}",
    ]
    for name, row in report["latency_seconds"].items():
        cells = " ".join(f"{_fmt(row[k]):>9}" for k in ("p50", "p95", "p99", "max"))
        lines.append(f"{name:22} {row['n']:>6} {cells}")
    lines += _eta_lines(report["eta_error_seconds"])
    events = report["events"]
    lines += [
        "",
        f"events {events['received']} in {events['seconds']} s = {events['per_second']}/s; "
        f"reconnects {events['reconnects']}, replayed {events['replayed']}",
        "integrity: " + ", ".join(f"{k} {v}" for k, v in report["integrity"].items()),
        "backend health changes during the load: "
        + (", ".join(f"{k} {v}" for k, v in report["backend_transitions"].items()) or "none"),
        "",
        f"{'server counter':34} {'before':>10} {'after':>10}",
    ]
    before, after = report["server_before"], report["server_after"]
    for name in sorted(set(before) | set(after)):
        lines.append(f"{name:34} {before.get(name, '-')!s:>10} {after.get(name, '-')!s:>10}")
    verdict = "PASS" if not report["problems"] else "FAIL: " + "; ".join(report["problems"])
    lines += ["", verdict]
    return "\n".join(lines)
