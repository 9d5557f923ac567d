"""The pages and static files over a real socket: the favicon, gzip when asked for, content-hashed
URLs cached for a year, ETag revalidation for the rest, and the security headers on all of it
(`server/handlers/static_files.py`)."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.app import STATIC_DIR
from server.handlers.headers import SECURITY_HEADERS
from server.handlers.static_files import VERSIONED_MAX_AGE
from tests.conftest import StartServer


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    # As sent: no decompression by the client, so the test sees the bytes on the wire.
    async with ClientSession(auto_decompress=False) as session:
        yield session


PLAIN = {"Accept-Encoding": "identity"}


def url(server: TestServer, path: str) -> str:
    return f"http://{server.host}:{server.port}{path}"


def assert_security_headers(headers: object) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value  # type: ignore[index]


async def test_the_favicon_is_there(start_server: StartServer, http: ClientSession) -> None:
    server = await start_server()
    async with http.get(url(server, "/favicon.ico")) as response:
        assert response.status == 200
        assert response.content_type in ("image/vnd.microsoft.icon", "image/x-icon")
        assert await response.read() == (STATIC_DIR / "favicon.ico").read_bytes()
        assert_security_headers(response.headers)
    async with http.get(url(server, "/"), headers=PLAIN) as page:
        assert 'rel="icon" href="/static/favicon.ico?v=' in await page.text()


async def test_a_script_is_gzipped_when_asked_for_and_the_same_unpacked(
    start_server: StartServer, http: ClientSession
) -> None:
    server = await start_server()
    source = (STATIC_DIR / "js" / "main.js").read_bytes()
    packed = {"Accept-Encoding": "gzip, deflate"}
    async with http.get(url(server, "/static/js/main.js"), headers=packed) as response:
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.content_type == "text/javascript"
        body = await response.read()
        assert_security_headers(response.headers)
    assert len(body) < len(source)
    assert gzip.decompress(body) == source
    async with http.get(url(server, "/static/js/main.js"), headers=PLAIN) as response:
        assert "Content-Encoding" not in response.headers
        assert await response.read() == source


async def test_pages_are_not_cached_and_name_their_files_by_content_hash(
    start_server: StartServer, http: ClientSession
) -> None:
    server = await start_server()
    async with http.get(url(server, "/"), headers=PLAIN) as page:
        assert page.headers["Cache-Control"] == "no-cache"
        assert_security_headers(page.headers)
        html = await page.text()
    [version] = re.findall(r'src="/static/js/main\.js\?v=([0-9a-f]+)"', html)
    source = (STATIC_DIR / "js" / "main.js").read_bytes()
    assert version == hashlib.sha256(source).hexdigest()[:16]
    async with http.get(url(server, f"/static/js/main.js?v={version}")) as versioned:
        cache = versioned.headers["Cache-Control"]
        assert cache == f"public, max-age={VERSIONED_MAX_AGE}, immutable"
    async with http.get(url(server, "/static/js/main.js?v=stale")) as stale:
        assert stale.headers["Cache-Control"] == "no-cache"  # an old version is not promised


async def test_an_unversioned_module_is_revalidated_by_its_etag(
    start_server: StartServer, http: ClientSession
) -> None:
    server = await start_server()
    async with http.get(url(server, "/static/js/store.js")) as first:
        assert first.headers["Cache-Control"] == "no-cache"
        etag = first.headers["ETag"]
    async with http.get(
        url(server, "/static/js/store.js"), headers={"If-None-Match": etag}
    ) as again:
        assert again.status == 304
        assert await again.read() == b""
        assert_security_headers(again.headers)


@pytest.mark.parametrize(
    "path", ["/static/../server/app.py", "/static/%2e%2e/server/app.py", "/static/js", "/static/.x"]
)
async def test_nothing_outside_static_nor_a_directory_is_served(
    start_server: StartServer, http: ClientSession, path: str
) -> None:
    server = await start_server()
    async with http.get(url(server, path)) as response:
        assert response.status == 404
        assert_security_headers(response.headers)
