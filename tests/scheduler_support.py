"""Helpers for the scheduler's async tests: a fake clock, a queue-event recorder, gated jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from server.engine.scheduler import (
    PoolSettings,
    QueueInfo,
    RunTicket,
    Scheduler,
    SchedulerSettings,
)


class FakeClock:
    """Service and wait times come from here, so ETAs are exact numbers in tests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """An `on_queue` callback that keeps every QueueInfo and lets a test await a condition."""

    def __init__(self) -> None:
        self.infos: list[QueueInfo] = []
        self._changed = asyncio.Event()

    def __call__(self, info: QueueInfo) -> None:
        self.infos.append(info)
        self._changed.set()

    @property
    def last(self) -> QueueInfo | None:
        return self.infos[-1] if self.infos else None

    async def until(self, check: Callable[[QueueInfo], bool]) -> QueueInfo:
        async with asyncio.timeout(5):
            while self.last is None or not check(self.last):
                self._changed.clear()
                await self._changed.wait()
        assert self.last is not None
        return self.last


async def settle(rounds: int = 30) -> None:
    """Let every ready callback and woken task run (no timers involved: interval 0)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def make_scheduler(
    *, slots: int = 1, clock: FakeClock | None = None, **overrides: object
) -> Scheduler:
    values: dict[str, object] = {
        "pools": (PoolSettings(name="llm", slots=slots), PoolSettings(name="comfy", slots=1)),
        "queue_update_interval": 0.0,
        "fairness_window": 0.0,
    }
    values.update(overrides)
    settings = SchedulerSettings.model_validate(values)
    return Scheduler(settings, clock=clock or FakeClock())


class Job:
    """A run whose stages each hold a slot until the test resolves that stage's gate."""

    def __init__(
        self,
        scheduler: Scheduler,
        run_id: str,
        person: str,
        served: list[str],
        stages: Sequence[tuple[str, str]] = (("llm", "interception"),),
        class_id: int | None = None,
    ) -> None:
        self.recorder = Recorder()
        self.ticket: RunTicket = scheduler.admit(
            run_id, person, on_queue=self.recorder, class_id=class_id
        )
        self.run_id = run_id
        self.stages = list(stages)
        self.served = served
        loop = asyncio.get_running_loop()
        self.gates: list[asyncio.Future[None]] = [loop.create_future() for _ in self.stages]
        self.entered = [asyncio.Event() for _ in self.stages]
        self.cleaned_up = False
        self.holding = False
        self.current = 0  # index of the stage being waited for or held
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async with self.ticket:
            for index, (pool, stage) in enumerate(self.stages):
                self.current = index
                async with self.ticket.slot(pool, stage):
                    self.holding = True
                    self.served.append(f"{self.run_id}:{stage}")
                    self.entered[index].set()
                    try:
                        await self.gates[index]
                    finally:
                        self.cleaned_up = True  # where a stage closes streams, deletes prompts
                        self.holding = False

    async def wait_entered(self, stage: int = 0) -> None:
        async with asyncio.timeout(5):
            await self.entered[stage].wait()

    def finish(self, stage: int = 0) -> None:
        self.gates[stage].set_result(None)

    def fail(self, stage: int = 0) -> None:
        self.gates[stage].set_exception(RuntimeError("stage failed"))

    async def outcome(self) -> BaseException | None:
        async with asyncio.timeout(5):
            results = await asyncio.gather(self.task, return_exceptions=True)
        result = results[0]
        return result if isinstance(result, BaseException) else None


async def finish_all(*jobs: Job) -> None:
    """Let each job take its slot, finish its (first) stage and end, in this order."""
    for job in jobs:
        await job.wait_entered()
        job.finish()
        await job.outcome()
