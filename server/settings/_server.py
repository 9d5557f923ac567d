"""Settings of the listener, the socket and sessions."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from server.engine.eventlog import DEFAULT_LOG_BYTES, DEFAULT_REPLAY_BYTES
from server.engine.sessions import DEFAULT_RESUME_BURST, DEFAULT_RESUMES_PER_MINUTE


class ListeningFields(BaseModel):
    """Where the server listens, stores and logs."""

    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="TCP port to listen on (0: any free port)")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="proxies (IPs or CIDR networks, JSON list) whose CF-Connecting-IP or "
        "X-Forwarded-For names the client; none are trusted by default, not even localhost",
    )
    data_dir: Path = Field(Path("data"), description="where run records and media are stored")
    log_format: str = Field(
        "auto", pattern="^(auto|json|console)$", description="auto: console on a terminal"
    )
    log_level: str = Field(
        "info", pattern="^(debug|info|warning|error)$", description="lowest level logged"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            ipaddress.ip_network(value.strip(), strict=False)  # ValueError names the bad one
        return values


class SocketFields(BaseModel):
    """One WebSocket: sizes, timings, rates."""

    allowed_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed to open /ws besides the page's own (JSON list; '*' = any)",
    )
    max_message_bytes: int = Field(
        64 * 1024, ge=1024, le=16 * 1024 * 1024, description="largest client message accepted"
    )
    ping_interval: float = Field(
        20.0, gt=0, le=300, description="seconds between WebSocket ping frames"
    )
    heartbeat_idle: float = Field(
        25.0, gt=0, le=90, description="send a `heartbeat` after this many idle seconds"
    )
    hello_timeout: float = Field(
        10.0, gt=0, le=120, description="seconds a new socket has to send `hello`"
    )
    send_timeout: float = Field(
        5.0, gt=0, le=120, description="a send that takes longer aborts the socket"
    )
    outbox_limit: int = Field(
        1024, ge=16, le=1_000_000, description="messages queued for one socket before it is dropped"
    )
    messages_per_second: float = Field(
        20.0, gt=0, le=10_000, description="sustained client message rate per socket"
    )
    message_burst: int = Field(
        40, ge=1, le=100_000, description="client messages allowed in a burst above the rate"
    )
    messages_per_second_per_person: float = Field(
        40.0,
        gt=0,
        le=100_000,
        description="sustained client message rate of one person over all their sockets "
        "(every guest of one address together)",
    )
    message_burst_per_person: int = Field(
        80, ge=1, le=1_000_000, description="a person's messages allowed in a burst above it"
    )
    flood_tolerance: int = Field(
        20, ge=1, le=100_000, description="rate-limited messages in a row before the socket closes"
    )


class SessionFields(BaseModel):
    """Sessions, their replay logs and resumes."""

    max_sessions: int = Field(
        20_000, ge=1, le=1_000_000, description="sessions held at once; more are refused"
    )
    resume_grace: float = Field(
        120.0, ge=0, le=86_400, description="seconds a detached session waits for a reconnect"
    )
    event_log_limit: int = Field(
        2048, ge=16, le=1_000_000, description="events kept per session for replay on resume"
    )
    event_log_bytes: int = Field(
        DEFAULT_LOG_BYTES,
        ge=64 * 1024,
        le=1024 * 1024 * 1024,
        description="encoded bytes of events kept per session for replay on resume",
    )
    max_replay_bytes: int = Field(
        DEFAULT_REPLAY_BYTES,
        ge=64 * 1024,
        le=1024 * 1024 * 1024,
        description="encoded bytes one resume may replay; a larger gap gets a resync instead",
    )
    resumes_per_minute: float = Field(
        DEFAULT_RESUMES_PER_MINUTE,
        gt=0,
        le=60_000,
        description="resumes of one session per minute, after the burst",
    )
    resume_burst: int = Field(
        DEFAULT_RESUME_BURST,
        ge=1,
        le=10_000,
        description="resumes of one session allowed in quick succession",
    )
    state: str = Field(
        "embedded",
        pattern="^(embedded|redis)$",
        description="where sessions and their event logs live: embedded (this process) or "
        "redis (shared: any instance on the same Redis resumes any session)",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        pattern="^(redis|rediss|unix)://",
        description="the Redis server of state = redis (redis://, rediss:// or unix://)",
    )
    slot_lease_seconds: float = Field(
        10.0,
        ge=1.0,
        le=300.0,
        description="with state = redis: the lease on a backend slot an instance holds, "
        "renewed every third of it; a dead instance's slots are free again within it",
    )
