"""What instances share: sessions, their hashed resume secrets and their event logs.

`open_state` picks the back end the settings name: `embedded` (in this process, the default:
`./run.sh` needs nothing) or `redis` (any instance on the same Redis resumes any session).
The interface is `SharedState` (`_interface.py`); docs/architecture.md has the picture.
"""

from __future__ import annotations

from server.engine.state._interface import (
    STATE_COUNTERS,
    LogBounds,
    Person,
    SharedState,
    secret_hash,
)
from server.engine.state.embedded import EmbeddedState, EmbeddedStore

__all__ = [
    "STATE_COUNTERS",
    "EmbeddedState",
    "EmbeddedStore",
    "LogBounds",
    "Person",
    "SharedState",
    "open_state",
    "secret_hash",
]

#: The back ends a `state` setting may name.
BACKENDS = ("embedded", "redis")


def open_state(kind: str, redis_url: str) -> SharedState:
    """The back end `kind` names. Redis is imported only when it is used, so the embedded
    default starts without loading a client it never needs."""
    if kind == "redis":
        from server.engine.state.redis_state import RedisState

        return RedisState.from_url(redis_url)
    return EmbeddedState()
