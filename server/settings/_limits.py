"""Settings that bound what one person or one client address can cost the class."""

from __future__ import annotations

from pydantic import BaseModel, Field

from server.engine.session_table import DEFAULT_SESSIONS_PER_ADDRESS, DEFAULT_SESSIONS_PER_PERSON


class PersonLimitFields(BaseModel):
    """Per-person and per-address bounds: sessions, runs, connections, pending upgrades."""

    max_sessions_per_person: int = Field(
        DEFAULT_SESSIONS_PER_PERSON,
        ge=1,
        le=10_000,
        description="sessions (tabs, devices) one student or teacher holds at once; a new one "
        "closes their oldest detached session, or is refused when all are open",
    )
    max_sessions_per_address: int = Field(
        DEFAULT_SESSIONS_PER_ADDRESS,
        ge=1,
        le=1_000_000,
        description="sessions of guests and cookie-less clients from one client address "
        "(members and teachers are counted per person only)",
    )

    # Connections (docs/operations.md, "Connections and descriptors"). One client address can
    # be a whole class behind a school's NAT: 60 browsers with a socket and up to 6 page
    # connections each are 420, so an address gets 512; all together hold 32 such addresses
    # (a flood from 16 addresses at their caps leaves room for every class).
    max_connections: int = Field(
        16_384,
        ge=16,
        le=1_000_000,
        description="open connections of all clients together; more are closed at once "
        "(the open-file limit must hold them plus 256)",
    )
    max_connections_per_address: int = Field(
        512,
        ge=1,
        le=1_000_000,
        description="open connections (WebSockets included) of one client address; a class "
        "behind one NAT address is one address",
    )
    max_pending_upgrades: int = Field(
        512,
        ge=1,
        le=1_000_000,
        description="WebSocket upgrades being answered at once, all clients together",
    )
    max_pending_upgrades_per_address: int = Field(
        128,
        ge=1,
        le=1_000_000,
        description="WebSocket upgrades of one client address being answered at once",
    )
    header_timeout: float = Field(
        10.0,
        gt=0,
        le=300,
        description="seconds a new or idle connection has to send a whole request head; "
        "then it is closed",
    )
    body_timeout: float = Field(
        10.0, gt=0, le=300, description="seconds a request has to send its whole body"
    )
