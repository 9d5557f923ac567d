"""Starting a backend instance on demand with its configured command, and stopping it again.

Before, the server crashed with "cannot connect" when the image backend was down, and a
hand-written manager started it (BACKGROUND.md, item 4). Here every instance with a
`start_command` has a `Launcher`: when work needs the instance and it is not healthy, exactly
one launch happens however many runs ask at once (they all await the same attempt), its output
goes to a log file, it can never be interactive (stdin is /dev/null, own session: no terminal),
and it must pass its health check within `ready_timeout` or it is killed and the waiting runs
fail with that message. Launches are rate-limited so a crash loop cannot spin.

The command must keep its server in the foreground. One that daemonizes (forks the server and
exits 0) is accepted once its server answers, with a warning; whatever stays in the command's
process group is stopped with it, but a server that left the group cannot be.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from server.engine.backends.config import StartOptions
from server.engine.backends.health import InstanceHealth
from server.engine.backends.procgroup import group_alive, signal_group
from server.engine.errors import BackendError, BackendUnavailable
from server.protocol import BackendState, RunEndCode

log = structlog.get_logger(__name__)

#: Raises a BackendError unless the instance answers its health check.
Probe = Callable[[], Awaitable[None]]


class StartFailed(BackendUnavailable):
    """The instance could not be started (command failed, exited, or never became healthy)."""

    code = RunEndCode.BACKEND_START_FAILED
    retryable = False


class Launcher:
    """Launches one instance's command; one attempt at a time, shared by every caller."""

    def __init__(
        self,
        options: StartOptions,
        health: InstanceHealth,
        probe: Probe,
        *,
        log_file: Path,
        poll: float,
        stop_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not options.start_command:
            raise ValueError("a Launcher needs a start command")
        self.options = options
        self.health = health
        self.log_file = log_file
        self._probe = probe
        self._poll = poll
        self._stop_timeout = stop_timeout
        self._clock = clock
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.last_launch: float | None = None
        #: How long the last successful start took: the ETA of the next one.
        self.last_ready_seconds: float | None = None
        self._attempt: asyncio.Task[None] | None = None
        #: Notices the started command's exit (see `_exit_noticed`).
        self._watcher: asyncio.Task[None] | None = None

    @property
    def what(self) -> str:
        return f"{self.health.kind} {self.health.instance}"

    @property
    def starting(self) -> bool:
        return self._attempt is not None and not self._attempt.done()

    def wait_before_next(self) -> float:
        """Seconds until another launch is allowed (0: now)."""
        if self.last_launch is None:
            return 0.0
        return max(0.0, self.last_launch + self.options.restart_min_interval - self._clock())

    def can_start(self) -> bool:
        return self.starting or self.wait_before_next() == 0.0

    def expected_seconds(self) -> float:
        """ETA until healthy: the last start's duration, else the ready timeout."""
        expected = self.last_ready_seconds or self.options.ready_timeout
        if self.starting and self.last_launch is not None:
            expected -= self._clock() - self.last_launch
        return round(max(0.0, expected), 1)

    async def ensure_started(self) -> None:
        """Return once the instance is healthy; join the attempt in progress or launch one.

        No await separates the check from creating the attempt, so on one event loop this is
        the lock: however many runs call at once, exactly one attempt exists.
        """
        if self.health.healthy:
            return
        if not self.starting:
            wait = self.wait_before_next()
            if wait > 0:
                raise StartFailed(
                    f"it was started {self.options.restart_min_interval - wait:.0f} s ago and "
                    f"is down again; the next start is allowed in {wait:.0f} s",
                    backend=self.health.kind,
                    instance=self.health.instance,
                )
            self._attempt = asyncio.create_task(self._start(), name=f"start {self.what}")
        assert self._attempt is not None
        await asyncio.shield(self._attempt)

    async def _start(self) -> None:
        self.health.move(BackendState.STARTING, "starting", eta=self.expected_seconds())
        launched = self._clock()
        self.last_launch = launched
        await self.stop()  # what is left of an earlier launch must not hold the port
        try:
            self.process = await self._launch()
            async with asyncio.timeout(self.options.ready_timeout):
                await self._until_ready(self.process)
        except TimeoutError:
            await self.stop()
            self._failed(self._never_ready())
        except StartFailed as exc:
            await self.stop()
            self._failed(exc.message)
        self.last_ready_seconds = self._clock() - launched
        log.info("backend_started", backend=self.what, seconds=round(self.last_ready_seconds, 2))
        self.health.move(BackendState.HEALTHY, "started")
        self._watch_exit()

    def _never_ready(self) -> str:
        exited = self.process is not None and self.process.returncode == 0
        why = (
            "the command exited with code 0 and its server did not answer"
            if exited
            else "did not become healthy"
        )
        return f"{why} within {self.options.ready_timeout:g} s (its output is in {self.log_file})"

    def _failed(self, message: str) -> None:
        log.warning("backend_start_failed", backend=self.what, error=message)
        self.health.move(BackendState.DOWN, f"start failed: {message}", cause=StartFailed)
        raise StartFailed(
            f"could not be started: {message}",
            backend=self.health.kind,
            instance=self.health.instance,
        )

    async def _launch(self) -> asyncio.subprocess.Process:
        command = self.options.start_command or ()
        self.starts += 1
        log.info("backend_starting", backend=self.what, command=command[0], log=str(self.log_file))
        try:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self.log_file.open("ab") as output:
                return await asyncio.create_subprocess_exec(
                    *command,
                    cwd=self.options.workdir,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=output,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,  # no controlling terminal; a group we can signal
                )
        except OSError as exc:
            raise StartFailed(
                f"cannot run {command[0]!r}: {exc}",
                backend=self.health.kind,
                instance=self.health.instance,
            ) from exc

    async def _until_ready(self, process: asyncio.subprocess.Process) -> None:
        while True:
            with contextlib.suppress(BackendError):
                await self._probe()
                if process.returncode is not None:
                    self._daemonized()
                return
            await self._poll_exit(process)

    async def _poll_exit(self, process: asyncio.subprocess.Process) -> None:
        """Wait one poll interval, noticing an exit at once; an exit with an error fails.

        Exit code 0 is what a daemonizing command does once it has forked its server, so
        the server is asked on until `ready_timeout`.
        """
        if process.returncode is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await process.wait()
        else:
            await asyncio.sleep(self._poll)
        if process.returncode:
            raise StartFailed(
                f"the command exited with code {process.returncode} "
                f"(its output is in {self.log_file})",
                backend=self.health.kind,
                instance=self.health.instance,
            )

    def _watch_exit(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            self._watcher = asyncio.create_task(self._exit_noticed(process))

    async def _exit_noticed(self, process: asyncio.subprocess.Process) -> None:
        """A started command that exits by itself: a crash (the health checks act on it), or,
        with code 0 and its server still answering, a command that daemonized after its
        server was already seen answering."""
        code = await process.wait()
        if code != 0:
            log.warning("backend_exited", backend=self.what, code=code)
            return
        with contextlib.suppress(BackendError):
            await self._probe()
            self._daemonized()

    def _daemonized(self) -> None:
        log.warning(
            "backend_daemonized",
            backend=self.what,
            message="start_command exited but its server answers; Atelier cannot stop it "
            "if it left the command's process group: keep the command in the foreground",
        )

    async def stop(self) -> None:
        """Terminate what we launched: its whole process group, so a server a daemonizing
        command left behind in it goes too. SIGTERM, then SIGKILL after `stop_timeout`."""
        process = self.process
        if self._watcher is not None:  # an exit we cause is no news
            self._watcher.cancel()
        if process is None or not group_alive(process.pid):
            return
        signal_group(process.pid, signal.SIGTERM)
        if await self._group_ended(process):
            return
        log.warning("backend_stop_killed", backend=self.what, after=self._stop_timeout)
        signal_group(process.pid, signal.SIGKILL)
        if not await self._group_ended(process):
            log.error("backend_stop_failed", backend=self.what, group=process.pid)

    async def _group_ended(self, process: asyncio.subprocess.Process) -> bool:
        """Wait up to `stop_timeout` for the leader to be reaped and the group to be empty.

        The other members are not our children: nothing announces their end, so poll.
        """
        try:
            async with asyncio.timeout(self._stop_timeout):
                await process.wait()
                while group_alive(process.pid):  # noqa: ASYNC110 - no event to await
                    await asyncio.sleep(self._poll)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Shutdown: abandon a start in progress and stop the process."""
        if self._attempt is not None and not self._attempt.done():
            self._attempt.cancel()
            with contextlib.suppress(asyncio.CancelledError, BackendError):
                await self._attempt
        await self.stop()
        if self._watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
