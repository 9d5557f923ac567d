"""Runs a resumed session had in flight on another instance: ended for its client.

Runs are still driven by the instance they started on (issue 21's run takeover is the next
step). When a session moves to this instance, a run its log shows accepted but not done has
lost its driver for this client: the old instance died, or, alive, it is refused every write
for the session from now on and closes its copy (which cancels the run there). So the
adopting instance ends each such run for the client with the `run.done` a restart gives
(`server_restarting`: the page says the picture was lost and can be tried again), so that
every run the client saw start ends exactly once.
"""

from __future__ import annotations

import orjson

from server.engine.session import Session
from server.engine.stages import texts
from server.protocol import RunDone, RunEndCode, RunStatus

_MARKS = (b'"run.accepted"', b'"run.done"')


def unfinished_runs(messages: list[bytes]) -> list[str]:
    """Run ids the messages show accepted and not done, oldest first (a run accepted before
    the log's reach is not seen: bounded by `event_log_limit`, as any replay is)."""
    running: dict[str, None] = {}
    for data in messages:
        if not any(mark in data for mark in _MARKS):
            continue  # tokens and the rest: most of a log, never parsed
        message = orjson.loads(data)
        if message["type"] == "run.accepted":
            running[message["run"]] = None
        elif message["type"] == "run.done":
            running.pop(message["run"], None)
    return list(running)


def end_orphans(session: Session, orphans: list[str]) -> None:
    """Emit a `run.done` for each of these runs: live, after the resume's `welcome` (a resume
    that gets a `resync` would not replay them)."""
    for run_id in orphans:
        session.emit(
            RunDone,
            run=run_id,
            status=RunStatus.FAILED,
            # The page shows its own words for this code; the text is for other clients.
            reason=texts.text("server_restarting", "en"),
            code=RunEndCode.SERVER_RESTARTING,
            total=0.0,  # unknown here: the run's clock was the other instance's
        )
