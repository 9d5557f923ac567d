"""Typed application state keys. App state lives here, never in module globals."""

from __future__ import annotations

import asyncio
import weakref

from aiohttp import web

from server.engine.pipeline import Pipeline
from server.engine.service import RunService
from server.engine.sessions import SessionRegistry
from server.engine.stats import SocketStats
from server.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", SessionRegistry)
STATS = web.AppKey("stats", SocketStats)
RUNS = web.AppKey("runs", RunService)
SOCKETS = web.AppKey("sockets", weakref.WeakSet[web.WebSocketResponse])
READY = web.AppKey("ready", asyncio.Event)
PIPELINE = web.AppKey("pipeline", Pipeline)
