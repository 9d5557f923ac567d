"""The scheduler's settings (pools and limits) and the errors it raises to its callers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.engine.errors import AtelierError
from server.engine.scheduler._queueing import RunLimits
from server.protocol import ErrorCode


class PoolSettings(BaseModel):
    """One backend instance: an LLM server (its parallel slots) or a ComfyUI instance (1)."""

    model_config = ConfigDict(frozen=True)
    name: str = Field(min_length=1)
    slots: int = Field(default=1, ge=1)


class SchedulerSettings(BaseModel):
    """Pools and bounds. The per-person limits count every run of one owner key (a person,
    across all their sessions); `admit` may be given lower ones for a person (class rules)."""

    model_config = ConfigDict(frozen=True)
    pools: tuple[PoolSettings, ...] = ()
    max_runs_in_flight_per_person: int = Field(default=2, ge=1)
    max_queued_runs_per_person: int = Field(default=8, ge=0)  # beyond the in-flight ones
    max_waiting_runs: int = Field(default=500, ge=1)  # person lines + pool lines, everyone's
    queue_update_interval: float = Field(default=0.25, ge=0.0)  # per queue, so per run
    eta_refresh_interval: float = Field(default=3.0, gt=0.0)  # ETA-only updates, per run
    eta_window: int = Field(default=20, ge=1)  # finished jobs averaged per pool and stage
    fairness_window: float = Field(default=1.0, ge=0.0)  # runs starting this close are ties
    retry_after_default: float = Field(default=10.0, gt=0.0)  # when nothing is measured yet
    retry_after_min: float = Field(default=1.0, gt=0.0)
    retry_after_max: float = Field(default=120.0, gt=0.0)

    @property
    def limits(self) -> RunLimits:
        """The operator's per-person limits (what a person without lower ones gets)."""
        return RunLimits(self.max_runs_in_flight_per_person, self.max_queued_runs_per_person)


class Busy(AtelierError):
    """Too many runs are waiting; try again after `retry_after` seconds."""

    code = ErrorCode.BUSY

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyRuns(Busy):
    """This person already has the maximum number of runs in flight and queued."""

    code = ErrorCode.TOO_MANY_RUNS


class RunClosed(AtelierError):
    """The run's ticket was closed while one of its stages still waited for a slot."""


class UnknownPool(AtelierError):
    """A stage asked for a backend pool the scheduler was not given: a wiring bug."""
