"""Settings from environment, TOML and flags; one clear line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import (
    Settings,
    SettingsError,
    build_arg_parser,
    load_settings,
    parse_args,
)


def test_defaults_match_the_documented_design() -> None:
    s = load_settings()
    assert (s.host, s.port, s.resume_grace, s.max_message_bytes) == ("127.0.0.1", 8080, 120, 65536)
    assert (s.ping_interval, s.heartbeat_idle) == (20, 25)


def test_environment_variables_use_the_atelier_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_PORT", "9001")
    monkeypatch.setenv("ATELIER_ALLOWED_ORIGINS", '["https://a.example"]')
    s = load_settings()
    assert (s.port, s.allowed_origins) == (9001, ["https://a.example"])


def test_toml_file_is_read_and_flags_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "atelier.toml"
    config.write_text('port = 9100\nresume_grace = 30.0\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("ATELIER_CONFIG", str(config))
    monkeypatch.setenv("ATELIER_HOST", "127.0.0.2")
    s = load_settings(parse_args(["--port", "9200"]))
    assert (s.port, s.resume_grace, s.host) == (9200, 30.0, "127.0.0.2")


def test_bad_value_is_one_line_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_PORT", "70000")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("invalid setting ATELIER_PORT (port):")


def test_unknown_toml_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "atelier.toml"
    config.write_text("prot = 1\n")
    monkeypatch.setenv("ATELIER_CONFIG", str(config))
    with pytest.raises(SettingsError, match="prot"):
        load_settings()


def test_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_CONFIG", "/nonexistent/atelier.toml")
    with pytest.raises(SettingsError, match="ATELIER_CONFIG"):
        load_settings()


def test_help_lists_every_setting_with_default_and_env_name() -> None:
    text = build_arg_parser().format_help()
    for name in Settings.model_fields:
        assert "--" + name.replace("_", "-") in text
        assert "ATELIER_" + name.upper() in text.replace("\n", "").replace(" ", "")


def test_list_flags_take_commas() -> None:
    assert parse_args(["--allowed-origins", "https://a,https://b"]) == {
        "allowed_origins": ["https://a", "https://b"]
    }
