"""The `GET /api/catalog` body: localized, sorted, with the outputs the caller passes in."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from server.engine.catalog import Catalog, load_catalog, parse_lang
from server.engine.catalog_listing import listing

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
OUTPUTS = [
    {"id": "sd35_large", "name": "Stable Diffusion 3.5 Large"},
    {"id": "sdxl_base", "name": "SDXL base"},
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(WORKFLOWS, {"sd35_large", "sdxl_base", "model_free"})


def test_listing_is_localized_in_german_and_english(catalog: Catalog) -> None:
    german = {item["id"]: item for item in listing(catalog, "de", OUTPUTS)["interceptions"]}
    english = {item["id"]: item for item in listing(catalog, "en", OUTPUTS)["interceptions"]}
    assert german["youth_slang"]["name"] == "Jugendsprache"
    assert english["youth_slang"]["name"] == "Youth slang"
    assert german["telephone_game"]["name"] == "Stille Post"
    for config_id, item in german.items():
        assert item["description"] == catalog.interceptions[config_id].description.de
        assert english[config_id]["description"] == catalog.interceptions[config_id].description.en


def test_listing_is_sorted_by_order_then_id(catalog: Catalog) -> None:
    ids = [item["id"] for item in listing(catalog, "en", OUTPUTS)["interceptions"]]
    expected = sorted(catalog.interceptions.values(), key=lambda c: (c.order, c.id))
    assert ids == [config.id for config in expected]
    assert ids[0] == "bauhaus"
    assert ids[-1] == "passthrough"


def test_listing_item_has_what_the_ui_shows_and_edits(catalog: Catalog) -> None:
    item = listing(catalog, "de", OUTPUTS)["interceptions"][0]
    assert set(item) == {
        "id",
        "name",
        "description",
        "icon",
        "color",
        "meta_prompt",
        "passthrough",
        "output",
        "accepts_image",
        "requires_image",
    }
    assert item["meta_prompt"] == catalog.interceptions[item["id"]].instructions("de")


def test_listing_passes_outputs_through_as_id_and_name(catalog: Catalog) -> None:
    outputs = [{**OUTPUTS[0], "graph": "secret.json"}]
    body = listing(catalog, "en", outputs)
    assert body["outputs"] == [
        {
            "id": "sd35_large",
            "name": "Stable Diffusion 3.5 Large",
            "accepts_image": False,
            "requires_image": False,
        }
    ]
    assert body["lang"] == "en"


def test_listing_serializes_to_json(catalog: Catalog) -> None:
    assert orjson.loads(orjson.dumps(listing(catalog, "de", OUTPUTS)))["lang"] == "de"


@pytest.mark.parametrize(
    ("value", "expected"), [("de", "de"), ("en", "en"), (None, "de"), ("fr", "de"), ("EN", "de")]
)
def test_parse_lang_falls_back_to_the_default(value: str | None, expected: str) -> None:
    assert parse_lang(value) == expected


def test_parse_lang_honours_a_given_default() -> None:
    assert parse_lang("xx", default="en") == "en"


def test_each_perspective_says_what_its_output_says_of_a_picture(catalog: Catalog) -> None:
    outputs = [
        {"id": "sdxl_base", "name": "SDXL", "accepts_image": True, "requires_image": False},
        {"id": "sd35_large", "name": "SD 3.5", "accepts_image": True, "requires_image": True},
    ]
    body = listing(catalog, "en", outputs)
    assert [entry["accepts_image"] for entry in body["outputs"]] == [True, True]
    for item in body["interceptions"]:
        expected = item["output"] == "sd35_large"
        assert item["accepts_image"] is (item["output"] in {"sdxl_base", "sd35_large"})
        assert item["requires_image"] is expected
    assert {item["output"] for item in body["interceptions"]} == {"sdxl_base", "sd35_large"}
