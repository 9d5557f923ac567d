"""Settings that bound what one person or one client address can cost the class."""

from __future__ import annotations

from pydantic import BaseModel


class PersonLimitFields(BaseModel):
    """Per-person and per-address bounds: sessions, runs, connections, pending upgrades."""
