"""Settings of people: access mode, classes, identities, teachers' logins (docs/privacy.md).

`access_mode` is the one answer to "who may use this server": every part that asks calls it.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from server.protocol import AccessMode

#: Host names that mean this machine alone: a server listening there is a laptop's.
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class PeopleFields(BaseModel):
    """Who may use the server and how they prove it."""

    access: Literal["auto", "open", "codes"] = Field(
        "auto",
        description="open: anyone; codes: only students who joined a class and teachers; "
        "auto: codes when host is not a loopback address or public_url is set, else open",
    )
    public_url: str | None = Field(
        None,
        max_length=2048,
        description="the address students open (https://atelier.school.example); "
        "https there makes the cookies Secure",
    )
    secret_key_file: Path | None = Field(
        None,
        description="the key that signs identity cookies (32 random bytes, created 0600 at "
        "first start; default: secret.key in data_dir)",
    )
    identity_days: float = Field(
        180.0, gt=0, le=3650, description="days a student's identity cookie stays valid"
    )
    teacher_session_hours: float = Field(
        12.0, gt=0, le=24 * 31, description="hours a teacher's login stays valid"
    )
    max_class_members: int = Field(
        60,
        ge=1,
        le=10_000,
        description="members one class may have; a new nickname beyond is refused (class_full), "
        "so one student cannot make a crowd of nicknames",
    )
    join_attempts_per_minute: int = Field(
        10,
        ge=1,
        le=10_000,
        description="failed join attempts (unknown or expired code, wrong PIN) per client "
        "address per minute; successful joins never count",
    )
    guest_cookies_per_hour: int = Field(
        60,
        ge=1,
        le=100_000,
        description="new guest cookies (open access mode) per client address per hour; "
        "beyond, a browser without one gets none (guests_limited) and uses Atelier without "
        "a cookie, its runs counted with its address's; one that has one keeps it",
    )
    login_attempts_per_minute: int = Field(
        5,
        ge=1,
        le=10_000,
        description="teacher login attempts per minute, per client address and per name",
    )
    monitor_token: SecretStr | None = Field(
        None,
        min_length=32,
        max_length=512,
        description="a bearer token (32 characters or more) that may read /metrics and "
        "/api/status; default none: only teachers may",
    )
    monitor_host: str | None = Field(
        None, max_length=255, description="address of a separate listener for monitoring"
    )
    monitor_port: int | None = Field(
        None, ge=1, le=65535, description="port of that listener (default none: no listener)"
    )
    max_pictures_listed: int = Field(
        500,
        ge=1,
        le=1000,
        description="pictures one person's gallery (GET /api/pictures) lists, newest first "
        "(found among their newest 1,000 runs)",
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// address with a host name")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _monitor_apart(self) -> PeopleFields:
        # Everything that arrives on the monitor's port is served operator endpoints.
        if self.monitor_port is not None and self.monitor_port == getattr(self, "port", None):
            raise ValueError("monitor_port must not be the port students use")
        return self


class _Listening(Protocol):
    """What the access mode depends on (the settings have it)."""

    @property
    def host(self) -> str: ...
    @property
    def access(self) -> str: ...
    @property
    def public_url(self) -> str | None: ...


def is_loopback(host: str) -> bool:
    """Whether listening on `host` reaches this machine alone."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_mode(settings: _Listening) -> AccessMode:
    """The access mode in force: `auto` is `codes` once the server is reachable by others."""
    if settings.access != "auto":
        return AccessMode(settings.access)
    if settings.public_url is not None or not is_loopback(settings.host):
        return AccessMode.CODES
    return AccessMode.OPEN


def public_host(settings: _Listening) -> str | None:
    """The host (and port, if named) students reach the server by, lower case; None: unset."""
    if settings.public_url is None:
        return None
    return urlsplit(settings.public_url).netloc.lower()


def public_https(settings: _Listening) -> bool:
    """Whether the public address is https (cookies are then always `Secure`)."""
    return settings.public_url is not None and settings.public_url.startswith("https://")
