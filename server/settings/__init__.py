"""Server settings: environment variables `ATELIER_*`, an optional TOML file, command-line flags.

Precedence, highest first: command-line flag, environment variable, TOML file, default.
Everything is validated at start-up; `load_settings` turns the first bad value into one line
naming the setting (`SettingsError`). `python -m server --help` lists every field below.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from server.settings._backends import BackendFields
from server.settings._limits import PersonLimitFields
from server.settings._paths import PROJECT_ROOT as PROJECT_ROOT
from server.settings._people import PeopleFields
from server.settings._people import access_mode as access_mode
from server.settings._people import public_host as public_host
from server.settings._people import public_https as public_https
from server.settings._runs import RunFields
from server.settings._server import ListeningFields, SessionFields, SocketFields
from server.settings._uploads import UploadFields

ENV_PREFIX = "ATELIER_"
CONFIG_ENV = "ATELIER_CONFIG"


class SettingsError(Exception):
    """A setting has a bad value; the message is one line that names it."""


# pydantic collects the fields of the last base first: the groups are listed bottom-up so that
# `--help` and the docs' table read from the listener down to the backends.
class Settings(
    BackendFields,
    UploadFields,
    RunFields,
    PeopleFields,
    PersonLimitFields,
    SessionFields,
    SocketFields,
    ListeningFields,
    BaseSettings,
):
    """Every setting of the server, in groups (one module each, `server/settings/_*.py`).
    Field descriptions become the `--help` text."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, validate_default=True
    )

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
