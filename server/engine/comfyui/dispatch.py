"""Routing decoded WebSocket frames to the job they concern (no I/O)."""

from __future__ import annotations

from server.engine.comfyui.events import JobState, Progress, Queued, Started
from server.engine.comfyui.frames import PreviewFrame, TextMessage
from server.engine.comfyui.job import ComfyUIJob


class Dispatcher:
    """Holds the jobs by prompt id and applies messages to them."""

    def __init__(self) -> None:
        self.jobs: dict[str, ComfyUIJob] = {}
        self.queue_remaining = 0
        #: Legacy preview frames carry no prompt id: they belong to the prompt running now.
        self.running_prompt: str | None = None

    def on_text(self, message: TextMessage) -> None:
        if message.type == "status":
            info = message.data.get("status", {}).get("exec_info", {})
            self.queue_remaining = int(info.get("queue_remaining", 0))
            return
        job = self.jobs.get(message.prompt_id or "")
        if job is None or job.end is not None:
            return
        handler = _HANDLERS.get(message.type)
        if handler is not None:
            handler(self, job, message)

    def on_preview(self, frame: PreviewFrame) -> None:
        job = self.jobs.get(frame.prompt_id or self.running_prompt or "")
        if job is not None and job.end is None:
            job.offer_preview(frame.image, frame.mime, frame.node_id)

    def _started(self, job: ComfyUIJob, message: TextMessage) -> None:
        announce_queued(job, 0)
        job.move(JobState.RUNNING)
        self.running_prompt = job.prompt_id
        job.push(Started(job.prompt_id))

    def _executing(self, job: ComfyUIJob, message: TextMessage) -> None:
        if message.data.get("node") is None:
            if self.running_prompt == job.prompt_id:
                self.running_prompt = None
            job.finish("websocket")
        else:
            self.running_prompt = job.prompt_id

    def _progress(self, job: ComfyUIJob, message: TextMessage) -> None:
        data = message.data
        node = data.get("node")
        job.push(
            Progress(
                int(data.get("value", 0)),
                int(data.get("max", 0)),
                node if isinstance(node, str) else None,
            )
        )


def announce_queued(job: ComfyUIJob, position: int) -> None:
    """Emit Queued once, before anything else the job reports."""
    if job.state is JobState.SUBMITTING:
        job.move(JobState.QUEUED)
        job.push(Queued(job.prompt_id, position))


_HANDLERS = {
    "execution_start": Dispatcher._started,
    "executing": Dispatcher._executing,
    "progress": Dispatcher._progress,
}
