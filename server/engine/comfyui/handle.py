"""`ComfyUIRun`: what a submitted prompt looks like to the stage that follows it: its id and
one stream of events, the job's own (queued, progress, previews) and then its outputs."""

from __future__ import annotations

from collections.abc import AsyncIterator

from server.engine.comfyui.events import Failed, JobEvent, JobState
from server.engine.comfyui.http import ComfyUIHttp
from server.engine.comfyui.job import ComfyUIJob
from server.engine.comfyui.outputs import collect


class ComfyUIRun:
    """The handle `ComfyUIClient.run()` yields: the prompt id and its event stream."""

    def __init__(self, http: ComfyUIHttp, job: ComfyUIJob) -> None:
        self._http = http
        self._job = job

    @property
    def prompt_id(self) -> str:
        return self._job.prompt_id

    @property
    def dropped_previews(self) -> int:
        return self._job.dropped

    async def events(self) -> AsyncIterator[JobEvent]:
        """Queued, Started, Progress/Preview..., Output..., then Finished or Failed."""
        job = self._job
        while True:
            for event in await job.next_batch():
                yield event
                if isinstance(event, Failed):
                    job.move(JobState.FAILED)
                    return
            if job.end is not None and not job.buffer:
                break
        job.move(JobState.ENDED)
        async for event in collect(self._http, job):
            yield event
