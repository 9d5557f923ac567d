"""The kind table: one row per kind, and what the registry and the settings read from it."""

from __future__ import annotations

import pytest

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.engine.backends.kinds import COMFYUI, KINDS, LLM, kind_named
from server.engine.backends.registry import Backends
from server.protocol import BackendKind
from server.settings import Settings


def test_every_kind_has_one_row_naming_real_settings_and_its_own_instance_class() -> None:
    assert list(KINDS) == list(BackendKind)
    for kind, row in KINDS.items():
        assert row.kind is kind
        assert row.instance.kind is kind
        assert {row.setting, row.url_setting} <= set(Settings.model_fields)


def test_an_error_names_its_kind_by_the_kind_or_by_an_llm_dialect() -> None:
    assert kind_named("llm") is LLM
    assert kind_named("ollama") is LLM
    assert kind_named("openai") is LLM
    assert kind_named("comfyui") is COMFYUI
    assert kind_named("tts") is None


def test_a_url_shortcut_configures_one_instance_and_a_list_wins_over_it() -> None:
    shortcuts = Settings(llm_url="http://gpu:11434", comfyui_url="http://gpu:8188")
    assert shortcuts.backends(BackendKind.LLM) == [
        LLMBackendConfig(name="ollama", url="http://gpu:11434")
    ]
    assert shortcuts.backends(BackendKind.COMFYUI) == [
        ComfyUIBackendConfig(name="comfyui", url="http://gpu:8188")
    ]
    listed = Settings(llm=[LLMBackendConfig(name="a")], llm_url="http://gpu:11434")
    assert [c.name for c in listed.backends(BackendKind.LLM)] == ["a"]
    assert Settings().backends(BackendKind.COMFYUI) == []


def test_instances_are_built_by_kind_and_a_config_of_another_kind_is_refused() -> None:
    backends = Backends(
        {BackendKind.COMFYUI: [ComfyUIBackendConfig(name="img")], BackendKind.LLM: []}
    )
    assert [i.pool for i in backends.all_instances()] == ["comfyui:img"]
    assert backends.instances(LLM) == []
    with pytest.raises(TypeError, match="ComfyUIBackendConfig"):
        Backends({BackendKind.COMFYUI: [LLMBackendConfig(name="gpu1")]})
