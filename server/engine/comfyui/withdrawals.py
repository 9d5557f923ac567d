"""Prompts Atelier gave up on that ComfyUI may still render: withdrawn once it answers again.

A run that failed because its instance stopped answering, a cancel that could not be
delivered, a submission whose answer never came: the prompt may sit in ComfyUI's queue (or be
running when a stopped process resumes) and would make the next student wait behind a render
nobody sees. Each such prompt id goes on the instance's bounded list; the client deletes it
from the queue and interrupts it as soon as the instance answers, and always before it submits
anything new.
"""

from __future__ import annotations

import asyncio

import structlog

from server.engine.comfyui.http import ComfyUIHttp
from server.engine.comfyui.liveness import Liveness
from server.engine.errors import BackendError

log = structlog.get_logger(__name__)


class Withdrawals:
    """The prompt ids to take back, oldest first, at most `limit` of them."""

    def __init__(self, instance: str, limit: int) -> None:
        self.instance = instance
        self.limit = limit
        self._ids: dict[str, str] = {}  # prompt id -> why it was abandoned
        self.added = asyncio.Event()
        self.withdrawn = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self._ids

    def add(self, prompt_id: str, reason: str) -> None:
        if prompt_id in self._ids:
            return
        if len(self._ids) >= self.limit:
            # The oldest is the most likely to have ended on its own meanwhile.
            oldest = next(iter(self._ids))
            del self._ids[oldest]
            self.dropped += 1
            log.warning("comfyui.withdraw_dropped", instance=self.instance, prompt_id=oldest)
        self._ids[prompt_id] = reason
        self.added.set()
        log.info(
            "comfyui.withdraw_later", instance=self.instance, prompt_id=prompt_id, reason=reason
        )

    def pending(self) -> list[str]:
        return list(self._ids)

    def done(self, prompt_id: str) -> None:
        if self._ids.pop(prompt_id, None) is not None:
            self.withdrawn += 1
            log.info("comfyui.withdrawn", instance=self.instance, prompt_id=prompt_id)
        if not self._ids:
            self.added.clear()


async def withdraw(http: ComfyUIHttp, prompt_id: str) -> None:
    """Delete the prompt if it is queued and interrupt it if it runs (ComfyUI ignores both
    for a prompt it does not hold, so this is safe to repeat). Raises BackendError."""
    await http.post_json("/queue", {"delete": [prompt_id]})
    await http.post_json("/interrupt", {"prompt_id": prompt_id})


class Drainer:
    """Empties an instance's `Withdrawals`; one drain at a time, the submit path included."""

    def __init__(self, http: ComfyUIHttp, withdrawals: Withdrawals, liveness: Liveness) -> None:
        self.http = http
        self.withdrawals = withdrawals
        self.liveness = liveness
        self._lock = asyncio.Lock()

    async def drain(self) -> bool:
        """Withdraw every listed prompt; False when the instance stopped answering."""
        async with self._lock:
            for prompt_id in self.withdrawals.pending():
                try:
                    await withdraw(self.http, prompt_id)
                except BackendError as exc:
                    log.info("comfyui.withdraw_failed", prompt_id=prompt_id, error=str(exc))
                    return False
                self.withdrawals.done(prompt_id)
            return True

    async def run(self) -> None:
        """Drain whenever something is listed; after a failure, at the next sign of life
        (a health check answered, the WebSocket came back)."""
        while True:
            await self.withdrawals.added.wait()
            if not await self.drain():
                await self.liveness.next_sign()
