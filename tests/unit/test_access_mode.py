"""The access mode in force, from `access`, `host` and `public_url`, and the people settings'
bounds."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from server.protocol import AccessMode
from server.settings import Settings, access_mode, public_host, public_https

OPEN, CODES = AccessMode.OPEN, AccessMode.CODES


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", OPEN),
        ("127.0.0.2", OPEN),
        ("::1", OPEN),
        ("localhost", OPEN),
        ("0.0.0.0", CODES),
        ("::", CODES),
        ("192.168.1.20", CODES),
        ("atelier.local", CODES),
    ],
)
def test_auto_is_codes_once_others_can_reach_the_server(host: str, expected: AccessMode) -> None:
    assert access_mode(Settings(host=host)) is expected


def test_auto_with_a_public_url_is_codes_even_on_loopback() -> None:
    # Behind cloudflared the server listens on 127.0.0.1 and is reached from the internet.
    settings = Settings(host="127.0.0.1", public_url="https://atelier.school.example")
    assert access_mode(settings) is CODES


def test_an_explicit_mode_wins() -> None:
    assert access_mode(Settings(host="0.0.0.0", access="open")) is OPEN
    assert access_mode(Settings(host="127.0.0.1", access="codes")) is CODES


def test_the_public_host_and_scheme() -> None:
    settings = Settings(public_url="https://Atelier.School.example:8443/")
    assert settings.public_url == "https://Atelier.School.example:8443"
    assert public_host(settings) == "atelier.school.example:8443"
    assert public_https(settings) is True
    assert public_https(Settings(public_url="http://atelier.lan")) is False
    assert (public_host(Settings()), public_https(Settings())) == (None, False)


@pytest.mark.parametrize("url", ["atelier.school.example", "ftp://x.example", "https://", "x"])
def test_a_public_url_must_be_an_http_address_with_a_host(url: str) -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        Settings(public_url=url)


def test_a_monitor_token_has_at_least_32_characters_and_is_never_shown() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(monitor_token="x" * 31)
    settings = Settings(monitor_token="s" * 32)
    assert "s" * 32 not in repr(settings)
    assert settings.monitor_token is not None
    assert settings.monitor_token.get_secret_value() == "s" * 32


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("identity_days", 0),
        ("identity_days", 3651),
        ("teacher_session_hours", 0),
        ("teacher_session_hours", 24 * 31 + 1),
        ("join_attempts_per_minute", 0),
        ("login_attempts_per_minute", 0),
        ("login_attempts_per_minute", 10_001),
        ("monitor_port", 0),
        ("monitor_port", 65536),
        ("access", "closed"),
    ],
)
def test_each_bound_is_enforced(field: str, bad: Any) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: bad})


def test_the_monitor_listener_cannot_be_the_students_port() -> None:
    with pytest.raises(ValidationError, match="monitor_port must not be the port"):
        Settings(port=8080, monitor_port=8080)
    assert Settings(port=8080, monitor_port=9100).monitor_port == 9100
