"""Fixtures shared by every tier. Settings never come from the developer's environment."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.app import socket_app
from server.engine.service import NoRuns, RunService
from server.settings import ENV_PREFIX, Settings

pytest_plugins = ("tests.pipeline_support",)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def make_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


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
