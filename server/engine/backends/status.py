"""What operators and students are shown of an instance: its status row and failure notes."""

from __future__ import annotations

from typing import Any

from server.engine.backends.instances import Instance, LLMInstance


def note(instance: Instance) -> str | None:
    """The instance's last message, and when a rate-limited restart will be allowed."""
    wait = instance.launcher.wait_before_next() if instance.launcher else 0.0
    if wait <= 0:
        return instance.health.message
    restart = f"the next start is allowed in {wait:.0f} s"
    return f"{instance.health.message}; {restart}" if instance.health.message else restart


def describe(instance: Instance) -> dict[str, Any]:
    """What `/api/status` and the metrics show of one instance (its URL and command stay out)."""
    launcher = instance.launcher
    info: dict[str, Any] = {
        "kind": instance.kind,
        "instance": instance.name,
        "pool": instance.pool,
        "state": instance.health.state.value,
        "message": instance.health.message,
        "breaker": instance.breaker.state.value,
        "entered": {state.value: n for state, n in instance.health.entered.items()},
        "slots": instance.slots,
        "startable": launcher is not None,
        "starting": instance.is_starting(),
        "starts": launcher.starts if launcher else 0,
        "eta": launcher.expected_seconds() if launcher and launcher.starting else None,
    }
    if isinstance(instance, LLMInstance):
        info["models"] = list(instance.models)
    return info
