"""The domain: sessions, scheduler, pipeline, catalog, backend clients.

Never imports aiohttp.web or server.handlers.
"""
