"""docs/configuration.md lists every ComfyUI client setting with its default."""

from __future__ import annotations

import re
from pathlib import Path

from server.engine.comfyui.config import ComfyUIConfig

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()


def comfyui_rows() -> dict[str, str]:
    section = DOC.split("## ComfyUI instances", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z_]+)` \| `([^`]+)` \|", section, flags=re.MULTILINE))


def test_every_comfyui_client_setting_has_a_row_with_its_default() -> None:
    documented = {
        name: str(field.default)
        for name, field in ComfyUIConfig.model_fields.items()
        if name not in ("name", "url")  # with the instance's other fields in operations.md
    }
    assert comfyui_rows() == documented
