"""Start-up that fails or is cancelled halfway closes exactly what it had opened, in reverse.

Each case makes one step of the real start-up (demo simulators on real ports, backend clients,
scheduler, record store, pipeline, publishing) raise or be cancelled, then checks, before
anything else could tidy up: the simulators' ports refuse connections, every client session
is closed, no task is left, the pipeline was never published, and the closes ran in reverse
order of the opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from server.app import create_app
from server.engine.backends.registry import Backends
from server.engine.comfyui.client import ComfyUIClient
from server.engine.pipeline import Pipeline
from server.engine.records import RecordStore
from server.engine.scheduler import Scheduler
from server.engine.service import NoRuns
from server.handlers import ops
from server.handlers.keys import PIPELINE, RUNS
from server.harness.comfyui_sim import ComfyUISimulator
from server.harness.demo import DemoBackends
from server.wiring import DEMO, DemoOptions
from tests.conftest import make_settings
from tests.pipeline_support import FAST


class InjectedFailure(Exception):
    """What a step raises in place of its real failure."""


@dataclass
class Watch:
    """What start-up opened, and the order in which it closed things."""

    simulators: list[DemoBackends] = field(default_factory=list)
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    #: Set when a gated step is reached; the test cancels start-up there.
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    def closing(self, label: str) -> Callable[[object], None]:
        return lambda _: self.closed.append(label)


def spy(mp: pytest.MonkeyPatch, owner: type, name: str, before: Callable[[Any], None]) -> None:
    """Call `before(self)` whenever `owner.name` is called, then the real method."""
    real = getattr(owner, name)

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        before(self)
        return real(self, *args, **kwargs)

    mp.setattr(owner, name, wrapper)


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Watch:
    seen = Watch()
    spy(monkeypatch, aiohttp.ClientSession, "__init__", seen.sessions.append)
    spy(monkeypatch, DemoBackends, "start", seen.simulators.append)
    for owner, name, label in (
        (DemoBackends, "stop", "simulators"),
        (Backends, "close", "backends"),
        (Scheduler, "close", "scheduler"),
        (Pipeline, "close", "pipeline"),
    ):
        spy(monkeypatch, owner, name, seen.closing(label))
    return seen


def failing_method(owner: type, name: str, *, after: bool = False) -> Callable[..., Any]:
    """`owner.name` raising InjectedFailure, before or after doing its real work."""
    real = getattr(owner, name)
    if inspect.iscoroutinefunction(real):

        async def failing_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            if after:
                await real(self, *args, **kwargs)
            raise InjectedFailure(f"{owner.__name__}.{name}")

        return failing_async

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        if after:
            real(self, *args, **kwargs)
        raise InjectedFailure(f"{owner.__name__}.{name}")

    return failing


def gated_method(owner: type, name: str, watch: Watch) -> Callable[..., Any]:
    """`owner.name` doing its real work, then waiting for ever: start-up is cancelled there."""
    real = getattr(owner, name)

    async def gated(self: Any, *args: Any, **kwargs: Any) -> Any:
        await real(self, *args, **kwargs)
        watch.reached.set()
        await asyncio.get_running_loop().create_future()

    return gated


#: Where start-up fails, and what must have been closed (in this order) when it has.
FAILURES = {
    "the ComfyUI simulator cannot start (the LLM one is up)": (
        (ComfyUISimulator, "start", False),
        ["simulators"],
    ),
    "a backend client cannot start (the LLM one is open)": (
        (ComfyUIClient, "start", False),
        ["backends", "simulators"],
    ),
    "the backends' start raises after their checks": (
        (Backends, "start", True),
        ["backends", "simulators"],
    ),
    "the scheduler cannot be made": ((Scheduler, "__init__", False), ["backends", "simulators"]),
    "the record store cannot be made": (
        (RecordStore, "__init__", False),
        ["scheduler", "backends", "simulators"],
    ),
    "the pipeline cannot be made": (
        (Pipeline, "__init__", False),
        ["scheduler", "backends", "simulators"],
    ),
}

#: Where start-up waits when it is cancelled, and what must have been closed.
CANCELS = {
    "while the ComfyUI simulator starts": ((ComfyUISimulator, "start"), ["simulators"]),
    "while the backends start": ((Backends, "start"), ["backends", "simulators"]),
}


@contextlib.asynccontextmanager
async def start_up(tmp_path: Path) -> AsyncIterator[web.AppRunner]:
    """A runner for a demo app, its start-up yet to run; cleaned up afterwards, as
    `web.run_app` does after a failed start."""
    settings = make_settings(demo="on", data_dir=tmp_path / "data")
    runner = web.AppRunner(create_app(settings, demo_options=DemoOptions(FAST)))
    try:
        yield runner
    finally:
        await runner.cleanup()


def tasks_left(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() - before if not task.done()}


async def port_refuses(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


async def assert_all_closed(app: web.Application, watch: Watch, closed: list[str]) -> None:
    assert watch.closed == closed
    assert PIPELINE not in app  # never published
    assert DEMO not in app
    assert isinstance(app[RUNS], NoRuns)
    assert watch.sessions or "backends" not in closed, "the case opened no client session"
    assert all(session.closed for session in watch.sessions)
    [demo] = watch.simulators
    for port in (demo.llm.port, demo.comfyui.port):
        assert port == 0 or await port_refuses(port), port
    assert not demo.comfyui.root.exists()  # the simulator's own temp dir is gone


def opened_ports(watch: Watch) -> Iterator[int]:
    for demo in watch.simulators:
        yield from (p for p in (demo.llm.port, demo.comfyui.port) if p)


@pytest.mark.parametrize("case", FAILURES)
async def test_a_failed_start_up_closes_what_it_opened_in_reverse(
    case: str, watch: Watch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (owner, name, after), closed = FAILURES[case]
    monkeypatch.setattr(owner, name, failing_method(owner, name, after=after))
    before = asyncio.all_tasks()
    async with start_up(tmp_path) as runner:
        with pytest.raises(InjectedFailure):
            await runner.setup()
        assert tasks_left(before) == set()
        await assert_all_closed(runner.app, watch, closed)


@pytest.mark.parametrize("case", CANCELS)
async def test_a_cancelled_start_up_closes_what_it_opened_in_reverse(
    case: str, watch: Watch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (owner, name), closed = CANCELS[case]
    monkeypatch.setattr(owner, name, gated_method(owner, name, watch))
    before = asyncio.all_tasks()
    async with start_up(tmp_path) as runner:
        starting = asyncio.create_task(runner.setup())
        await watch.reached.wait()
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        assert tasks_left(before) == set()
        await assert_all_closed(runner.app, watch, closed)


async def test_publishing_that_fails_closes_everything_start_up_opened(
    watch: Watch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise InjectedFailure("register_pipeline")

    monkeypatch.setattr(ops, "register_pipeline", refuse)
    before = asyncio.all_tasks()
    async with start_up(tmp_path) as runner:
        with pytest.raises(InjectedFailure):
            await runner.setup()
        assert tasks_left(before) == set()  # the record pruner too
        await assert_all_closed(
            runner.app, watch, ["pipeline", "scheduler", "backends", "simulators"]
        )


async def test_a_started_app_publishes_its_pipeline_and_closes_it_on_cleanup(
    watch: Watch, tmp_path: Path
) -> None:
    before = asyncio.all_tasks()
    async with start_up(tmp_path) as runner:
        await runner.setup()
        assert runner.app[RUNS] is runner.app[PIPELINE]
        assert runner.app[DEMO] is watch.simulators[0]
        assert watch.closed == []
    assert tasks_left(before) == set()
    assert watch.closed == ["pipeline", "scheduler", "backends", "simulators"]
    assert watch.sessions
    assert all(session.closed for session in watch.sessions)
    ports = list(opened_ports(watch))
    assert len(ports) == 2
    assert all([await port_refuses(port) for port in ports])
