"""Settings of runs: prompt bounds, queues, safety, models, time bounds, retention."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from server.engine.media import DEFAULT_HELD_BYTES, DEFAULT_HELD_SECONDS
from server.settings._paths import PROJECT_ROOT


class RunFields(BaseModel):
    """What the pipeline enforces on runs and which models it uses."""

    max_prompt_chars: int = Field(
        2000, ge=1, le=20_000, description="longest prompt a student may send"
    )
    max_meta_prompt_chars: int = Field(
        8000, ge=1, le=20_000, description="longest edited meta-prompt"
    )
    max_runs_in_flight: int = Field(
        2,
        ge=1,
        le=100,
        description="runs of one student working at once, across all their sessions; "
        "more wait (a class may set fewer)",
    )
    max_queued_runs: int = Field(
        8,
        ge=0,
        le=1000,
        description="runs of one student waiting beyond those in flight, across all "
        "their sessions; more are refused (a class may set fewer)",
    )
    max_waiting_runs: int = Field(
        500, ge=1, le=100_000, description="runs waiting server-wide before new ones are refused"
    )
    queue_update_interval: float = Field(
        0.25, ge=0, le=10, description="least seconds between two queue updates of one run"
    )
    eta_refresh_interval: float = Field(
        3.0, ge=0.5, le=60, description="least seconds between two ETA-only updates of one run"
    )
    safety_level: Literal["kids", "youth", "adult", "research"] = Field(
        "kids",
        description="how strictly prompts are checked; never set by a client "
        "(a class may set a stricter level)",
    )
    model_safety: str = Field("llama3.2", min_length=1, description="LLM for safety verdicts")
    vision_check_levels: tuple[Literal["kids", "youth", "adult", "research"], ...] = Field(
        ("kids", "youth"),
        max_length=4,
        description="levels at which a vision model looks at each finished picture before it "
        "is shown (fail-closed); their previews are only sent as a coarse mosaic",
    )
    model_vision: str = Field(
        "qwen2.5vl:3b", min_length=1, description="vision-capable LLM for the picture check"
    )
    vision_max_image_bytes: int = Field(
        16 * 1024**2,
        ge=1024,
        le=256 * 1024**2,
        description="largest picture sent to the vision check; a larger one is blocked",
    )
    model_interception: str = Field(
        "llama3.2", min_length=1, description="LLM for prompt interception (stage 2)"
    )
    model_translation: str = Field(
        "llama3.2", min_length=1, description="LLM for translation to English (stage 3)"
    )
    llm_stage_timeout: float = Field(
        300.0, gt=0, le=3600, description="longest one LLM step may take once it has a slot"
    )
    screen_tail_chars: int = Field(
        40,
        ge=8,
        le=400,
        description="stage-2 text held back to the next word boundary before the word check "
        "shows it; a longer word is checked as it stands and shown",
    )
    screen_hold_ms: int = Field(
        100,
        ge=10,
        le=2000,
        description="milliseconds a held word waits for more text before it is checked as it "
        "stands and shown",
    )
    generation_timeout: float = Field(
        600.0, gt=0, le=7200, description="longest an image render may take once it has a slot"
    )
    workflows_dir: Path = Field(
        PROJECT_ROOT / "workflows", description="interception/output configs, graphs, word lists"
    )
    retention_hours: float = Field(
        72.0, ge=0, le=24 * 365, description="delete runs older than this (0: keep all)"
    )
    held_media_bytes: int = Field(
        DEFAULT_HELD_BYTES,
        ge=0,
        le=16 * 1024**3,
        description="bytes of pictures kept in memory when the disk refuses them (full, "
        "read-only), oldest out first; a picture larger than this fails its run",
    )
    held_media_minutes: float = Field(
        DEFAULT_HELD_SECONDS / 60,
        gt=0,
        le=24 * 60,
        description="minutes such a picture stays in memory to be delivered and downloaded",
    )
