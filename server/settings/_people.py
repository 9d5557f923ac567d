"""Settings of people: access mode, classes, identities, teachers' logins (docs/privacy.md)."""

from __future__ import annotations

from pydantic import BaseModel


class PeopleFields(BaseModel):
    """Who may use the server and how they prove it."""
