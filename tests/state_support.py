"""A real `redis-server` for the state tests: on a free port, in a temporary directory, with
no persistence, stopped after. Missing, it fails those tests (never a skip): the Redis back end
is only as tested as the server it ran against (Debian package `redis-server`; `.ci/run`
installs it)."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
from redis import Redis

from tests.integration.test_server_process import free_port

#: Seconds `redis-server` has to say it is ready (it takes milliseconds).
START_TIMEOUT = 15.0


class RedisServer:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian: apt-get install redis-server)")
        self.dir = tempfile.mkdtemp(prefix="atelier-redis-")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.dir,
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "notice",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Read its log until it accepts connections (an event, bounded, not a sleep)."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        seen = b""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"Ready to accept connections" not in seen:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    self.stop()
                    pytest.fail(f"redis-server did not start: {seen.decode()[-500:]}")
                chunk = os.read(self.proc.stdout.fileno(), 65536)  # unbuffered, as select sees it
                if not chunk:
                    pytest.fail(f"redis-server exited: {seen.decode()[-500:]}")
                seen += chunk

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One server per test worker; each test empties it (`redis_url`)."""
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    with Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url
