"""Fixtures of the evaluation-set tests: the word lists as the server loads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.engine.catalog import SafetyLevel, load_catalog
from server.engine.safety_words import WordList

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
#: The output configs the interception configs name (as in tests/unit/test_catalog_listing.py).
OUTPUTS = {"sd35_large", "sdxl_base", "model_free"}


@pytest.fixture(scope="session")
def word_lists() -> dict[SafetyLevel, WordList]:
    """The stacked lists of every level, loaded by the catalog as at start-up."""
    return load_catalog(WORKFLOWS, OUTPUTS).word_lists
