"""The pure core loads without an event loop library: the run's state and the admission of its
inputs never import asyncio or aiohttp, not even through what they import."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = ("server.engine.run", "server.engine.run_record", "server.engine.admission")
IMPURE = ("asyncio", "aiohttp")


def loaded_with(module: str) -> set[str]:
    """Top-level packages in sys.modules after importing `module` in a fresh interpreter."""
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in out.stdout.split()}


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_no_event_loop(module: str) -> None:
    assert loaded_with(module).isdisjoint(IMPURE)


def test_the_check_sees_an_impure_module() -> None:
    assert "asyncio" in loaded_with("server.engine.session")  # the check itself can fail
