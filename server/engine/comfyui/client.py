"""ComfyUIClient: submit graphs, follow them over one shared WebSocket, fetch their outputs.

One socket per instance, with a fresh client id per connection (ComfyUI's same-id reconnect
bug makes a reused id go deaf). Prompts whose messages can no longer reach us (the socket
dropped, or it reconnected under a new id) are reconciled by polling /history and /queue, so
a run either completes from its own history or fails clearly; it never hangs. A watchdog fails
the prompts of an instance that has said nothing for `unreachable_timeout` (stopped, hung), and
every prompt given up on is withdrawn once the instance answers again, always before anything
new is submitted. The socket lives in `socket_loop`, cancel and reconcile in `cancel`, the
watchdog in `watchdog`, the withdraw list in `withdrawals`, a run's event stream in `handle`
(outputs in `outputs`); this module is the façade over them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from server.engine.comfyui.cancel import CancelOutcome, cancel, poll_loop
from server.engine.comfyui.config import ComfyUIConfig
from server.engine.comfyui.dispatch import Dispatcher, announce_queued
from server.engine.comfyui.errors import format_node_errors
from server.engine.comfyui.handle import ComfyUIRun
from server.engine.comfyui.http import ComfyUIHttp
from server.engine.comfyui.job import ComfyUIJob, PreviewThrottle
from server.engine.comfyui.liveness import Liveness, silent_message
from server.engine.comfyui.results import Capabilities, capabilities_from_object_info
from server.engine.comfyui.socket_loop import SocketLoop
from server.engine.comfyui.upload import UploadedImage, forget, upload_image
from server.engine.comfyui.watchdog import watch_loop
from server.engine.comfyui.withdrawals import Drainer, Withdrawals
from server.engine.errors import (
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    InvalidState,
)
from server.engine.media import MediaWriter, write_file


class ComfyUIClient:
    """Talks to one ComfyUI instance. `await start()` before use, `await close()` after."""

    def __init__(self, config: ComfyUIConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._http: ComfyUIHttp | None = None
        self._dispatch = Dispatcher()
        self.liveness = Liveness()
        self.withdrawals = Withdrawals(config.name, config.withdraw_limit)
        self._drainer: Drainer | None = None
        self._socket = SocketLoop(config, self._dispatch, self.liveness)
        self._tasks: set[asyncio.Task[None]] = set()
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
        self._http = ComfyUIHttp(self.config, self._session, self.liveness)
        self._drainer = Drainer(self._http, self.withdrawals, self.liveness)
        self._spawn(self._socket.run(self._session, self._http.base))
        self._spawn(poll_loop(self._http, self._dispatch, lambda: self._socket.client_id))
        self._spawn(watch_loop(self._http, self._dispatch, self.liveness, self.withdrawals))
        self._spawn(self._drainer.run())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._socket.ws is not None:
            await self._socket.ws.close()
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
        return self._socket.connected.is_set()

    @property
    def client_id(self) -> str | None:
        return self._socket.client_id

    @property
    def ws_connections(self) -> int:
        return self._socket.connections

    @property
    def queue_remaining(self) -> int:
        return self._dispatch.queue_remaining

    # -- plain requests ----------------------------------------------------------------------

    @property
    def http(self) -> ComfyUIHttp:
        if self._http is None:
            raise InvalidState("ComfyUIClient.start() was not called")
        return self._http

    @property
    def drainer(self) -> Drainer:
        if self._drainer is None:
            raise InvalidState("ComfyUIClient.start() was not called")
        return self._drainer

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

    def forget_upload(self, uploaded: UploadedImage) -> asyncio.Task[None]:
        """Blank an uploaded picture out in the background (best effort: an instance that
        is down keeps it), so the run that used it never waits for that."""
        return self._spawn(forget(self.http, uploaded))

    # -- runs --------------------------------------------------------------------------------

    @asynccontextmanager
    async def run(
        self, graph: dict[str, Any], output_dir: Path, writer: MediaWriter = write_file
    ) -> AsyncIterator[ComfyUIRun]:
        """Submit `graph`; leaving early deletes or interrupts the prompt (bounded wait).
        Outputs are written into `output_dir` with `writer`."""
        job = await self._submit(graph, output_dir, writer)
        try:
            yield ComfyUIRun(self.http, job)
        finally:
            if job.end is None:
                cancel = self._spawn(self._cancel(job))
                await asyncio.shield(cancel)
            else:
                self._dispatch.jobs.pop(job.prompt_id, None)

    async def _submit(
        self, graph: dict[str, Any], output_dir: Path, writer: MediaWriter
    ) -> ComfyUIJob:
        client_id = await self._wait_connected()
        if self.liveness.unanswered() > self.config.unreachable_timeout:
            # Stopped under an earlier run: the runs queued behind it fail now, not in turn.
            message = silent_message(self.config.unreachable_timeout)
            raise self.http.error(BackendUnavailable, message)
        job = ComfyUIJob(
            str(uuid.uuid4()),
            client_id,
            output_dir,
            buffer=self.config.job_event_buffer,
            throttle=PreviewThrottle(self.config.preview_rate, asyncio.get_running_loop().time),
            max_preview_bytes=self.config.max_preview_bytes,
            writer=writer,
        )
        self._dispatch.jobs[job.prompt_id] = job
        try:
            position = await self._submit_within_bound(job, graph)
        except BaseException as exc:
            self._dispatch.jobs.pop(job.prompt_id, None)
            if not isinstance(exc, BackendRejected):
                # No answer, or we left mid-way: ComfyUI may have queued it all the same.
                self.withdrawals.add(job.prompt_id, "its submission was not answered")
            raise
        announce_queued(job, position)
        return job

    async def _submit_within_bound(self, job: ComfyUIJob, graph: dict[str, Any]) -> int:
        """Withdraw what was given up on, submit, and find the queue position; a stopped
        instance answers none of it, so all of it is bounded by `unreachable_timeout` from
        the oldest question it left unanswered."""
        bound = self.config.unreachable_timeout
        self.liveness.asked()
        try:
            async with asyncio.timeout(bound - self.liveness.unanswered()):
                await self.drainer.drain()  # so an abandoned prompt never runs before this one
                await self._post_prompt(job, graph)
                return await self._queue_position(job.prompt_id)
        except TimeoutError as exc:
            raise self.http.error(
                BackendTimeout,
                f"ComfyUI did not answer the submission within {bound:g} s (unreachable_timeout)",
                exc,
            ) from exc

    async def _post_prompt(self, job: ComfyUIJob, graph: dict[str, Any]) -> None:
        payload = {"prompt": graph, "client_id": job.client_id, "prompt_id": job.prompt_id}
        status, body = await self.http.post_json("/prompt", payload)
        if status == 200 and isinstance(body, dict):
            if body.get("node_errors"):
                # Partly valid graphs are queued anyway; take it back and fail the run.
                self.withdrawals.add(job.prompt_id, "its graph was partly invalid")
                await self.drainer.drain()
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
                    await self._socket.connected.wait()
                    if self._socket.client_id is not None:
                        return self._socket.client_id
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

    # -- cancel ------------------------------------------------------------------------------

    async def _cancel(self, job: ComfyUIJob) -> None:
        """`cancel.cancel`, counted; the job leaves the dispatcher on every way out, and a
        prompt ComfyUI did not take back goes on the withdraw list."""
        self.cancels += 1
        try:
            outcome = await cancel(self.http, job)
        finally:
            self._dispatch.jobs.pop(job.prompt_id, None)
        if outcome is CancelOutcome.UNCONFIRMED:
            self.cancel_timeouts += 1
        elif outcome is CancelOutcome.UNDELIVERED:
            self.withdrawals.add(job.prompt_id, "its cancel did not reach ComfyUI")

    # -- tasks -------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
