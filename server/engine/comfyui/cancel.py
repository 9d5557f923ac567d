"""Taking prompts back (cancel) and settling those whose messages cannot reach us.

Both ask ComfyUI where a prompt is (`where_is`): running, pending, in its history, or gone.
A reconciled prompt either completes from its own history or fails clearly; it never hangs.
A cancel that ComfyUI did not take is the caller's to put on the withdraw list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import StrEnum

import structlog

from server.engine.comfyui.dispatch import Dispatcher
from server.engine.comfyui.errors import PromptLost
from server.engine.comfyui.events import Failed, JobState
from server.engine.comfyui.http import ComfyUIHttp
from server.engine.comfyui.job import ComfyUIJob
from server.engine.errors import BackendError

log = structlog.get_logger(__name__)


async def where_is(http: ComfyUIHttp, prompt_id: str) -> str:
    """Where the prompt is: "running", "pending", "history" (it ended) or "gone"."""
    queue = await http.get_json("/queue")
    if any(item[1] == prompt_id for item in queue.get("queue_running", [])):
        return "running"
    if any(item[1] == prompt_id for item in queue.get("queue_pending", [])):
        return "pending"
    history = await http.get_json(f"/history/{prompt_id}")
    return "history" if history else "gone"


class CancelOutcome(StrEnum):
    CONFIRMED = "confirmed"  # its end was seen
    UNCONFIRMED = "unconfirmed"  # interrupted, but no end within `interrupt_wait`
    UNDELIVERED = "undelivered"  # ComfyUI did not take the request: withdraw it later


async def cancel(http: ComfyUIHttp, job: ComfyUIJob) -> CancelOutcome:
    """Take the prompt back (`take_back`), unless the job ends first some other way: a
    stopped instance holds the requests for their whole `request_timeout`, and the watchdog
    fails the job sooner."""
    request = asyncio.create_task(take_back(http, job))
    ended = asyncio.create_task(job.ended.wait())
    try:
        await asyncio.wait({request, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (request, ended):
            task.cancel()
        await asyncio.gather(request, ended, return_exceptions=True)
    if request.done() and not request.cancelled():
        return request.result()
    assert job.end is not None
    return CancelOutcome.UNDELIVERED if job.end.via == "failed" else CancelOutcome.CONFIRMED


async def take_back(http: ComfyUIHttp, job: ComfyUIJob) -> CancelOutcome:
    """Delete a queued prompt, interrupt a running one, then wait (bounded) for its end."""
    try:
        where = await where_is(http, job.prompt_id)
        if where == "pending":
            await http.post_json("/queue", {"delete": [job.prompt_id]})
            where = await where_is(http, job.prompt_id)
            if where != "running":
                job.finish("deleted")
        if where == "running":
            await http.post_json("/interrupt", {"prompt_id": job.prompt_id})
        if where in ("history", "gone"):
            job.finish(where)
        async with asyncio.timeout(http.config.interrupt_wait):
            await job.ended.wait()
    except TimeoutError:
        log.warning(
            "comfyui.cancel_unconfirmed", prompt_id=job.prompt_id, instance=http.config.name
        )
        return CancelOutcome.UNCONFIRMED
    except BackendError as exc:
        log.warning("comfyui.cancel_failed", prompt_id=job.prompt_id, error=str(exc))
        return CancelOutcome.UNDELIVERED
    return CancelOutcome.CONFIRMED


async def poll_loop(
    http: ComfyUIHttp, dispatch: Dispatcher, client_id: Callable[[], str | None]
) -> None:
    """Reconcile every live job submitted under a socket id other than the current one."""
    while True:
        await asyncio.sleep(http.config.poll_interval)
        for job in list(dispatch.jobs.values()):
            if (
                job.end is None
                and job.state is not JobState.SUBMITTING
                and (job.client_id != client_id())
            ):
                await reconcile(http, job)


async def reconcile(http: ComfyUIHttp, job: ComfyUIJob) -> None:
    """A job whose messages cannot reach us: find its end in /history, or fail it. An
    instance that does not answer is the watchdog's to judge (`watchdog`)."""
    try:
        where = await where_is(http, job.prompt_id)
        if where == "gone":
            where = await where_is(http, job.prompt_id)  # it may have just finished
    except BackendError:
        return
    if where == "history":
        job.finish("history")
    elif where == "gone":
        job.fail(
            Failed(
                job.prompt_id,
                "ComfyUI lost the prompt (the instance restarted?)",
                PromptLost.code,
                True,
            )
        )
