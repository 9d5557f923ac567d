"""`python -m server.harness NAME ...`: run one harness tool as its own process.

Each tool module exposes `run_cli(argv: list[str]) -> None`; they are imported lazily so a
simulator process loads only what it needs.
"""

from __future__ import annotations

import importlib
import sys

TOOLS: dict[str, tuple[str, str]] = {
    "ollama": ("server.harness.llm_sim", "an Ollama simulator (/api/chat NDJSON)"),
    "openai": ("server.harness.llm_sim", "an OpenAI-compatible simulator (/v1 SSE)"),
    "comfyui": ("server.harness.comfyui_sim", "a ComfyUI simulator (HTTP + /ws)"),
    "load": ("server.harness.load", "drive N browser-like sessions against a server"),
}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in TOOLS:
        names = ",".join(TOOLS)
        print(f"usage: python -m server.harness {{{names}}} [options]", file=sys.stderr)
        for name, (_, what) in TOOLS.items():
            print(f"  {name:8} {what}", file=sys.stderr)
        raise SystemExit(2)
    module = importlib.import_module(TOOLS[argv[0]][0])
    module.run_cli(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
