"""Taking prompts back (cancel, withdraw) and settling those whose messages cannot reach us.

Both ask ComfyUI where a prompt is (`where_is`): running, pending, in its history, or gone.
A reconciled prompt either completes from its own history or fails clearly; it never hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

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


async def withdraw(http: ComfyUIHttp, prompt_id: str) -> None:
    """Best effort: delete the prompt from the queue and interrupt it if it already runs."""
    with contextlib.suppress(BackendError):
        await http.post_json("/queue", {"delete": [prompt_id]})
        await http.post_json("/interrupt", {"prompt_id": prompt_id})


async def cancel(http: ComfyUIHttp, job: ComfyUIJob) -> bool:
    """Delete a queued prompt, interrupt a running one, then wait (bounded) for its end.

    False when its end was not confirmed within `interrupt_wait`; a failed request is logged.
    """
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
        return False
    except BackendError as exc:
        log.warning("comfyui.cancel_failed", prompt_id=job.prompt_id, error=str(exc))
    return True


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
    """A job whose messages cannot reach us: find its end in /history, or fail it."""
    loop = asyncio.get_running_loop()
    try:
        where = await where_is(http, job.prompt_id)
        if where == "gone":
            where = await where_is(http, job.prompt_id)  # it may have just finished
    except BackendError as exc:
        job.unreachable_since = job.unreachable_since or loop.time()
        if loop.time() - job.unreachable_since > http.config.unreachable_timeout:
            job.fail(Failed(job.prompt_id, f"ComfyUI unreachable: {exc}", exc.code, True))
        return
    job.unreachable_since = None
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
