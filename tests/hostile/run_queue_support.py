"""The whole server with students whose identities a test names, for the run-queue tests.

The identity a socket belongs to is what the identity middleware puts under `IDENTITY` on the
upgrade request (from its signed cookie). These tests are about what the pipeline and the
scheduler do with an identity, not about cookies, so a test middleware, added after the app's
own, sets it from the socket URL's `?as=<name>` instead: the same seam, the same request key.
A socket without `as` is an anonymous client, as it would be without a cookie.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.engine.people.identity import ClassRules, Identity
from server.harness.client import AtelierClient, Message
from server.harness.demo import DemoBackends
from server.protocol import Role
from server.wiring import DemoOptions
from tests.conftest import make_settings, ws_url
from tests.identity_support import as_people
from tests.pipeline_support import FAST, pipeline_of

#: The image server's pool in demo mode: one slot, so order is plain to see.
IMAGE_POOL = "comfyui:demo-comfyui"

StartClass = Callable[..., Awaitable[TestServer]]


def student(key: str, nickname: str, rules: ClassRules | None = None) -> Identity:
    """A member of class 7 ("4b"), with the class's rules."""
    return Identity(Role.STUDENT, key, nickname, 7, "4b", rules)


@pytest.fixture(name="start_class")
def start_class_fixture(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]], tmp_path: Path
) -> StartClass:
    """Start the real server (fast simulators) whose sockets belong to `people` by name."""

    async def start(people: Mapping[str, Identity], **overrides: Any) -> TestServer:
        overrides.setdefault("data_dir", tmp_path / "data")
        settings = make_settings(demo="on", queue_update_interval=0, **overrides)
        app = create_app(settings, demo_options=DemoOptions(FAST))
        app.middlewares.append(as_people(people))
        return await aiohttp_server(app)

    return start


async def socket_of(server: TestServer, name: str | None) -> AtelierClient:
    """A new session of the person called `name` (None: an anonymous client)."""
    url = ws_url(server) if name is None else f"{ws_url(server)}?as={name}"
    client = AtelierClient(url)
    await client.connect()
    return client


async def try_run(
    client: AtelierClient, prompt: str, interception: str = "passthrough", **fields: Any
) -> Message:
    """Send a `run.start`; its answer: `run.accepted` or an `error`."""
    await client.send(
        {"type": "run.start", "prompt": prompt, "interception": interception, **fields}
    )
    return await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))


def render_order(demo: DemoBackends, markers: list[str]) -> list[str]:
    """Which marker's picture the image server started rendering, in order (from its own
    journal: every graph carries the prompt, so one marker per prompt tells them apart)."""
    state = demo.comfyui.state
    started = [pid for event, pid in state.journal if event == "started"]
    order: list[str] = []
    for pid in started:
        graph = orjson.dumps(state.history[pid]["prompt"][2]).decode()
        order += [m for m in markers if m in graph]
    return order


def image_waiting(server: TestServer) -> int:
    """Runs waiting for the image server's slot."""
    return pipeline_of(server).services.scheduler.snapshot().pools[IMAGE_POOL].waiting
