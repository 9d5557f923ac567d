"""The project's exceptions: one misuse error for every state machine, and stable codes that
the protocol document lists."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from server.engine.backends.health import InstanceHealth
from server.engine.comfyui.events import JobState
from server.engine.comfyui.job import ComfyUIJob, PreviewThrottle
from server.engine.errors import AtelierError, BackendError, InvalidState
from server.engine.people.identity import guest
from server.engine.run import Run, RunInputs
from server.engine.scheduler._queueing import SlotQueue
from server.engine.session import Session, SessionState, check_transition
from server.engine.stats import SocketStats
from server.protocol import BackendKind, BackendState, ErrorCode, RunEndCode, RunStatus

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def restart_a_settled_run() -> None:
    inputs = RunInputs("a fox", "bauhaus", "sdxl", "", False, 1, None, None, "en")
    run = Run(
        "r-misused",
        Session("s", "x", log_limit=1, stats=SocketStats(), identity=guest("test")),
        inputs,
    )
    run.finish(RunStatus.CANCELLED)
    run.move(RunStatus.RUNNING)


def make_a_healthy_instance_start() -> None:
    health = InstanceHealth(BackendKind.LLM, "a")
    health.move(BackendState.HEALTHY)
    health.move(BackendState.STARTING)


def end_a_job_that_was_never_queued() -> None:
    job = ComfyUIJob(
        "p",
        "c",
        Path("out"),
        buffer=1,
        throttle=PreviewThrottle(1.0, time.monotonic),
        max_preview_bytes=1,
    )
    job.move(JobState.FINISHED)


MISUSES: dict[str, Callable[[], object]] = {
    "session": lambda: check_transition(SessionState.CLOSED, SessionState.ATTACHED),
    "run": restart_a_settled_run,
    "health": make_a_healthy_instance_start,
    "comfyui job": end_a_job_that_was_never_queued,
    "slot queue": lambda: SlotQueue[str](1).release(),
}


@pytest.mark.parametrize("misuse", MISUSES.values(), ids=MISUSES.keys())
def test_every_state_machine_raises_the_one_misuse_error(misuse: Callable[[], object]) -> None:
    with pytest.raises(InvalidState) as raised:
        misuse()
    assert isinstance(raised.value, AssertionError)  # a bug, not a condition to handle


def test_the_misuse_error_is_apart_from_what_clients_and_backends_cause() -> None:
    assert issubclass(InvalidState, AtelierError)
    assert not issubclass(InvalidState, BackendError)
    assert InvalidState.code is ErrorCode.INTERNAL


def documented_codes(heading: str) -> set[str]:
    section = DOC.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def test_the_run_end_codes_are_exactly_the_documented_ones() -> None:
    assert documented_codes("Run end codes") == {code.value for code in RunEndCode}
