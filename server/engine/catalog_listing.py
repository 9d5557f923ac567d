"""The body of `GET /api/catalog?lang=`: the perspectives in the page's order and language, the
output configs, and for each whether a run may (or must) bring the student's own picture."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from server.engine.catalog import Catalog, InterceptionConfig, Lang

#: What the catalog says of an output and of each perspective rendered with it: whether a run
#: may bring the student's own picture, and whether it must (`OutputConfig`'s properties).
IMAGE_FLAGS = ("accepts_image", "requires_image")


def listing(catalog: Catalog, lang: Lang, outputs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The body of `GET /api/catalog?lang=`: interceptions in UI order, then outputs."""
    configs = sorted(catalog.interceptions.values(), key=lambda c: (c.order, c.id))
    listed = [_output(entry) for entry in outputs]
    flags = {entry["id"]: {flag: entry[flag] for flag in IMAGE_FLAGS} for entry in listed}
    return {
        "lang": lang,
        "interceptions": [_listed(config, lang, flags) for config in configs],
        "outputs": listed,
    }


def _output(entry: Mapping[str, Any]) -> dict[str, Any]:
    found = {flag: bool(entry.get(flag, False)) for flag in IMAGE_FLAGS}
    return {"id": entry["id"], "name": entry["name"], **found}


def _listed(
    config: InterceptionConfig, lang: Lang, flags: Mapping[str, Mapping[str, bool]]
) -> dict[str, Any]:
    unknown = dict.fromkeys(IMAGE_FLAGS, False)
    return {
        **flags.get(config.output, unknown),
        "id": config.id,
        "name": config.name.get(lang),
        "description": config.description.get(lang),
        "icon": config.icon,
        "color": config.color,
        "meta_prompt": config.instructions(lang),
        "passthrough": config.passthrough,
        "output": config.output,
    }
