"""After a prompt's end: read its own /history entry and download the files it made.

Never "the newest file": the outputs are exactly those the prompt's history names, saved into
the run's own folder under safe local names. A file the disk refuses is handed on in memory
(`Output.unsaved`): the render succeeded, and the stage decides what becomes of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import structlog

from server.engine.comfyui.errors import PromptLost
from server.engine.comfyui.events import Failed, Finished, JobEvent, JobState, Output
from server.engine.comfyui.http import ComfyUIHttp
from server.engine.comfyui.job import ComfyUIJob
from server.engine.comfyui.results import HistoryOutcome, outcome_from_history
from server.engine.errors import BackendError
from server.engine.media import disk_error

log = structlog.get_logger(__name__)


async def collect(http: ComfyUIHttp, job: ComfyUIJob) -> AsyncIterator[JobEvent]:
    """Output events, then Finished; or Failed with the history's error or ours."""
    try:
        entry = await history_entry(http, job.prompt_id)
        if entry is None:
            raise http.error(
                PromptLost, "ComfyUI has no record of the prompt (the instance restarted?)"
            )
        outcome = outcome_from_history(entry)
        if not outcome.success:
            job.move(JobState.FAILED)
            yield Failed(job.prompt_id, outcome.error, outcome.code)
            return
        paths: list[Path] = []
        async for event in download(http, job, outcome):
            paths.extend(event.paths)
            yield event
        job.move(JobState.FINISHED)
        yield Finished(job.prompt_id, tuple(paths), job.partial_errors)
    except BackendError as exc:
        job.move(JobState.FAILED)
        yield Failed(job.prompt_id, str(exc), exc.code, exc.retryable)


async def history_entry(http: ComfyUIHttp, prompt_id: str) -> dict[str, Any] | None:
    # History is written in task_done, before `executing null`; a few short retries
    # cover a poll that raced it.
    for attempt in range(5):
        history = await http.get_json(f"/history/{prompt_id}")
        if isinstance(history, dict) and isinstance(history.get(prompt_id), dict):
            entry: dict[str, Any] = history[prompt_id]
            return entry
        await asyncio.sleep(http.config.poll_interval / 10 * (attempt + 1))
    return None


async def download(
    http: ComfyUIHttp, job: ComfyUIJob, outcome: HistoryOutcome
) -> AsyncIterator[Output]:
    for file in outcome.files:
        dest = job.output_dir / file.local_name()
        data, mime = await http.download(file.view_params())
        unsaved = await save(job, dest, data)
        yield Output((dest,), mime, file.node, unsaved)


async def save(job: ComfyUIJob, dest: Path, data: bytes) -> bytes | None:
    """Write one output with the job's writer; the bytes back when the disk refused them."""
    try:
        await asyncio.to_thread(job.writer, dest, data)
    except OSError as exc:
        log.error("media_not_saved", prompt=job.prompt_id, file=dest.name, error=disk_error(exc))
        return data
    return None
