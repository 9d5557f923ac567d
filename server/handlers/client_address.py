"""The client address of a request: the peer, or what a trusted proxy says the client was.

Rate limits and abuse logs count by this address before a person has joined. Behind
cloudflared every peer is 127.0.0.1, so nothing is trusted for coming from localhost: only a
peer inside a configured `trusted_proxies` network may name the client, in `CF-Connecting-IP`
(Cloudflare) or else as the right-most address of `X-Forwarded-For` that is not itself a
trusted proxy. A header that does not hold an IP address is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from aiohttp import web

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"
_ADDRESS = web.RequestKey("client_address", str)
#: The parsed `trusted_proxies` setting, set once when the app is built.
TRUSTED_PROXIES = web.AppKey("trusted_proxies", tuple[IPNetwork, ...])


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks from settings ("10.0.0.0/8", "127.0.0.1"); a bad one raises ValueError."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _ip(text: str | None) -> IPAddress | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: IPAddress | None, trusted: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in network for network in trusted)


def resolve(peer: str | None, headers: Mapping[str, str], trusted: tuple[IPNetwork, ...]) -> str:
    """The client address for a peer and its request headers (a case-insensitive mapping),
    given the trusted networks."""
    peer_ip = _ip(peer)
    if peer_ip is None:
        return UNKNOWN
    if not _trusted(peer_ip, trusted):
        return str(peer_ip)
    named = _ip(headers.get("CF-Connecting-IP"))
    if named is not None:
        return str(named)
    for hop in reversed(headers.get("X-Forwarded-For", "").split(",")):
        hop_ip = _ip(hop)
        if hop_ip is None:
            break
        if not _trusted(hop_ip, trusted):
            return str(hop_ip)
    return str(peer_ip)


def from_trusted_proxy(request: web.Request) -> bool:
    """Whether the request's peer is one of the `trusted_proxies` (whose headers count)."""
    return _trusted(_ip(request.remote), request.app[TRUSTED_PROXIES])


def client_address(request: web.Request) -> str:
    """The request's client address, resolved once and kept on the request."""
    known = request.get(_ADDRESS)
    if known is None:
        known = resolve(request.remote, request.headers, request.app[TRUSTED_PROXIES])
        request[_ADDRESS] = known
    return known
