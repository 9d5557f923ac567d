"""Every response carries the security headers and no `Server` banner: the page, static
files, health, errors aiohttp raises itself, a refused Host and the WebSocket upgrade."""

from __future__ import annotations

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from server.handlers.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from tests.conftest import StartServer, ws_url


def assert_secured(headers: CIMultiDictProxy[str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name
    assert "Server" not in headers


def test_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives == {
        "default-src": "'self'",
        "img-src": "'self' data: blob:",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
    }
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("path", "status", "host"),
    [
        ("/", 200, None),
        ("/static/js/main.js", 200, None),
        ("/healthz", 200, None),
        ("/no/such/page", 404, None),
        ("/static/../setup.cfg", 404, None),
        ("/healthz", 421, "evil.example"),
    ],
)
async def test_every_http_response_is_secured(
    start_server: StartServer, path: str, status: int, host: str | None
) -> None:
    server = await start_server()
    headers = {"Host": host} if host else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{server.port}{path}", headers=headers) as response,
    ):
        assert response.status == status
        assert_secured(response.headers)


async def test_method_not_allowed_is_secured(start_server: StartServer) -> None:
    server = await start_server()
    # OPTIONS, not POST: an unsafe method meets the CSRF check (403) before the router.
    async with (
        aiohttp.ClientSession() as http,
        http.options(f"http://127.0.0.1:{server.port}/healthz") as response,
    ):
        assert response.status == 405
        assert_secured(response.headers)


async def test_websocket_upgrade_is_secured(start_server: StartServer) -> None:
    server = await start_server()
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        assert ws._response.status == 101
        assert_secured(ws._response.headers)
