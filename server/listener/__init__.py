"""Listening: the app on its TCP sites, every connection behind the guard, until a signal.

`listening(app, settings)` starts the app (its start-up hooks), the main site on
`host`/`port` and, when `monitor_port` is set, a second site for monitoring on
`monitor_host` (default: `host`), both behind one `ConnectionGuard`; it watches the open
descriptors while it serves. aiohttp's keep-alive timer is its header timeout too: it starts
when a connection opens (and again after each response) and closes a connection whose next
request head has not arrived whole when it fires, however slowly bytes trickle in
(slowloris). So `header_timeout` sets it. `serve` listens until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from aiohttp import web

from server.engine.tally import Tally
from server.handlers.client_address import TRUSTED_PROXIES
from server.listener._descriptors import (
    FileLimit,
    open_descriptors,
    raise_soft_limit,
    tight,
    too_low,
    watch_descriptors,
)
from server.listener._guard import ConnectionGuard, GuardedProtocol
from server.settings import Settings, env_name

__all__ = [
    "ConnectionGuard",
    "FileLimit",
    "GuardedProtocol",
    "Listening",
    "PortInUse",
    "listening",
    "open_descriptors",
    "raise_soft_limit",
    "serve",
    "tight",
    "too_low",
]

log = structlog.get_logger(__name__)

#: Seconds the shutdown waits for requests in progress (sockets are closed before that).
SHUTDOWN_TIMEOUT = 10.0
#: Connections the kernel queues before we accept them (capped by net.core.somaxconn). At
#: aiohttp's 128 a burst (a class reconnecting at once, or a flood beside it) overflowed it
#: and a dropped SYN cost its client a 1 s retransmit before its `welcome`.
LISTEN_BACKLOG = 1024


class PortInUse(Exception):
    """The port is held by another process: `python -m server` says so in one sentence, naming
    the setting to change, instead of a traceback ending in `[Errno 98]`."""

    def __init__(self, host: str, port: int, setting: str) -> None:
        flag = "--" + setting.replace("_", "-")
        super().__init__(
            f"port {port} on {host} is already in use by another program; "
            f"choose another one with {flag} or {env_name(setting)}"
        )


class GuardedSite(web.BaseSite):
    """A TCP site whose connections pass the guard first. `setting`: the setting that names
    its port, for the sentence when the port is taken."""

    __slots__ = ("_guard", "_host", "_port", "_setting", "port")

    def __init__(
        self,
        runner: web.AppRunner,
        address: tuple[str, int, str],
        guard: ConnectionGuard,
    ):
        super().__init__(runner, backlog=LISTEN_BACKLOG)
        self._host, self._port, self._setting = address
        self._guard = guard
        self.port = self._port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}/"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None  # the runner is set up before sites are made
        try:
            self._server = await asyncio.get_running_loop().create_server(
                self._guard.wrap(server), self._host, self._port, backlog=self._backlog
            )
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PortInUse(self._host, self._port, self._setting) from None
        self.port = self._server.sockets[0].getsockname()[1]


@dataclass(frozen=True, slots=True)
class Listening:
    """A running server: its app, its sites (the main one first) and its guard."""

    app: web.Application
    sites: tuple[GuardedSite, ...]
    guard: ConnectionGuard

    @property
    def port(self) -> int:
        return self.sites[0].port


@contextlib.asynccontextmanager
async def listening(
    app: web.Application, settings: Settings, file_limit: int | None = None
) -> AsyncIterator[Listening]:
    """Start `app` and its sites; on exit stop them and shut the app down. `file_limit`:
    the open-file limit to watch (None: none is watched)."""
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        keepalive_timeout=settings.header_timeout,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    try:
        guard = ConnectionGuard(
            Tally(settings.max_connections_per_address, settings.max_connections),
            app[TRUSTED_PROXIES],
        )
        sites = tuple(GuardedSite(runner, address, guard) for address in _addresses(settings))
        for site in sites:
            await site.start()
        async with _watching(file_limit):
            yield Listening(app, sites, guard)
    finally:
        await runner.cleanup()


def _addresses(settings: Settings) -> list[tuple[str, int, str]]:
    """Where to listen: `host`/`port`, and the monitor's port when one is set; each with the
    setting that names the port."""
    addresses = [(settings.host, settings.port, "port")]
    if settings.monitor_port is not None:
        monitor_host = settings.monitor_host or settings.host
        addresses.append((monitor_host, settings.monitor_port, "monitor_port"))
    return addresses


@contextlib.asynccontextmanager
async def _watching(file_limit: int | None) -> AsyncIterator[None]:
    if file_limit is None:
        yield
        return
    watcher = asyncio.create_task(watch_descriptors(file_limit))
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def serve(app: web.Application, settings: Settings, file_limit: int) -> None:
    """Listen until SIGTERM or SIGINT, then shut down cleanly; a second one of the same
    signal ends the process at once (its default action is back)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping(signum: int) -> None:
        stop.set()
        loop.remove_signal_handler(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping, signum)
    async with listening(app, settings, file_limit) as server:
        for site in server.sites:
            log.info("listening", url=site.name)
        await stop.wait()
