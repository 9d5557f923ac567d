"""Operator endpoints (`/metrics`, `/api/status`) over real HTTP: refused to guests and
students, served to a logged-in teacher, to the monitor's bearer token and on the monitoring
listener's port; `/healthz` and `/readyz` stay public."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.wiring import DemoOptions
from tests.conftest import MONITOR_HEADERS, MONITOR_TOKEN, make_settings
from tests.people_support import (
    create_class,
    error_of,
    joined_student,
    logged_in_teacher,
    me,
    people_client,
)
from tests.pipeline_support import FAST, StartPipeline

OPERATOR_PATHS = ("/metrics", "/api/status")


async def status_of(http: ClientSession, server: TestServer, path: str, **headers: str) -> int:
    async with http.get(server.make_url(path), headers=headers) as response:
        if response.status == 403:
            assert await error_of(response) == (403, "operators_only")
        return response.status


@pytest.mark.parametrize("path", OPERATOR_PATHS)
async def test_a_guest_in_open_mode_is_refused(start_pipeline: StartPipeline, path: str) -> None:
    server = await start_pipeline(access="open")
    async with people_client() as guest:
        assert (await me(guest, server))["role"] == "student"  # a guest cookie now
        assert await status_of(guest, server, path) == 403
    async with ClientSession() as nobody:
        assert await status_of(nobody, server, path) == 403


@pytest.mark.parametrize("path", OPERATOR_PATHS)
async def test_a_student_is_refused_and_their_teacher_served(
    start_pipeline: StartPipeline, path: str
) -> None:
    server = await start_pipeline(access="codes")
    async with await logged_in_teacher(server) as teacher:
        klass = await create_class(teacher, server)
        async with await joined_student(server, klass["code"], "Mika") as student:
            assert await status_of(student, server, path) == 403
        assert await status_of(teacher, server, path) == 200


@pytest.mark.parametrize("path", OPERATOR_PATHS)
async def test_the_monitor_token_is_served_and_a_wrong_one_refused(
    start_pipeline: StartPipeline, path: str
) -> None:
    server = await start_pipeline(access="codes", monitor_token=MONITOR_TOKEN)
    async with ClientSession() as monitor:
        assert await status_of(monitor, server, path, **MONITOR_HEADERS) == 200
        wrong = {"Authorization": f"Bearer {MONITOR_TOKEN[:-1]}x"}
        assert await status_of(monitor, server, path, **wrong) == 403
        basic = {"Authorization": f"Basic {MONITOR_TOKEN}"}
        assert await status_of(monitor, server, path, **basic) == 403


async def test_without_a_monitor_token_no_bearer_is_served(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    async with ClientSession() as monitor:
        assert await status_of(monitor, server, "/metrics", Authorization="Bearer ") == 403
        assert await status_of(monitor, server, "/metrics", Authorization="Bearer None") == 403


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_monitoring_listeners_port_is_served_without_credentials(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    port = free_port()
    settings = make_settings(access="codes", demo="on", monitor_port=port)
    server = await aiohttp_server(create_app(settings, demo_options=DemoOptions(FAST)), port=port)
    async with ClientSession() as monitor:
        for path in OPERATOR_PATHS:
            assert await status_of(monitor, server, path) == 200


async def test_health_and_readiness_stay_public(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    async with ClientSession() as anyone:
        assert await status_of(anyone, server, "/healthz") == 200
        assert await status_of(anyone, server, "/readyz") == 200
