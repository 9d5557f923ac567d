"""Fixtures shared by every tier. Settings never come from the developer's environment."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.app import socket_app
from server.engine.service import NoRuns, RunService
from server.settings import ENV_PREFIX, Settings

pytest_plugins = ("tests.pipeline_support", "tests.people_store_support")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


#: Every test's `data_dir` (records, media, the people database, the secret key) lives under
#: this directory unless the test names its own: no test writes `data/` in the checkout.
_DATA_ROOT = Path(tempfile.mkdtemp(prefix="atelier-tests-"))


@pytest.fixture(autouse=True, scope="session")
def _remove_data_root() -> Iterator[None]:
    yield
    shutil.rmtree(_DATA_ROOT, ignore_errors=True)


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test: defaults, the given overrides, and a fresh temporary `data_dir`."""
    overrides.setdefault("data_dir", Path(tempfile.mkdtemp(dir=_DATA_ROOT)))
    return Settings(**overrides)


#: A `monitor_token` for tests that read `/metrics` or `/api/status`, and the header it needs.
MONITOR_TOKEN = "test-monitor-token-0123456789abcdef"
MONITOR_HEADERS = {"Authorization": f"Bearer {MONITOR_TOKEN}"}

StartServer = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def start_server(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> StartServer:
    """Start the socket layer of the real app (no pipeline) on a real 127.0.0.1 port."""

    async def start(
        *, runs: RunService | None = None, demo: bool = False, **overrides: Any
    ) -> TestServer:
        app = socket_app(make_settings(**overrides), runs=runs or NoRuns(), demo=demo)
        return await aiohttp_server(app)

    return start


def ws_url(server: TestServer) -> str:
    return f"ws://{server.host}:{server.port}/ws"
