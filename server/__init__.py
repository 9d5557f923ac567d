"""Atelier: a real-time pipeline server for creative-AI classrooms."""

from __future__ import annotations

__version__ = "0.1.0"
