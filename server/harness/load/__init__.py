"""`python -m server.harness load`: drive N browser-like sessions against an Atelier server.

Each session (a `websockets` client, like the page) starts M runs with pauses between them,
optionally cancels some and loses and resumes its connection (seeded). The report, as a table
and optionally as JSON, gives run outcomes, latency percentiles, how far off the queue ETAs
were (per stage, and per wait in the JSON), events per second, reconnects and replays, and the
server's counters before and after. The exit status is 1 when anything
leaked (open upstream responses, held slots, active runs not back to 0) or any event was lost
(a gap or duplicate in `seq`, a run without exactly one `run.done`).

    python -m server.harness load --url ws://127.0.0.1:8080/ws --sessions 50 --runs 2
    python -m server.harness load --spawn --sessions 250 --runs 2 --json load.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from server.harness.load.driver import LoadPlan, run_load
from server.harness.load.ledger import QueueProbes, SessionLedger
from server.harness.load.report import build_report, render_table
from server.harness.load.spawn import LLM_MODES, SpawnPlan, spawned

__all__ = [
    "LoadPlan",
    "QueueProbes",
    "SessionLedger",
    "SpawnPlan",
    "build_report",
    "render_table",
    "run_cli",
    "run_load",
]


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m server.harness load", description=(__doc__ or "").split("\n\n")[0]
    )
    p.add_argument("--url", help="the server's WebSocket URL (ws://host:port/ws)")
    p.add_argument("--spawn", action="store_true", help="start server and simulators as processes")
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--runs", type=int, default=2, help="runs per session")
    p.add_argument("--interception", default="bauhaus")
    p.add_argument("--pause", type=_pair, default=(0.5, 2.0), help="MIN,MAX seconds between runs")
    p.add_argument("--ramp", type=float, default=1.0, help="seconds over which sessions connect")
    p.add_argument("--cancel-rate", type=float, default=0.0, help="share of runs cancelled")
    p.add_argument("--drop-rate", type=float, default=0.0, help="share of runs with a dropped link")
    p.add_argument("--run-timeout", type=float, default=300.0)
    p.add_argument("--settle-timeout", type=float, default=15.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--origin", help="Origin header to send (when the server checks it)")
    p.add_argument("--json", type=Path, help="also write the report here")
    p.add_argument(
        "--monitor-token",
        default=os.environ.get("ATELIER_MONITOR_TOKEN"),
        help="the server's monitor_token, to read /metrics (default: $ATELIER_MONITOR_TOKEN; "
        "--spawn makes one)",
    )
    spawn = p.add_argument_group("--spawn: simulator speed and server")
    spawn.add_argument("--tokens-per-second", type=float, default=0.0, help="0: unthrottled")
    spawn.add_argument("--first-token-delay", type=float, default=0.0)
    spawn.add_argument("--llm-slots", type=int, default=8)
    spawn.add_argument("--step-time", type=float, default=0.01)
    spawn.add_argument("--steps", type=int, default=4)
    spawn.add_argument("--comfyui-instances", type=int, default=1)
    spawn.add_argument("--safety-level", default="kids")
    spawn.add_argument(
        "--llm-mode", choices=sorted(LLM_MODES), default="ollama", help="which LLM server to play"
    )
    spawn.add_argument("--llm-instances", type=int, default=1)
    spawn.add_argument("--health-interval", type=float, help="server setting (default: its own)")
    spawn.add_argument("--health-timeout", type=float, help="server setting (default: its own)")
    args = p.parse_args(argv)
    if not args.spawn and not args.url:
        p.error("give --url of a running server, or --spawn")
    if args.spawn and not args.monitor_token:
        args.monitor_token = secrets.token_urlsafe(32)
    return args


def plan_of(args: argparse.Namespace, url: str) -> LoadPlan:
    return LoadPlan(
        url=url,
        sessions=args.sessions,
        runs_per_session=args.runs,
        interception=args.interception,
        pause=args.pause,
        ramp=args.ramp,
        cancel_rate=args.cancel_rate,
        drop_rate=args.drop_rate,
        run_timeout=args.run_timeout,
        settle_timeout=args.settle_timeout,
        seed=args.seed,
        origin=args.origin,
        monitor_token=args.monitor_token,
    )


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[str]:
    if not args.spawn:
        yield str(args.url)
        return
    plan = SpawnPlan(
        tokens_per_second=args.tokens_per_second,
        first_token_delay=args.first_token_delay,
        llm_slots=args.llm_slots,
        step_time=args.step_time,
        steps=args.steps,
        comfyui_instances=args.comfyui_instances,
        sessions=args.sessions,
        runs_per_session=args.runs,
        safety_level=args.safety_level,
        llm_mode=args.llm_mode,
        llm_instances=args.llm_instances,
        health_interval=args.health_interval,
        health_timeout=args.health_timeout,
        monitor_token=args.monitor_token,
    )
    with spawned(plan) as url:
        yield url


def _raise_fd_limit(needed: int) -> None:
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < needed:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def run_cli(argv: list[str]) -> None:
    args = parse_args(argv[1:])
    _raise_fd_limit(args.sessions + 256)
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    with _target(args) as url:
        report = runner(run_load(plan_of(args, url)))
    print(render_table(report))
    if args.json:
        args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    sys.exit(1 if report["problems"] else 0)
