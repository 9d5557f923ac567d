"""Protocol-faithful simulators of an Ollama server and an OpenAI-compatible (llama.cpp) server,
for tests, demo mode and load tests (`python -m server.harness ollama|openai --help`)."""

from __future__ import annotations

from server.harness.llm_sim.base import SimulatorBase
from server.harness.llm_sim.cli import run_cli
from server.harness.llm_sim.common import (
    Faults,
    Responder,
    SimModel,
    SimSettings,
    default_responder,
    tokenize,
)
from server.harness.llm_sim.ollama import BUSY_MESSAGE, OllamaSimulator
from server.harness.llm_sim.openai import OpenAISimulator

__all__ = [
    "BUSY_MESSAGE",
    "Faults",
    "OllamaSimulator",
    "OpenAISimulator",
    "Responder",
    "SimModel",
    "SimSettings",
    "SimulatorBase",
    "default_responder",
    "run_cli",
    "tokenize",
]
