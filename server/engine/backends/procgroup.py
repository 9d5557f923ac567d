"""The process group of a started backend: is anything in it still alive, and signal it all.

A `start_command` runs as the leader of its own session and process group. A command that
daemonizes (forks its server and exits) leaves the server behind in that group, so the group,
not the leader, is what Atelier must stop. On Linux the group's members are read from /proc,
where zombies (exited, not yet reaped by whoever adopted them) do not count: they hold no port
and no memory. Elsewhere signal 0 to the group answers, zombies included.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

PROC = Path("/proc")


def group_alive(group: int, proc: Path = PROC) -> bool:
    """Is any process of process group `group` alive (not a zombie)?"""
    if not proc.is_dir():
        return _answers_signal(group)
    return any(_member_alive(stat, group) for stat in proc.glob("[0-9]*/stat"))


def _member_alive(stat: Path, group: int) -> bool:
    try:
        text = stat.read_text()
    except OSError:  # the process ended while we looked
        return False
    # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after it.
    fields = text[text.rfind(")") + 2 :].split()
    return len(fields) > 2 and fields[2] == str(group) and fields[0] != "Z"


def _answers_signal(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process took the id: alive, but not ours to signal
    return True


def signal_group(group: int, sig: signal.Signals) -> None:
    """Send `sig` to every process of the group; a group already gone is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)
