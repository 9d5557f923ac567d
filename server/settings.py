"""Server settings: environment variables `ATELIER_*`, an optional TOML file, command-line flags.

Precedence, highest first: command-line flag, environment variable, TOML file, default.
Everything is validated at start-up; `load_settings` turns the first bad value into one line
naming the setting (`SettingsError`). `python -m server --help` lists every field below.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from server.engine.backends.config import BackendConfig, ComfyUIBackendConfig, LLMBackendConfig
from server.engine.backends.kinds import KINDS
from server.engine.eventlog import DEFAULT_LOG_BYTES, DEFAULT_REPLAY_BYTES
from server.engine.sessions import DEFAULT_RESUME_BURST, DEFAULT_RESUMES_PER_MINUTE
from server.protocol import BackendKind

ENV_PREFIX = "ATELIER_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "ATELIER_CONFIG"


class SettingsError(Exception):
    """A setting has a bad value; the message is one line that names it."""


class Settings(BaseSettings):
    """Every setting of the server. Field descriptions become the `--help` text."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, validate_default=True
    )

    # -- listening
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="TCP port to listen on (0: any free port)")
    data_dir: Path = Field(Path("data"), description="where run records and media are stored")
    log_format: str = Field(
        "auto", pattern="^(auto|json|console)$", description="auto: console on a terminal"
    )
    log_level: str = Field(
        "info", pattern="^(debug|info|warning|error)$", description="lowest level logged"
    )

    # -- the socket
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
    flood_tolerance: int = Field(
        20, ge=1, le=100_000, description="rate-limited messages in a row before the socket closes"
    )

    # -- sessions
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

    # -- runs (enforced by the pipeline)
    max_prompt_chars: int = Field(
        2000, ge=1, le=20_000, description="longest prompt a student may send"
    )
    max_meta_prompt_chars: int = Field(
        8000, ge=1, le=20_000, description="longest edited meta-prompt"
    )
    max_runs_in_flight: int = Field(
        2, ge=1, le=100, description="runs of one session working at once; more wait"
    )
    max_queued_runs: int = Field(
        8, ge=0, le=1000, description="runs of one session waiting beyond those in flight"
    )
    max_waiting_runs: int = Field(
        500, ge=1, le=100_000, description="runs waiting server-wide before new ones are refused"
    )
    queue_update_interval: float = Field(
        0.25, ge=0, le=10, description="least seconds between two queue updates of one run"
    )
    eta_refresh_interval: float = Field(
        3.0, ge=0.5, le=60, description="least seconds between two ETA-only updates of one run"
    )
    safety_level: Literal["kids", "youth", "adult", "research"] = Field(
        "kids", description="how strictly prompts are checked; never set by a client"
    )
    model_safety: str = Field("llama3.2", min_length=1, description="LLM for safety verdicts")
    model_interception: str = Field(
        "llama3.2", min_length=1, description="LLM for prompt interception (stage 2)"
    )
    model_translation: str = Field(
        "llama3.2", min_length=1, description="LLM for translation to English (stage 3)"
    )
    llm_stage_timeout: float = Field(
        300.0, gt=0, le=3600, description="longest one LLM step may take once it has a slot"
    )
    generation_timeout: float = Field(
        600.0, gt=0, le=7200, description="longest an image render may take once it has a slot"
    )
    workflows_dir: Path = Field(
        PROJECT_ROOT / "workflows", description="interception/output configs, graphs, word lists"
    )
    retention_hours: float = Field(
        72.0, ge=0, le=24 * 365, description="delete runs older than this (0: keep all)"
    )

    # -- backends
    llm: list[LLMBackendConfig] = Field(
        default_factory=list, description="LLM servers (JSON list; TOML [[llm]] tables)"
    )
    llm_url: str | None = Field(None, description="shortcut: one Ollama server at this URL")
    comfyui: list[ComfyUIBackendConfig] = Field(
        default_factory=list, description="ComfyUI instances (JSON list; TOML [[comfyui]])"
    )
    comfyui_url: str | None = Field(None, description="shortcut: one ComfyUI at this URL")
    health_interval: float = Field(
        10.0, gt=0, le=3600, description="seconds between two health checks of each backend"
    )
    health_timeout: float = Field(
        5.0, gt=0, le=120, description="a backend health check slower than this fails"
    )
    breaker_failures: int = Field(
        3, ge=1, le=1000, description="failures in a row that stop work going to a backend"
    )
    breaker_cooldown: float = Field(
        30.0, gt=0, le=86_400, description="seconds before such a backend gets one trial again"
    )
    warm_up: bool = Field(False, description="load the LLM models on every LLM server at start")
    warm_up_timeout: float = Field(
        300.0, gt=0, le=3600, description="longest wait for one model to load during warm-up"
    )
    demo: Literal["auto", "on", "off"] = Field(
        "auto", description="built-in simulators: auto = when no backend is configured"
    )

    def backends(self, kind: BackendKind) -> list[BackendConfig]:
        """The instances of `kind` configured: its list setting, else its one-URL shortcut
        (both named by the kind's row in `server.engine.backends.kinds`)."""
        row = KINDS[kind]
        listed: list[BackendConfig] = getattr(self, row.setting)
        url: str | None = getattr(self, row.url_setting)
        if listed or not url:
            return list(listed)
        return [row.config(name=row.url_instance, url=url)]

    def uses_demo(self) -> bool:
        if self.demo == "auto":
            return not any(self.backends(kind) for kind in KINDS)
        return self.demo == "on"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def describe_error(exc: ValidationError) -> str:
    """The first problem as one line: `ATELIER_PORT (port): Input should be ...`."""
    err = exc.errors(include_url=False)[0]
    field = str(err["loc"][0]) if err["loc"] else "settings"
    name = f"{env_name(field)} ({field})" if field in Settings.model_fields else field
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"invalid setting {name}: {err['msg']}{suffix}"


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Read settings from flags (`overrides`), environment and TOML; raise SettingsError."""
    config_file = os.environ.get(CONFIG_ENV)
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"invalid setting {CONFIG_ENV}: no such file {config_file!r}")
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None
    except ValueError as exc:  # a TOML syntax error or an env value that is not JSON
        raise SettingsError(f"invalid settings: {exc}".splitlines()[0]) from None


def build_arg_parser() -> argparse.ArgumentParser:
    """One `--flag` per setting, with its default and environment variable in the help."""
    parser = argparse.ArgumentParser(
        prog="python -m server",
        description="Atelier: real-time pipeline server for creative-AI classrooms. "
        f"Every setting can also be set as an environment variable or in the TOML file "
        f"named by {CONFIG_ENV}.",
    )
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            metavar="VALUE",
            default=argparse.SUPPRESS,
            help=f"{field.description} [default: {default!s}; env: {env_name(name)}]",
        )
    return parser


def parse_args(argv: list[str]) -> dict[str, Any]:
    """Command-line flags as overrides; list settings take JSON (or commas for strings)."""
    values = vars(build_arg_parser().parse_args(argv))
    for name, value in list(values.items()):
        annotation = Settings.model_fields[name].annotation
        if annotation == list[str] and not value.startswith("["):
            values[name] = [part for part in value.split(",") if part]
        elif getattr(annotation, "__origin__", None) is list:
            try:
                values[name] = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise SettingsError(f"invalid setting --{name}: not a JSON list") from None
    return values
