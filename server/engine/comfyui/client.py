"""ComfyUIClient: submit graphs, follow them over one shared WebSocket, fetch their outputs.

One socket per instance, with a fresh client id per connection (ComfyUI's same-id reconnect
bug makes a reused id go deaf). Prompts whose messages can no longer reach us (the socket
dropped, or it reconnected under a new id) are reconciled by polling /history and /queue, so
a run either completes from its own history or fails clearly; it never hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from server.engine.comfyui.config import ComfyUIConfig
from server.engine.comfyui.dispatch import Dispatcher, announce_queued
from server.engine.comfyui.errors import PromptLost, format_node_errors
from server.engine.comfyui.events import Failed, Finished, JobEvent, JobState, Output
from server.engine.comfyui.frames import FrameError, parse_binary, parse_text
from server.engine.comfyui.http import ComfyUIHttp
from server.engine.comfyui.job import ComfyUIJob, PreviewThrottle
from server.engine.comfyui.results import (
    Capabilities,
    HistoryOutcome,
    capabilities_from_object_info,
    outcome_from_history,
)
from server.engine.comfyui.upload import UploadedImage, upload_image
from server.engine.errors import (
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)

log = structlog.get_logger(__name__)
FEATURE_FLAGS = '{"type":"feature_flags","data":{"supports_preview_metadata":true}}'


class ComfyUIClient:
    """Talks to one ComfyUI instance. `await start()` before use, `await close()` after."""

    def __init__(self, config: ComfyUIConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._http: ComfyUIHttp | None = None
        self._dispatch = Dispatcher()
        self._client_id: str | None = None
        self._connected = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.ws_connections = 0
        self.cancels = 0
        self.cancel_timeouts = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=self.config.connect_timeout,
            sock_read=self.config.request_timeout,
        )
        connector = aiohttp.TCPConnector(limit=self.config.connection_limit)
        self._session = aiohttp.ClientSession(
            timeout=timeout, connector=connector, auto_decompress=False
        )
        self._http = ComfyUIHttp(self.config, self._session)
        self._spawn(self._socket_loop())
        self._spawn(self._poll_loop())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    # -- counters ----------------------------------------------------------------------------

    @property
    def open_responses(self) -> int:
        return self._http.open_responses if self._http else 0

    @property
    def active_jobs(self) -> int:
        return len(self._dispatch.jobs)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def client_id(self) -> str | None:
        return self._client_id

    @property
    def queue_remaining(self) -> int:
        return self._dispatch.queue_remaining

    # -- plain requests ----------------------------------------------------------------------

    @property
    def http(self) -> ComfyUIHttp:
        if self._http is None:
            raise RuntimeError("ComfyUIClient.start() was not called")
        return self._http

    async def system_stats(self) -> dict[str, Any]:
        stats = await self.http.get_json("/system_stats")
        if not isinstance(stats, dict):
            raise self.http.error(BackendProtocolError, "/system_stats is not an object")
        return stats

    async def capabilities(self) -> Capabilities:
        info = await self.http.get_json("/object_info")
        if not isinstance(info, dict):
            raise self.http.error(BackendProtocolError, "/object_info is not an object")
        return capabilities_from_object_info(info)

    async def upload_image(
        self, data: bytes, filename: str, *, subfolder: str = "", overwrite: bool = False
    ) -> UploadedImage:
        return await upload_image(
            self.http, data, filename, subfolder=subfolder, overwrite=overwrite
        )

    # -- runs --------------------------------------------------------------------------------

    @asynccontextmanager
    async def run(self, graph: dict[str, Any], output_dir: Path) -> AsyncIterator[ComfyUIRun]:
        """Submit `graph`; leaving early deletes or interrupts the prompt (bounded wait)."""
        job = await self._submit(graph, output_dir)
        try:
            yield ComfyUIRun(self, job)
        finally:
            if job.end is None:
                cancel = self._spawn(self._cancel(job))
                await asyncio.shield(cancel)
            else:
                self._dispatch.jobs.pop(job.prompt_id, None)

    async def _submit(self, graph: dict[str, Any], output_dir: Path) -> ComfyUIJob:
        client_id = await self._wait_connected()
        job = ComfyUIJob(
            str(uuid.uuid4()),
            client_id,
            output_dir,
            buffer=self.config.job_event_buffer,
            throttle=PreviewThrottle(self.config.preview_rate, asyncio.get_running_loop().time),
            max_preview_bytes=self.config.max_preview_bytes,
        )
        self._dispatch.jobs[job.prompt_id] = job
        try:
            await self._post_prompt(job, graph)
        except BaseException:
            self._dispatch.jobs.pop(job.prompt_id, None)
            raise
        if job.state is JobState.SUBMITTING:
            announce_queued(job, await self._queue_position(job.prompt_id))
        return job

    async def _post_prompt(self, job: ComfyUIJob, graph: dict[str, Any]) -> None:
        payload = {"prompt": graph, "client_id": job.client_id, "prompt_id": job.prompt_id}
        status, body = await self.http.post_json("/prompt", payload)
        if status == 200 and isinstance(body, dict):
            if body.get("node_errors"):
                # Partly valid graphs are queued anyway; take it back and fail the run.
                await self._withdraw(job.prompt_id)
                raise self.http.error(BackendRejected, format_node_errors(body))
            return
        if status == 400:
            raise self.http.error(BackendRejected, format_node_errors(body))
        raise self.http.error(
            BackendProtocolError, f"POST /prompt answered {status}: {str(body)[:200]}"
        )

    async def _wait_connected(self) -> str:
        try:
            async with asyncio.timeout(self.config.connect_timeout):
                while True:
                    await self._connected.wait()
                    if self._client_id is not None:
                        return self._client_id
                    await asyncio.sleep(0)
        except TimeoutError as exc:
            raise self.http.error(
                BackendUnavailable, "no WebSocket connection to ComfyUI", exc
            ) from exc

    async def _queue_position(self, prompt_id: str) -> int:
        try:
            queue = await self.http.get_json("/queue")
        except BackendError:
            return 0
        pending = sorted(queue.get("queue_pending", []), key=lambda item: item[0])
        ids = [item[1] for item in pending]
        return ids.index(prompt_id) + 1 if prompt_id in ids else 0

    async def _withdraw(self, prompt_id: str) -> None:
        with contextlib.suppress(BackendError):
            await self.http.post_json("/queue", {"delete": [prompt_id]})
            await self.http.post_json("/interrupt", {"prompt_id": prompt_id})

    # -- cancel ------------------------------------------------------------------------------

    async def _cancel(self, job: ComfyUIJob) -> None:
        """Delete a queued prompt, interrupt a running one, then wait (bounded) for its end."""
        self.cancels += 1
        try:
            where = await self._where(job.prompt_id)
            if where == "pending":
                await self.http.post_json("/queue", {"delete": [job.prompt_id]})
                where = await self._where(job.prompt_id)
                if where != "running":
                    job.finish("deleted")
            if where == "running":
                await self.http.post_json("/interrupt", {"prompt_id": job.prompt_id})
            if where in ("history", "gone"):
                job.finish(where)
            async with asyncio.timeout(self.config.interrupt_wait):
                await job.ended.wait()
        except TimeoutError:
            self.cancel_timeouts += 1
            log.warning(
                "comfyui.cancel_unconfirmed", prompt_id=job.prompt_id, instance=self.config.name
            )
        except BackendError as exc:
            log.warning("comfyui.cancel_failed", prompt_id=job.prompt_id, error=str(exc))
        finally:
            self._dispatch.jobs.pop(job.prompt_id, None)

    async def _where(self, prompt_id: str) -> str:
        queue = await self.http.get_json("/queue")
        if any(item[1] == prompt_id for item in queue.get("queue_running", [])):
            return "running"
        if any(item[1] == prompt_id for item in queue.get("queue_pending", [])):
            return "pending"
        history = await self.http.get_json(f"/history/{prompt_id}")
        return "history" if history else "gone"

    # -- outputs -----------------------------------------------------------------------------

    async def collect(self, job: ComfyUIJob) -> AsyncIterator[JobEvent]:
        """After the end: read the prompt's own history and download its outputs."""
        try:
            entry = await self._history_entry(job.prompt_id)
            if entry is None:
                raise self.http.error(
                    PromptLost, "ComfyUI has no record of the prompt (the instance restarted?)"
                )
            outcome = outcome_from_history(entry)
            if not outcome.success:
                job.move(JobState.FAILED)
                yield Failed(job.prompt_id, outcome.error, outcome.code)
                return
            paths: list[Path] = []
            async for event in self._download(job, outcome):
                paths.extend(event.paths)
                yield event
            job.move(JobState.FINISHED)
            yield Finished(job.prompt_id, tuple(paths), job.partial_errors)
        except BackendError as exc:
            job.move(JobState.FAILED)
            yield Failed(job.prompt_id, str(exc), exc.code, exc.retryable)

    async def _history_entry(self, prompt_id: str) -> dict[str, Any] | None:
        # History is written in task_done, before `executing null`; a few short retries
        # cover a poll that raced it.
        for attempt in range(5):
            history = await self.http.get_json(f"/history/{prompt_id}")
            if isinstance(history, dict) and isinstance(history.get(prompt_id), dict):
                entry: dict[str, Any] = history[prompt_id]
                return entry
            await asyncio.sleep(self.config.poll_interval / 10 * (attempt + 1))
        return None

    async def _download(self, job: ComfyUIJob, outcome: HistoryOutcome) -> AsyncIterator[Output]:
        job.output_dir.mkdir(parents=True, exist_ok=True)
        for file in outcome.files:
            dest = job.output_dir / file.local_name()
            mime = await self.http.download(file.view_params(), dest)
            yield Output((dest,), mime, file.node)

    # -- the shared socket -------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _socket_loop(self) -> None:
        delay = self.config.ws_reconnect_min
        while True:
            client_id = uuid.uuid4().hex
            try:
                await self._connect_and_read(client_id)
                delay = self.config.ws_reconnect_min
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.info("comfyui.ws_unavailable", instance=self.config.name, error=str(exc))
            finally:
                self._connected.clear()
                self._client_id = None
                self._ws = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.ws_reconnect_max)

    async def _connect_and_read(self, client_id: str) -> None:
        assert self._session is not None
        async with self._session.ws_connect(
            self.http.base + "/ws",
            params={"clientId": client_id},
            max_msg_size=self.config.ws_max_message_bytes,
            heartbeat=self.config.ws_heartbeat,
            timeout=aiohttp.ClientWSTimeout(ws_close=self.config.connect_timeout),
        ) as ws:
            await ws.send_str(FEATURE_FLAGS)
            self._ws = ws
            self._client_id = client_id
            self.ws_connections += 1
            self._connected.set()
            log.info("comfyui.ws_connected", instance=self.config.name, client_id=client_id)
            async for message in ws:
                self._on_frame(message)

    def _on_frame(self, message: aiohttp.WSMessage) -> None:
        try:
            if message.type == aiohttp.WSMsgType.TEXT:
                self._dispatch.on_text(parse_text(message.data))
            elif message.type == aiohttp.WSMsgType.BINARY:
                frame = parse_binary(message.data)
                if frame is not None:
                    self._dispatch.on_preview(frame)
        except FrameError as exc:
            log.warning("comfyui.bad_frame", instance=self.config.name, error=str(exc))

    # -- reconciliation ----------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.poll_interval)
            for job in list(self._dispatch.jobs.values()):
                if (
                    job.end is None
                    and job.state is not JobState.SUBMITTING
                    and (job.client_id != self._client_id)
                ):
                    await self._reconcile(job)

    async def _reconcile(self, job: ComfyUIJob) -> None:
        """A job whose messages cannot reach us: find its end in /history, or fail it."""
        loop = asyncio.get_running_loop()
        try:
            where = await self._where(job.prompt_id)
            if where == "gone":
                where = await self._where(job.prompt_id)  # it may have just finished
        except BackendError as exc:
            job.unreachable_since = job.unreachable_since or loop.time()
            if loop.time() - job.unreachable_since > self.config.unreachable_timeout:
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


class ComfyUIRun:
    """The handle `ComfyUIClient.run()` yields: the prompt id and its event stream."""

    def __init__(self, client: ComfyUIClient, job: ComfyUIJob) -> None:
        self._client = client
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
        async for event in self._client.collect(job):
            yield event
