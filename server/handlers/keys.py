"""Typed application state keys. App state lives here, never in module globals."""

from __future__ import annotations

import asyncio
import weakref

from aiohttp import web

from server.engine.classroom.hub import ClassHub
from server.engine.classroom.lessons import Lessons
from server.engine.people.db import PeopleStore
from server.engine.people.identity import Identity
from server.engine.pipeline import Pipeline
from server.engine.ratelimit import SharedBuckets
from server.engine.service import RunService
from server.engine.sessions import SessionRegistry
from server.engine.stats import SocketStats
from server.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", SessionRegistry)
STATS = web.AppKey("stats", SocketStats)
#: What run commands go to: the pipeline once published, `NoRuns` before (or without) one.
RUNS = web.AppKey("runs", RunService)
SOCKETS = web.AppKey("sockets", weakref.WeakSet[web.WebSocketResponse])
#: Each person's client-message budget over all their sockets (`ratelimit.SharedBuckets`).
MESSAGE_BUDGETS = web.AppKey("message_budgets", SharedBuckets)
#: Set when start-up is complete, cleared when shutdown begins.
READY = web.AppKey("ready", asyncio.Event)
#: Present only once start-up has started everything the pipeline needs (never half-built).
PIPELINE = web.AppKey("pipeline", Pipeline)
#: The identity a request's cookie proves (`server/handlers/identity.py`); absent: none.
IDENTITY = web.RequestKey("identity", Identity)
#: Teachers, classes, members and the pictures index (opened with the app, `handlers/people.py`).
PEOPLE = web.AppKey("people", PeopleStore)
#: The class hub (`server/engine/classroom/hub.py`): consoles' live view, walls' feed; set
#: with the pipeline.
CLASSES = web.AppKey("classes", ClassHub)
#: Classes in session (`server/engine/classroom/lessons.py`): paused, lesson ended, current
#: rules; set with the pipeline.
LESSONS = web.AppKey("lessons", Lessons)
