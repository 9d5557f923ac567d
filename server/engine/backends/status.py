"""What operators and students are shown of an instance: its status record and failure notes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.engine.backends.breaker import BreakerState
from server.engine.backends.instances import Instance
from server.protocol import BackendKind, BackendState


def note(instance: Instance) -> str | None:
    """The instance's last message, and when a rate-limited restart will be allowed."""
    wait = instance.launcher.wait_before_next() if instance.launcher else 0.0
    if wait <= 0:
        return instance.health.message
    restart = f"the next start is allowed in {wait:.0f} s"
    return f"{instance.health.message}; {restart}" if instance.health.message else restart


@dataclass(frozen=True, slots=True)
class InstanceStatus:
    """What `/api/status` and the metrics show of one instance (its URL and command stay out)."""

    kind: BackendKind
    instance: str
    pool: str
    state: BackendState
    message: str | None
    breaker: BreakerState
    #: How often it entered each state since start-up, in the order first entered.
    entered: Mapping[BackendState, int]
    slots: int
    startable: bool
    starting: bool
    starts: int
    #: Seconds until a start in progress should be done; None when none is.
    eta: float | None
    #: The models it serves; None for a kind that lists none.
    models: tuple[str, ...] | None

    @property
    def breaker_open(self) -> bool:
        """Does its breaker keep (some) work away?"""
        return self.breaker is not BreakerState.CLOSED

    def to_json(self) -> dict[str, Any]:
        """The record as `/api/status` serves it (a kind without models has no such key)."""
        info: dict[str, Any] = {
            "kind": self.kind.value,
            "instance": self.instance,
            "pool": self.pool,
            "state": self.state.value,
            "message": self.message,
            "breaker": self.breaker.value,
            "entered": {state.value: n for state, n in self.entered.items()},
            "slots": self.slots,
            "startable": self.startable,
            "starting": self.starting,
            "starts": self.starts,
            "eta": self.eta,
        }
        if self.models is not None:
            info["models"] = list(self.models)
        return info


def describe(instance: Instance) -> InstanceStatus:
    """The status record of one instance, as it is now."""
    launcher = instance.launcher
    return InstanceStatus(
        kind=instance.kind,
        instance=instance.name,
        pool=instance.pool,
        state=instance.health.state,
        message=instance.health.message,
        breaker=instance.breaker.state,
        entered=dict(instance.health.entered),
        slots=instance.slots,
        startable=launcher is not None,
        starting=instance.is_starting(),
        starts=launcher.starts if launcher else 0,
        eta=launcher.expected_seconds() if launcher and launcher.starting else None,
        models=instance.models_listed(),
    )
