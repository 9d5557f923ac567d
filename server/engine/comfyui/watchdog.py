"""The watchdog over the prompts waiting on one instance: probe it when it goes quiet, fail
them once a question has gone unanswered for `unreachable_timeout` (see `liveness`).

It runs on its own clock, never behind a request: a request to a stopped ComfyUI hangs for
its whole `request_timeout`, and waiting for that is how a run once took 185 s to fail with
a 120 s bound. The failed prompts go on the withdraw list, so a ComfyUI that resumes does not
render them for nobody.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from server.engine.comfyui.dispatch import Dispatcher
from server.engine.comfyui.events import Failed, JobState
from server.engine.comfyui.http import ComfyUIHttp
from server.engine.comfyui.job import ComfyUIJob
from server.engine.comfyui.liveness import Liveness, Verdict, silent_message, verdict
from server.engine.comfyui.withdrawals import Withdrawals
from server.engine.errors import BackendError, BackendUnavailable

log = structlog.get_logger(__name__)


def waiting_jobs(dispatch: Dispatcher) -> list[ComfyUIJob]:
    """Submitted prompts that have not ended (a submission has its own bound)."""
    return [
        job
        for job in dispatch.jobs.values()
        if job.end is None and job.state is not JobState.SUBMITTING
    ]


async def watch_loop(
    http: ComfyUIHttp, dispatch: Dispatcher, liveness: Liveness, withdrawals: Withdrawals
) -> None:
    config = http.config
    probe: asyncio.Task[None] | None = None
    try:
        while True:
            await asyncio.sleep(config.poll_interval)
            waiting = waiting_jobs(dispatch)
            if not waiting:
                continue
            match verdict(
                liveness, probe_after=config.poll_interval, fail_after=config.unreachable_timeout
            ):
                case Verdict.FAIL:
                    fail_silent(http, waiting, liveness.silence(), withdrawals)
                case Verdict.PROBE if probe is None or probe.done():
                    probe = asyncio.create_task(ask(http))
    finally:
        if probe is not None:
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)


async def ask(http: ComfyUIHttp) -> None:
    """Something cheap; its answer is the sign of life (the HTTP layer notes it)."""
    with contextlib.suppress(BackendError):
        await http.get_json("/prompt")


def fail_silent(
    http: ComfyUIHttp, waiting: list[ComfyUIJob], silence: float, withdrawals: Withdrawals
) -> None:
    bound = http.config.unreachable_timeout
    log.warning(
        "comfyui.silent", instance=http.config.name, silence=round(silence, 1), prompts=len(waiting)
    )
    for job in waiting:
        failed = Failed(job.prompt_id, silent_message(bound), BackendUnavailable.code, True)
        job.fail(failed)
        withdrawals.add(job.prompt_id, "the instance stopped answering")
