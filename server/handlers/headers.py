"""Security headers on every response, and no `Server` banner naming Python and aiohttp.

A signal (`on_response_prepare`), not a middleware: it runs for every response the app
prepares, including the WebSocket upgrade, static files and the errors aiohttp raises itself
(404, 405), after aiohttp has set its own headers, so it can take the `Server` one away.

The page is plain ES modules from `/static/` with no inline script or style element, so the
policy allows scripts, styles and fonts from the page's own origin only; previews arrive as
`data:` URLs and the socket is same-origin. `frame-ancestors 'none'` keeps another site from
framing the page (clickjacking a child's click).
"""

from __future__ import annotations

from aiohttp import hdrs, web

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Add the policy headers and drop aiohttp's `Server: Python/3.x aiohttp/3.x`."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.popall(hdrs.SERVER, None)
