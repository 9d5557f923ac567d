"""The pages and their static files, compressed and cached, with no build step.

On slow classroom Wi-Fi the uncompressed, uncached page cost every student its whole download
on every load. Each file is read once, hashed and gzipped in memory when first asked for, and
again only when it changes on disk (its size or modification time), so an edit shows at the
next reload without a restart and nothing is written next to the sources.

Caching, honestly: a page (`index.html`, ...) is `no-cache` and names its stylesheets and
entry scripts with `?v=<content hash>`; such a versioned URL is cached for a year
(`immutable`): new content is a new URL. ES modules import each other by relative URL
(`./store.js`), which a page cannot version without a build step, so every unversioned file is
`no-cache` with an `ETag`: the browser asks again and gets `304 Not Modified` (no body) while
the file is unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import hdrs, web

#: Seconds a versioned URL (`?v=<hash>`) is cached: a year, the longest browsers keep.
VERSIONED_MAX_AGE = 31_536_000
#: Smaller files are sent as they are: gzip's header would outweigh what it saves.
MIN_COMPRESS_BYTES = 256
#: Kinds worth compressing; pictures and icons are compressed formats already.
COMPRESSIBLE = frozenset({".js", ".css", ".html", ".svg", ".json", ".txt"})
#: `/static/...` in a page's `href` or `src`: the URLs the page versions.
STATIC_REFERENCE = re.compile(r'((?:href|src)="/static/)([^"?#]+)(")')


@dataclass(frozen=True, slots=True)
class StaticFile:
    """One file as sent: its bytes, gzipped bytes (None: not worth it), content hash, type."""

    body: bytes
    gzipped: bytes | None
    etag: str
    content_type: str
    stamp: tuple[int, int]  # (size, mtime_ns) when read: a change reads it again


class StaticFiles:
    """The files under `root` by relative name; nothing outside it, no hidden files."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._files: dict[str, StaticFile] = {}

    def get(self, name: str) -> StaticFile | None:
        path = self._path(name)
        if path is None:
            return None
        stat = path.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)
        known = self._files.get(name)
        if known is None or known.stamp != stamp:
            known = self._files[name] = _read(path, stamp)
        return known

    def _path(self, name: str) -> Path | None:
        """The file `name` names inside the root, or None (outside, hidden, a directory)."""
        if any(part.startswith(".") for part in name.split("/")):
            return None
        path = (self._root / name).resolve()
        inside = path.is_relative_to(self._root)
        return path if inside and path.is_file() else None


def _read(path: Path, stamp: tuple[int, int]) -> StaticFile:
    body = path.read_bytes()
    gzipped = None
    if path.suffix in COMPRESSIBLE and len(body) >= MIN_COMPRESS_BYTES:
        gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":  # the platform's table may lack it; modules need a JS type
        content_type = "text/javascript"
    return StaticFile(body, gzipped, content_hash(body), content_type, stamp)


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


STATIC = web.AppKey("static_files", StaticFiles)


async def static_file(request: web.Request) -> web.Response:
    """`GET /static/{path}`: cached for a year when asked for by its current `?v=`."""
    found = request.app[STATIC].get(request.match_info["path"])
    if found is None:
        raise web.HTTPNotFound()
    versioned = request.query.get("v") == found.etag
    return respond(request, found, found.body, versioned=versioned)


async def favicon(request: web.Request) -> web.Response:
    """`GET /favicon.ico`: browsers ask for it on every page, linked or not."""
    found = request.app[STATIC].get("favicon.ico")
    if found is None:
        raise web.HTTPNotFound()
    return respond(request, found, found.body, versioned=False)


def page(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A page handler: the HTML with its `/static/` references versioned, never cached."""

    async def handler(request: web.Request) -> web.StreamResponse:
        files = request.app[STATIC]
        found = files.get(name)
        if found is None:
            raise web.HTTPNotFound()
        html = STATIC_REFERENCE.sub(lambda m: _versioned(files, m), found.body.decode())
        body = html.encode()
        stamp = found.stamp
        gzipped = gzip.compress(body, compresslevel=6, mtime=0)
        rendered = StaticFile(body, gzipped, content_hash(body), found.content_type, stamp)
        return respond(request, rendered, body, versioned=False)

    return handler


def _versioned(files: StaticFiles, match: re.Match[str]) -> str:
    found = files.get(match.group(2))
    if found is None:  # a broken link stays visible as one (404), not hidden by a version
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}?v={found.etag}{match.group(3)}"


def respond(
    request: web.Request, found: StaticFile, body: bytes, *, versioned: bool
) -> web.Response:
    """The file, gzipped when the client takes it, `304` when its ETag is the client's."""
    headers = {
        hdrs.ETAG: f'"{found.etag}"',
        hdrs.CACHE_CONTROL: (
            f"public, max-age={VERSIONED_MAX_AGE}, immutable" if versioned else "no-cache"
        ),
        hdrs.VARY: hdrs.ACCEPT_ENCODING,
    }
    if f'"{found.etag}"' in request.headers.get(hdrs.IF_NONE_MATCH, ""):
        return web.Response(status=304, headers=headers)
    if found.gzipped is not None and accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
        headers[hdrs.CONTENT_ENCODING] = "gzip"
        body = found.gzipped
    return web.Response(body=body, headers=headers, content_type=found.content_type)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether `Accept-Encoding` takes gzip (`gzip`, `gzip;q=0.8`; not `gzip;q=0`)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False
