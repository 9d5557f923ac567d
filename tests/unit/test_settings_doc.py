"""docs/configuration.md lists every setting with its environment variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.protocol import BackendKind
from server.settings import Settings, env_name, load_settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()


def test_every_setting_has_a_row_with_its_environment_variable() -> None:
    rows = set(re.findall(r"^\| `([a-z_]+)` \| `(ATELIER_[A-Z_]+)` \|", DOC, flags=re.MULTILINE))
    assert rows == {(name, env_name(name)) for name in Settings.model_fields}


def test_the_toml_example_is_a_valid_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    example = re.search(r"```toml\n(.*?)```", DOC, flags=re.S)
    assert example is not None
    config = tmp_path / "atelier.toml"
    config.write_text(example.group(1))
    monkeypatch.setenv("ATELIER_CONFIG", str(config))
    settings = load_settings()
    assert [b.name for b in settings.backends(BackendKind.LLM)] == ["gpu1"]
    assert [b.name for b in settings.backends(BackendKind.COMFYUI)] == ["gpu1-comfy"]
    assert settings.uses_demo() is False
