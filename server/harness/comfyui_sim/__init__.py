"""A ComfyUI simulator (HTTP + /ws) that reproduces the captured transcripts in
`shared/reference/comfyui/`, with configurable timing and fault injection: dropped sockets,
a crash and restart, a stopped process that keeps its port open (`freeze`/`thaw`), and a
fresh install with no LoRAs (`ModelFiles(loras=())`, `--no-loras`).

In-process: `sim = ComfyUISimulator(SimConfig(...)); port = await sim.start()`;
as a process: `python -m server.harness comfyui --port 8188 --step-time 0.2`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from aiohttp import web

from server.harness.comfyui_sim.catalog import ModelFiles
from server.harness.comfyui_sim.executor import ExecConfig, Executor
from server.harness.comfyui_sim.middleware import origin_check, stopped_gate
from server.harness.comfyui_sim.node_defs import build_catalog
from server.harness.comfyui_sim.routes import Routes
from server.harness.comfyui_sim.sockets import SocketHub
from server.harness.comfyui_sim.state import SimState

log = structlog.get_logger(__name__)

__all__ = ["ComfyUISimulator", "ExecConfig", "ModelFiles", "SimConfig", "run_cli"]


@dataclass(frozen=True)
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0
    execution: ExecConfig = field(default_factory=ExecConfig)
    models: ModelFiles = field(default_factory=ModelFiles)
    max_upload_size: int = 100 * 1024 * 1024
    #: Where input/, output/ and temp/ live; a fresh temporary directory when None.
    root: Path | None = None
    restart_delay: float = 1.0


class ComfyUISimulator:
    """One simulated instance. Counters: running, queued, interrupted, deleted; what happened
    to which prompt, in order, is in `state.journal`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self._own_root = self.config.root is None
        self.root = self.config.root or Path(tempfile.mkdtemp(prefix="comfyui-sim-"))
        self.catalog = build_catalog(self.config.models)
        self.port = self.config.port
        self.restarts = 0
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._fresh_state()

    def _fresh_state(self) -> None:
        self.state = SimState()
        self.hub = SocketHub(self.state, self.config.max_upload_size)
        faults = {"drop_ws": self.drop_websockets, "crash": self._crash_and_restart}
        self.executor = Executor(
            self.state, self.catalog, self.hub, self.root, self.config.execution, faults
        )
        for folder in ("input", "output", "temp"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.root / "temp", ignore_errors=True)  # ComfyUI wipes temp/ at start
        (self.root / "temp").mkdir()

    # -- counters --------------------------------------------------------------------------

    @property
    def running(self) -> int:
        return 1 if self.state.running else 0

    @property
    def queued(self) -> int:
        return len(self.state.pending)

    @property
    def interrupted(self) -> int:
        return self.state.interrupted

    @property
    def deleted(self) -> int:
        return self.state.deleted

    @property
    def active_sockets(self) -> int:
        return len(self.hub.all_sockets)

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def step_gate(self) -> asyncio.Event:
        """Clear to hold the running prompt before its next step; set to release it."""
        return self.executor.step_gate

    def hold_after(self, steps: int) -> asyncio.Event:
        """Hold the running prompt after `steps` more sampler steps / tiles / slow nodes."""
        return self.executor.hold_after(steps)

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait (unbounded: callers wrap it in a timeout) until `predicate()` holds; it is
        re-checked after every queue change and socket close."""
        while not predicate():
            self.hub.changed.clear()
            await self.hub.changed.wait()

    def release(self) -> None:
        self.executor.step_gate.set()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> int:
        app = web.Application(
            client_max_size=self.config.max_upload_size,
            middlewares=[stopped_gate(self.state), origin_check],
        )
        Routes(
            self.state, self.catalog, self.config.models, self.hub, self.executor, self.root
        ).install(app)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        self._tasks = [
            asyncio.create_task(self.executor.worker()),
            asyncio.create_task(self.hub.publish_loop()),
        ]
        log.info("comfyui_sim.started", url=self.url)
        return self.port

    async def close(self) -> None:
        await self._stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.hub.drop_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- fault injection -------------------------------------------------------------------

    async def drop_websockets(self) -> None:
        """Every WebSocket is cut; prompts keep running (their messages go nowhere)."""
        await self.hub.drop_all()

    def freeze(self) -> None:
        """SIGSTOP: the port stays open and connections are accepted, but nothing is read or
        answered, no step runs and the WebSocket goes silent (not even pongs)."""
        self.state.awake.clear()

    def thaw(self) -> None:
        """SIGCONT: everything carries on where it stopped, an abandoned prompt included."""
        self.state.awake.set()

    async def crash(self) -> None:
        """The process dies: sockets cut, port closed (connections refused), memory lost."""
        await self._stop()

    async def restart(self) -> None:
        """Come back on the same port with an empty queue and history, like a real restart."""
        self._fresh_state()
        self.restarts += 1
        await self.start()

    async def _crash_and_restart(self) -> None:
        async def later() -> None:
            await asyncio.sleep(0)
            await self.crash()
            await asyncio.sleep(self.config.restart_delay)
            await self.restart()

        asyncio.get_running_loop().create_task(later())
        await asyncio.sleep(3600)  # the crashed worker never continues


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m server.harness comfyui")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8188)
    parser.add_argument("--step-time", type=float, default=0.2, help="seconds per step/tile")
    parser.add_argument("--steps", type=int, default=None, help="override KSampler steps")
    parser.add_argument("--root", type=Path, default=None, help="input/output/temp folder")
    parser.add_argument(
        "--drop-ws-after-steps",
        type=int,
        default=None,
        help="fault: cut every WebSocket each N steps",
    )
    parser.add_argument(
        "--crash-after-steps",
        type=int,
        default=None,
        help="fault: crash (refuse connections) each N steps, then restart",
    )
    parser.add_argument("--restart-delay", type=float, default=2.0)
    parser.add_argument(
        "--no-loras", action="store_true", help="an empty models/loras, like a fresh install"
    )
    return parser.parse_args(argv)


def run_cli(argv: list[str]) -> None:
    """Entry point for `python -m server.harness comfyui ...` (argv[0] is "comfyui")."""
    args = _parse(argv[1:])
    execution = ExecConfig(
        step_time=args.step_time,
        steps=args.steps,
        drop_ws_after_steps=args.drop_ws_after_steps,
        crash_after_steps=args.crash_after_steps,
    )
    config = SimConfig(
        host=args.host,
        port=args.port,
        execution=execution,
        models=ModelFiles(loras=()) if args.no_loras else ModelFiles(),
        root=args.root,
        restart_delay=args.restart_delay,
    )

    async def main() -> None:
        sim = ComfyUISimulator(config)
        await sim.start()
        print(f"ComfyUI simulator on {sim.url}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await sim.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
