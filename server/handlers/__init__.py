"""aiohttp handlers: thin adapters between HTTP/WebSocket and the engine."""
