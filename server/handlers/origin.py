"""The Origin check on the WebSocket upgrade (cross-site WebSocket hijacking defence)."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Same origin, a listed origin, or '*'. No Origin header means a non-browser client:
    browsers always send one on a WebSocket upgrade, so the check cannot be bypassed by them."""
    if origin is None:
        return True
    if "*" in allowed or origin.rstrip("/") in (o.rstrip("/") for o in allowed):
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and host is not None and netloc.lower() == host.lower()
