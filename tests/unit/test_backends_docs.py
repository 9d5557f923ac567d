"""docs/operations.md: its configuration examples are valid settings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from server.engine.backends.config import ComfyUIBackendConfig
from server.protocol import BackendKind
from server.settings import Settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()


def toml_examples() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC, flags=re.S)


def test_the_gpu_server_configuration_is_valid_and_starts_comfyui_on_demand() -> None:
    settings = Settings(**tomllib.loads(toml_examples()[0]))
    assert [b.name for b in settings.backends(BackendKind.LLM)] == ["gpu1"]
    (comfy,) = settings.backends(BackendKind.COMFYUI)
    assert comfy.start_command is not None
    assert comfy.workdir == Path("/opt/ComfyUI")
    assert settings.warm_up is True


def test_the_swarmui_table_is_a_valid_comfyui_instance() -> None:
    table = tomllib.loads(toml_examples()[1])["comfyui"][0]
    config = ComfyUIBackendConfig(**table)
    assert config.start_command is not None
    assert "--launch_mode" in config.start_command
