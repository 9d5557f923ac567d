"""The simulated worker: runs queued prompts node by node and emits ComfyUI's messages.

Interrupts are honoured only before a node starts and at progress ticks (sampler steps,
upscale tiles), as in ComfyUI; a node without progress always finishes first. What each node
does is in `nodes`; the execution order and cache signatures are pure functions in `order`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from server.harness.comfyui_sim.catalog import NodeDef
from server.harness.comfyui_sim.nodes import NodeFailed, image_key, runner_for
from server.harness.comfyui_sim.order import execution_order, signature
from server.harness.comfyui_sim.png import gradient_png
from server.harness.comfyui_sim.state import QueueItem, SimState, now_ms


class Publisher(Protocol):
    def send(
        self, kind: str, data: dict[str, Any], sid: str | None, *, broadcast: bool = False
    ) -> None: ...
    def status(self) -> None: ...
    def progress(
        self, data: dict[str, Any], preview: bytes | None, meta: dict[str, Any], sid: str | None
    ) -> None: ...


@dataclass(frozen=True)
class ExecConfig:
    step_time: float = 0.02
    steps: int | None = None
    tiles: int = 4
    preview_side: int = 32
    max_image_side: int = 1024
    drop_ws_after_steps: int | None = None
    crash_after_steps: int | None = None


class Interrupted(Exception):
    def __init__(self, node_id: str) -> None:
        self.node_id = node_id


class Executor:
    """Runs one prompt at a time from `state`, publishing through `pub`."""

    def __init__(
        self,
        state: SimState,
        catalog: dict[str, NodeDef],
        pub: Publisher,
        root: Path,
        config: ExecConfig,
        faults: Mapping[str, Callable[[], Awaitable[None]]],
    ) -> None:
        self.state, self.catalog, self.pub, self.root = state, catalog, pub, root
        self.config = config
        self.faults = faults
        self.wake = asyncio.Event()
        #: Tests clear this to hold a run between two steps, and set it to let it go on.
        self.step_gate = asyncio.Event()
        self.step_gate.set()
        self.steps_done = 0
        self.hold_at: int | None = None
        self.held = asyncio.Event()

    async def worker(self) -> None:
        while True:
            item = self.state.take()
            if item is None:
                self.wake.clear()
                await self.wake.wait()
                continue
            self.pub.status()
            self.state.interrupt_flag = False
            entry = await _Run(self, item).execute()
            self.state.history[item.prompt_id] = entry
            self.state.running = None
            self.pub.status()
            self.pub.send("executing", {"node": None, "prompt_id": item.prompt_id}, item.client_id)

    def hold_after(self, steps: int) -> asyncio.Event:
        """Hold the run after its `steps`-th unit of work (counted from now); the returned
        event is set once it is held. Release with `step_gate.set()`."""
        self.hold_at = self.steps_done + steps
        self.held = asyncio.Event()
        return self.held

    async def work(self) -> None:
        """One unit of slow work (a sampler step, a tile, a slow node)."""
        await self.step_gate.wait()
        await asyncio.sleep(self.config.step_time)
        await self.state.wait_awake("worker")  # a stopped process finishes no step

    async def after_work(self) -> None:
        """Counting, test holds and fault injection once a unit of work is published."""
        self.steps_done += 1
        if self.steps_done == self.hold_at:
            self.step_gate.clear()
            self.held.set()
            await self.step_gate.wait()
        for name, every in (
            ("drop_ws", self.config.drop_ws_after_steps),
            ("crash", self.config.crash_after_steps),
        ):
            if every and self.steps_done % every == 0:
                await self.faults[name]()


class _Run:
    """The execution of one queue item."""

    def __init__(self, ex: Executor, item: QueueItem) -> None:
        self.ex, self.item, self.graph = ex, item, item.graph
        self.sid = item.client_id
        self.pid = item.prompt_id
        self.nodes_state: dict[str, dict[str, Any]] = {}
        self.executed: list[str] = []
        self.outputs: dict[str, Any] = {}
        self.messages: list[list[Any]] = []
        self.signatures: dict[str, str] = {}

    def _send(
        self, kind: str, data: dict[str, Any], *, history: bool = False, broadcast: bool = False
    ) -> None:
        if history:
            self.messages.append([kind, data])
        self.ex.pub.send(kind, data, self.sid, broadcast=broadcast)

    async def execute(self) -> dict[str, Any]:
        order = self._order()
        cached = [n for n in order if self._is_cached(n)]
        self._send("execution_start", {"prompt_id": self.pid, "timestamp": now_ms()}, history=True)
        self._send(
            "execution_cached",
            {"nodes": cached, "prompt_id": self.pid, "timestamp": now_ms()},
            history=True,
        )
        try:
            for nid in order:
                await (self._replay(nid) if nid in cached else self._run_node(nid))
        except Interrupted as exc:
            return self._interrupted(exc.node_id)
        except NodeFailed as exc:
            return self._failed(exc)
        self._send(
            "execution_success", {"prompt_id": self.pid, "timestamp": now_ms()}, history=True
        )
        self.ex.state.completed += 1
        return self._entry("success", True)

    def _order(self) -> list[str]:
        return execution_order(self.graph, self.item.outputs, self._is_output)

    def _is_output(self, nid: str) -> bool:
        return self.ex.catalog[self.graph[nid]["class_type"]].output_node

    def _is_cached(self, nid: str) -> bool:
        if self.graph[nid]["class_type"] == "SaveImageWebsocket":  # IS_CHANGED: time.time()
            return False
        hit = self.ex.state.cache.get(nid)
        return hit is not None and hit[0] == signature(self.graph, nid, self.signatures)

    async def _replay(self, nid: str) -> None:
        ui = self.ex.state.cache[nid][1]
        if ui is not None:
            self._send(
                "executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": self.pid}
            )
            self.outputs[nid] = ui
            self._state(nid, 1, 1, "finished")

    def _state(self, nid: str, value: float, maximum: float, state: str) -> None:
        self.nodes_state[nid] = {
            "value": value,
            "max": maximum,
            "state": state,
            "node_id": nid,
            "prompt_id": self.pid,
            "display_node_id": nid,
            "parent_node_id": None,
            "real_node_id": nid,
        }
        self._send(
            "progress_state",
            {"prompt_id": self.pid, "nodes": dict(self.nodes_state)},
            broadcast=True,
        )

    async def _run_node(self, nid: str) -> None:
        await self.ex.state.wait_awake("worker")
        node = self.graph[nid]
        self._state(nid, 0.0, 1.0, "running")
        self.ex.state.last_node = nid
        self._send("executing", {"node": nid, "display_node": nid, "prompt_id": self.pid})
        self._check_interrupt(nid)
        ui = await runner_for(node["class_type"])(self, nid, node["inputs"])
        if ui is not None:
            self.outputs[nid] = ui
            self._send(
                "executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": self.pid}
            )
        done = self.nodes_state[nid]
        self._state(nid, max(done["value"], 1.0), max(done["max"], 1.0), "finished")
        self.executed.append(nid)
        self.ex.state.cache[nid] = (signature(self.graph, nid, self.signatures), ui)

    def _check_interrupt(self, nid: str) -> None:
        if self.ex.state.interrupt_flag:
            self.ex.state.interrupt_flag = False
            raise Interrupted(nid)

    async def ticks(self, nid: str, total: int, start: int = 1, preview: bool = False) -> None:
        for value in range(start, start + total):
            await self.ex.work()
            self._check_interrupt(nid)
            self._state(nid, value, total, "running")
            data = {"value": value, "max": total, "prompt_id": self.pid, "node": nid}
            image = self._preview(value) if preview else None
            meta = {
                "node_id": nid,
                "prompt_id": self.pid,
                "display_node_id": nid,
                "parent_node_id": None,
                "real_node_id": nid,
                "image_type": "image/png",
            }
            self.ex.pub.progress(data, image, meta, self.sid)
            await self.ex.after_work()

    def _preview(self, value: int) -> bytes:
        side = self.ex.config.preview_side
        return gradient_png(side, side, f"{image_key(self.graph)}#{value}")

    def _interrupted(self, nid: str) -> dict[str, Any]:
        self.ex.state.interrupted += 1
        data = {
            "prompt_id": self.pid,
            "node_id": nid,
            "node_type": self.graph[nid]["class_type"],
            "executed": self.executed,
            "timestamp": now_ms(),
        }
        self._send("execution_interrupted", data, history=True, broadcast=True)
        return self._entry("error", False)

    def _failed(self, exc: NodeFailed) -> dict[str, Any]:
        self.ex.state.failed += 1
        self.ex.state.cache.pop(exc.node_id, None)
        inputs = self.graph[exc.node_id].get("inputs", {})
        data = {
            "prompt_id": self.pid,
            "node_id": exc.node_id,
            "node_type": self.graph[exc.node_id]["class_type"],
            "executed": self.executed,
            "exception_message": exc.message,
            "exception_type": exc.exc_type,
            "traceback": ['  File "ComfyUI/execution.py", line 496, in execute\n'],
            "current_inputs": {k: [v] for k, v in inputs.items() if not isinstance(v, list)},
            "current_outputs": list(self.graph),
            "timestamp": now_ms(),
        }
        self._send("execution_error", data, history=True)
        return self._entry("error", False)

    def _entry(self, status: str, completed: bool) -> dict[str, Any]:
        return {
            "prompt": self.item.as_list(),
            "outputs": self.outputs,
            "status": {"status_str": status, "completed": completed, "messages": self.messages},
            "meta": {
                nid: {"node_id": nid, "display_node": nid, "parent_node": None, "real_node_id": nid}
                for nid in self.outputs
            },
        }
