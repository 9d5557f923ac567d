"""The `Host` check on every request: a defence against DNS rebinding.

A page on `evil.example` whose name is re-pointed at 127.0.0.1 can make a teacher's browser
talk to a local `./run.sh` as if it were `evil.example`; the one thing it cannot change is the
`Host` header, which names `evil.example`. So a request is served only when its `Host` names:

- the public host of `public_url`, with that address's port (none written: the scheme's);
- the configured `host` and `monitor_host`, when they are not a wildcard (`0.0.0.0`, `::`);
- a loopback name (`localhost`, `127.0.0.1`, `[::1]`), or any IP address: an address in the
  address bar is its own origin, so it cannot be a rebinding, and a class on a school network
  reaches the server by its IP. Any port: a container or a proxy may map the listening one.

Anything else (another name, a malformed header, none at all) gets 421 with a short text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from server.settings import Settings

#: Names that reach this machine alone, besides every IP address.
LOOPBACK_NAMES = frozenset({"localhost"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})
DEFAULT_PORTS = {"http": 80, "https": 443}
#: A Host header longer than any name the check could accept is refused unparsed.
MAX_HOST_CHARS = 300

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class AllowedHosts:
    """The names a request may be addressed to: `public` with one of `public_ports` (None:
    no port written), `local` with any port, and every IP address."""

    public: str | None
    public_ports: frozenset[int | None]
    local: frozenset[str]

    @classmethod
    def of(cls, settings: Settings) -> AllowedHosts:
        local = set(LOOPBACK_NAMES)
        for host in (settings.host, settings.monitor_host or ""):
            if host.strip().lower() not in WILDCARD_HOSTS:
                local.add(host.strip().lower().strip("[]"))
        if settings.public_url is None:
            return cls(None, frozenset(), frozenset(local))
        url = urlsplit(settings.public_url)
        default = DEFAULT_PORTS[url.scheme]
        port = url.port or default
        ports = {port, None} if port == default else {port}
        return cls((url.hostname or "").lower(), frozenset(ports), frozenset(local))

    def allows(self, header: str | None) -> bool:
        parsed = split_host(header)
        if parsed is None:
            return False
        name, port = parsed
        if name == self.public:
            return port in self.public_ports
        return name in self.local or is_ip_address(name)


def split_host(header: str | None) -> tuple[str, int | None] | None:
    """`Host` as a lower-case name (IPv6 without brackets) and a port; None if malformed."""
    if not header or len(header) > MAX_HOST_CHARS:
        return None
    try:
        parts = urlsplit("//" + header.strip())
        port = parts.port  # ValueError when not a number in 0..65535
    except ValueError:
        return None
    name = parts.hostname
    if not name or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    if parts.netloc.endswith(":"):  # "host:" with an empty port
        return None
    return name.rstrip("."), port


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_check(allowed: AllowedHosts) -> Middleware:
    """The middleware: a request whose `Host` is not one of `allowed` is answered 421."""

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not allowed.allows(request.headers.get(hdrs.HOST)):
            raise web.HTTPMisdirectedRequest(text="unknown host")
        return await handler(request)

    return check_host
