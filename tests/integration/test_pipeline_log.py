"""Every run's end is one `run_done` log line: status, the stage it ended in, its code, timings
per stage and total; the technical error when it failed; never the student's prompt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from structlog.testing import capture_logs

from server.engine import pipeline
from server.engine.pipeline import StageStep
from server.engine.stages.context import StageContext, StageResult
from server.harness.client import AtelierClient, Message
from server.harness.demo import DemoSpeed
from server.protocol import StageName
from tests.pipeline_support import StartPipeline, connected, demo_of, run_done, start_run

SLOW_TOKENS = DemoSpeed(tokens_per_second=15, first_token_delay=0, step_time=0.005, steps=4)
RUN_ENDS = {"run_done", "run_failed", "run_crashed"}


def ends_of(logs: Sequence[Mapping[str, Any]], run: str) -> list[Mapping[str, Any]]:
    return [e for e in logs if e["event"] in RUN_ENDS and e.get("run") == run]


def assert_matches_run_done(line: Mapping[str, Any], done: Message) -> None:
    """The log line and the client's `run.done` tell the same story."""
    assert line["status"] == done["status"]
    assert line["code"] == done["code"]
    assert line["timings"] == done["timings"]
    assert line["total"] == done["total"]


async def test_completed_and_blocked_runs_each_log_one_run_done_line(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids")
    client = await connected(server)
    with capture_logs() as logs:
        completed = await start_run(client, "a calm lake under seventeen moons")
        completed_done = await run_done(client, completed)
        blocked = await start_run(client, "a knight with a gun and seventeen moons")
        blocked_done = await run_done(client, blocked)

    [line] = ends_of(logs, completed)
    assert (line["event"], line["log_level"], line["status"]) == ("run_done", "info", "completed")
    assert (line["stage"], line["code"]) == (None, None)
    assert set(line["timings"]) == {"safety", "interception", "translation", "generation"}
    assert_matches_run_done(line, completed_done)

    [line] = ends_of(logs, blocked)
    assert (line["event"], line["log_level"], line["status"]) == ("run_done", "info", "blocked")
    assert (line["stage"], line["code"]) == ("safety", "blocked")
    assert_matches_run_done(line, blocked_done)
    assert "seventeen moons" not in repr(logs)  # a child's text stays in the run record
    await client.close()


async def cancel(client: AtelierClient) -> tuple[str, Message]:
    run = await start_run(client, "a quiet harbour with seventeen boats")
    await client.wait_for(lambda m: m["type"] == "token" and m["run"] == run)
    await client.send({"type": "run.cancel", "run": run})
    return run, await run_done(client, run)


async def test_cancelled_and_failed_runs_each_log_one_run_done_line(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult", speed=SLOW_TOKENS)
    client = await connected(server)
    with capture_logs() as logs:
        cancelled, cancelled_done = await cancel(client)
        await demo_of(server).llm.stop()  # the language model goes away
        failed = await start_run(client, "a quiet harbour with seventeen boats")
        failed_done = await run_done(client, failed)

    [line] = ends_of(logs, cancelled)
    assert (line["event"], line["log_level"], line["status"]) == ("run_done", "info", "cancelled")
    assert (line["stage"], line["code"]) == ("interception", "cancelled")
    assert set(line["timings"]) == {"safety"}  # the stage it was cut off in has no time
    assert_matches_run_done(line, cancelled_done)

    [line] = ends_of(logs, failed)
    assert (line["event"], line["log_level"], line["status"]) == ("run_done", "warning", "failed")
    assert (line["stage"], line["code"]) == ("interception", failed_done["code"])
    assert "127.0.0.1" in line["error"]  # the technical account is for the operator
    assert_matches_run_done(line, failed_done)
    assert "seventeen boats" not in repr(logs)
    await client.close()


async def test_a_run_ended_by_a_bug_logs_one_line_with_the_traceback(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: StageContext) -> StageResult:
        raise RuntimeError("a bug in a stage")

    monkeypatch.setattr(pipeline, "STAGES", (StageStep(StageName.SAFETY, broken),))
    server = await start_pipeline(safety_level="adult")
    client = await connected(server)
    with capture_logs() as logs:
        run = await start_run(client, "a calm lake")
        done = await run_done(client, run)

    [line] = ends_of(logs, run)
    assert (line["event"], line["log_level"], line["status"]) == ("run_done", "error", "failed")
    assert isinstance(line["exc_info"], RuntimeError)
    assert line["code"] == done["code"] == "internal"
    assert done["reason"] == "Something went wrong on the server. Please try again."
    await client.close()
