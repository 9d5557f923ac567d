"""Loading the catalog: every shipped file is valid, every broken file names file and field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from server.engine.catalog import (
    AUDIENCES,
    REQUIRED_PROMPTS,
    CatalogError,
    InterceptionConfig,
    SafetyLevel,
    load_catalog,
)
from server.engine.errors import AtelierError
from server.engine.workflows import load_workflows

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
OUTPUT_IDS = {"sd35_large", "sdxl_base", "model_free"}
BAUHAUS = "workflows/interception/bauhaus.json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the shipped catalog files, free to break."""
    copy = tmp_path / "workflows"
    for part in ("interception", "safety", "prompts"):
        shutil.copytree(WORKFLOWS / part, copy / part)
    return copy


def read(root: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((root / "interception" / f"{name}.json").read_bytes())
    return data


def write(root: Path, name: str, data: Any) -> None:
    (root / "interception" / f"{name}.json").write_bytes(orjson.dumps(data))


def error_of(root: Path, output_ids: set[str] = OUTPUT_IDS) -> str:
    with pytest.raises(CatalogError) as caught:
        load_catalog(root, output_ids)
    return str(caught.value)


def test_every_shipped_file_loads_against_the_shipped_output_configs() -> None:
    catalog = load_catalog(WORKFLOWS, set(load_workflows(WORKFLOWS)))
    assert len(catalog.interceptions) >= 9
    assert set(catalog.word_lists) == set(SafetyLevel)
    assert set(catalog.prompts) >= REQUIRED_PROMPTS


def test_shipped_configs_have_their_promised_shape() -> None:
    catalog = load_catalog(WORKFLOWS, OUTPUT_IDS)
    configs = catalog.interceptions
    assert configs["passthrough"].passthrough
    assert configs["passthrough"].meta_prompt == ""
    for config in configs.values():
        if config.id != "passthrough":
            assert not config.passthrough, config.id
            assert "language" in config.meta_prompt, config.id
    assert any(config.loras for config in configs.values())
    assert max(len(config.loras) for config in configs.values()) >= 2


def test_rendered_stage_prompts_have_no_placeholders_left() -> None:
    catalog = load_catalog(WORKFLOWS, OUTPUT_IDS)
    for name in REQUIRED_PROMPTS:
        text = catalog.render_prompt(name, level=SafetyLevel.KIDS, lang="de")
        assert "{" not in text, name
    rendered = catalog.render_prompt("safety_input", level=SafetyLevel.YOUTH, lang="en")
    assert AUDIENCES[SafetyLevel.YOUTH] in rendered
    assert "English" in rendered


def test_catalog_error_is_an_atelier_error() -> None:
    assert issubclass(CatalogError, AtelierError)


def test_invalid_json_names_the_file(root: Path) -> None:
    (root / "interception" / "bauhaus.json").write_text('{"id": "bauhaus",', encoding="utf-8")
    assert error_of(root).startswith(f"{BAUHAUS}: invalid JSON")


def test_a_json_array_names_the_file(root: Path) -> None:
    write(root, "bauhaus", [1, 2])
    assert error_of(root).startswith(f"{BAUHAUS}: (file): expected a JSON object")


def test_missing_field_names_file_and_field(root: Path) -> None:
    data = read(root, "bauhaus")
    del data["meta_prompt"]
    write(root, "bauhaus", data)
    assert error_of(root).startswith(f"{BAUHAUS}: meta_prompt: Field required")


def test_wrong_type_names_file_and_field(root: Path) -> None:
    data = read(root, "bauhaus")
    data["order"] = "first"
    write(root, "bauhaus", data)
    assert error_of(root).startswith(f"{BAUHAUS}: order: ")


def test_nested_field_is_named_with_its_path(root: Path) -> None:
    data = read(root, "bauhaus")
    data["loras"][0]["strength_model"] = "strong"
    data["name"] = {"de": "Bauhaus"}
    write(root, "bauhaus", data)
    message = error_of(root)
    assert "name.en: Field required" in message
    assert "loras.0.strength_model: " in message


def test_misspelled_field_is_rejected(root: Path) -> None:
    data = read(root, "bauhaus")
    data["colour"] = data.pop("color")
    write(root, "bauhaus", data)
    message = error_of(root)
    assert "colour: Extra inputs are not permitted" in message
    assert "color: Field required" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("color", "red"), ("icon", "B"), ("id", "Bau Haus"), ("generation", {"temperature": 9})],
)
def test_invalid_values_are_rejected(root: Path, field: str, value: Any) -> None:
    data = read(root, "bauhaus")
    data[field] = value
    write(root, "bauhaus", data)
    assert error_of(root).startswith(f"{BAUHAUS}: {field}")


def test_unknown_output_names_file_and_field(root: Path) -> None:
    data = read(root, "bauhaus")
    data["output"] = "sd99"
    write(root, "bauhaus", data)
    assert error_of(root).startswith(f"{BAUHAUS}: output: unknown output config 'sd99'")


def test_default_output_must_exist_in_the_given_ids(root: Path) -> None:
    assert "output: unknown output config 'sdxl_base'" in error_of(root, {"sd35_large"})


def test_id_must_match_the_file_name(root: Path) -> None:
    data = read(root, "bauhaus")
    data["id"] = "bauhaus_v2"
    write(root, "bauhaus", data)
    message = error_of(root)
    assert message.startswith(f"{BAUHAUS}: id: 'bauhaus_v2' does not match the file name")


def test_duplicate_id_in_a_subfolder_is_rejected(root: Path) -> None:
    (root / "interception" / "extra").mkdir()
    shutil.copy(root / "interception" / "bauhaus.json", root / "interception" / "extra")
    message = error_of(root)
    assert message.startswith("workflows/interception/extra/bauhaus.json: id: duplicate id")
    assert BAUHAUS in message


def test_no_interception_configs_is_an_error(root: Path) -> None:
    shutil.rmtree(root / "interception")
    (root / "interception").mkdir()
    assert error_of(root).startswith("workflows/interception: no interception configs")


def test_missing_word_list_names_the_file(root: Path) -> None:
    (root / "safety" / "de" / "youth.txt").unlink()
    assert error_of(root) == "workflows/safety/de/youth.txt: file is missing"


def test_missing_required_language_names_its_first_file(root: Path) -> None:
    shutil.rmtree(root / "safety" / "en")
    assert error_of(root) == "workflows/safety/en/kids.txt: file is missing"


def test_a_new_language_folder_needs_every_level(root: Path) -> None:
    (root / "safety" / "tr").mkdir(exist_ok=True)
    for level in ("kids", "youth", "adult", "research"):
        (root / "safety" / "tr" / f"{level}.txt").unlink(missing_ok=True)
    (root / "safety" / "tr" / "kids.txt").write_text("silah\n", encoding="utf-8")
    assert error_of(root) == "workflows/safety/tr/youth.txt: file is missing"


def test_bad_word_list_entry_names_file_and_line(root: Path) -> None:
    path = root / "safety" / "en" / "kids.txt"
    path.write_text("# fine\nkill\nbad*entry\n", encoding="utf-8")
    assert error_of(root).startswith("workflows/safety/en/kids.txt: line 3: ")


def test_missing_stage_prompt_names_the_file(root: Path) -> None:
    (root / "prompts" / "translate.md").unlink()
    assert error_of(root) == "workflows/prompts/translate.md: file is missing"


def test_empty_stage_prompt_is_an_error(root: Path) -> None:
    (root / "prompts" / "safety_output.md").write_text(" \n", encoding="utf-8")
    assert error_of(root) == "workflows/prompts/safety_output.md: (file): is empty"


def test_unknown_placeholder_names_file_and_placeholder(root: Path) -> None:
    (root / "prompts" / "safety_input.md").write_text("Judge for {audiense}.", encoding="utf-8")
    message = error_of(root)
    assert message.startswith("workflows/prompts/safety_input.md: placeholder {audiense}: unknown")


def test_extra_prompt_files_are_loaded_too(root: Path) -> None:
    (root / "prompts" / "caption.md").write_text("Describe it in {language}.", encoding="utf-8")
    catalog = load_catalog(root, OUTPUT_IDS)
    assert catalog.render_prompt("caption", level=SafetyLevel.ADULT, lang="de") == (
        "Describe it in German."
    )


def test_edited_meta_prompt_is_a_copy_and_leaves_the_catalog_alone() -> None:
    catalog = load_catalog(WORKFLOWS, OUTPUT_IDS)
    original = catalog.interceptions["bauhaus"]
    edited = original.with_meta_prompt("Draw it as a cube.")
    assert edited.meta_prompt == "Draw it as a cube."
    assert catalog.interceptions["bauhaus"].meta_prompt == original.meta_prompt
    assert catalog.interceptions["bauhaus"] is original
    assert isinstance(edited, InterceptionConfig)
    assert edited.with_meta_prompt("  ").passthrough


def test_config_models_are_frozen() -> None:
    config = load_catalog(WORKFLOWS, OUTPUT_IDS).interceptions["bauhaus"]
    with pytest.raises(ValueError, match="frozen"):
        config.meta_prompt = "changed"


def test_lora_refs_become_lora_specs_for_stage_4() -> None:
    config = load_catalog(WORKFLOWS, OUTPUT_IDS).interceptions["bauhaus"]
    (spec,) = config.lora_specs()
    assert spec.name == "bauhaus_style_v1.safetensors"
    assert (spec.strength_model, spec.strength_clip) == (0.8, 0.6)
