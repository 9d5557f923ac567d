"""The catalog: interception configs, safety word lists and stage prompts from `workflows/`.

Loaded once at start-up and never mutated afterwards: every model is frozen, and a run that
edits its meta-prompt gets its own copy (`InterceptionConfig.with_meta_prompt`), so one
student's edit can never leak into another's run. A broken file stops start-up with a
`CatalogError` naming the file and the field.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from server.engine.errors import AtelierError
from server.engine.safety_lists import WordListFileError, load_lists
from server.engine.safety_words import WordList
from server.engine.workflows.loras import LoraSpec

Lang = Literal["de", "en"]
#: What `{language}` becomes in a stage prompt.
LANGUAGE_NAMES: dict[Lang, str] = {"de": "German", "en": "English"}
#: Stage prompts the pipeline cannot run without (file stems under `workflows/prompts/`).
REQUIRED_PROMPTS = frozenset({"safety_input", "safety_output", "translate"})
#: Placeholders a stage prompt may use; anything else in braces is a typo.
PLACEHOLDERS = frozenset({"audience", "language"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class CatalogError(AtelierError):
    """A catalog file is missing or invalid; the message names the file and the field."""


class SafetyLevel(enum.StrEnum):
    """Who the workshop is for; set by the operator, never by a client."""

    KIDS = "kids"
    YOUTH = "youth"
    ADULT = "adult"
    RESEARCH = "research"

    @property
    def llm_checked(self) -> bool:
        """Whether stages 1 and 3 ask an LLM for a verdict at this level."""
        return self in (SafetyLevel.KIDS, SafetyLevel.YOUTH)


#: What `{audience}` becomes in a stage prompt.
AUDIENCES: dict[SafetyLevel, str] = {
    SafetyLevel.KIDS: "children aged 8 to 12 in a school art class",
    SafetyLevel.YOUTH: "teenagers aged 13 to 17 in a school art class",
    SafetyLevel.ADULT: "adults in an art workshop",
    SafetyLevel.RESEARCH: "adult researchers studying image generation",
}
#: Each level also blocks everything the levels listed here block.
INCLUDES: dict[SafetyLevel, tuple[SafetyLevel, ...]] = {
    SafetyLevel.KIDS: (SafetyLevel.YOUTH, SafetyLevel.ADULT),
    SafetyLevel.YOUTH: (SafetyLevel.ADULT,),
    SafetyLevel.ADULT: (),
    SafetyLevel.RESEARCH: (),
}

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(BaseModel):
    """A text in every UI language."""

    model_config = _FROZEN

    de: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)

    def get(self, lang: Lang) -> str:
        return self.de if lang == "de" else self.en


class LoraRef(BaseModel):
    """A LoRA that stage 4 chains into the output graph for this config."""

    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=200)
    strength_model: float = Field(default=1.0, ge=-4.0, le=4.0)
    strength_clip: float = Field(default=1.0, ge=-4.0, le=4.0)

    def spec(self) -> LoraSpec:
        return LoraSpec(self.name, self.strength_model, self.strength_clip)


class GenerationParams(BaseModel):
    """Sampling for stage 2; `model` overrides the server's interception model."""

    model_config = _FROZEN

    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=300, ge=1, le=4096)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    model: str | None = Field(default=None, min_length=1, max_length=200)


class InterceptionConfig(BaseModel):
    """One perspective a prompt can be re-imagined through (one `interception/*.json`)."""

    model_config = _FROZEN

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]{0,63}$")
    name: LocalizedText
    description: LocalizedText
    icon: str = Field(min_length=1, max_length=16)
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    meta_prompt: str = Field(max_length=8000)
    #: The same instructions in German, for the German page's editor (`instructions`).
    meta_prompt_de: str = Field(default="", max_length=8000)
    generation: GenerationParams = GenerationParams()
    loras: tuple[LoraRef, ...] = ()
    output: str = Field(min_length=1)
    order: int

    @field_validator("icon")
    @classmethod
    def _one_symbol(cls, value: str) -> str:
        if any(ch.isalnum() or ch.isspace() for ch in value):
            raise ValueError("must be a single emoji, without letters, digits or spaces")
        return value

    @property
    def passthrough(self) -> bool:
        """An empty meta-prompt: the prompt goes on unchanged and stage 2 is skipped."""
        return not self.meta_prompt.strip()

    def instructions(self, lang: Lang) -> str:
        """The instructions as the page in `lang` shows them, for a child to read and edit.

        A German child reads German; the model still gets the English `meta_prompt` (what the
        perspective was written and tried with) unless the child edits the text: then it gets
        the edit, in whatever language it is (`is_unedited`)."""
        return self.meta_prompt_de if lang == "de" and self.meta_prompt_de else self.meta_prompt

    def is_unedited(self, text: str) -> bool:
        """Whether `text` is these instructions as some page showed them, in any language."""
        return text in (self.meta_prompt, self.instructions("de"))

    def with_meta_prompt(self, meta_prompt: str) -> InterceptionConfig:
        """A copy for one run with a student's edited meta-prompt; the catalog is untouched."""
        return self.model_copy(update={"meta_prompt": meta_prompt})

    def lora_specs(self) -> tuple[LoraSpec, ...]:
        return tuple(lora.spec() for lora in self.loras)


@dataclass(frozen=True)
class Catalog:
    """Everything loaded from `workflows/` apart from the output configs."""

    interceptions: dict[str, InterceptionConfig]
    word_lists: dict[SafetyLevel, WordList]
    prompts: dict[str, str]

    def render_prompt(self, name: str, *, level: SafetyLevel, lang: Lang) -> str:
        """A stage prompt with `{audience}` and `{language}` filled in."""
        values = {"audience": AUDIENCES[level], "language": LANGUAGE_NAMES[lang]}
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.prompts[name])


def load_catalog(root: Path, output_ids: set[str]) -> Catalog:
    """Load and validate `root/interception`, `root/safety` and `root/prompts`."""
    return Catalog(
        interceptions=load_interceptions(root, output_ids),
        word_lists=load_word_lists(root),
        prompts=load_prompts(root),
    )


def _display(path: Path, root: Path) -> str:
    """The path as an operator would name it: relative to the directory holding `root`."""
    try:
        return path.relative_to(root.parent).as_posix()
    except ValueError:
        return path.as_posix()


def _read_text(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{shown}: file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{shown}: cannot read: {exc}") from None


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(file)"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)


def load_interceptions(root: Path, output_ids: set[str]) -> dict[str, InterceptionConfig]:
    """Every `root/interception/**/*.json`, keyed by id (ids match file names, are unique)."""
    folder = root / "interception"
    found: dict[str, InterceptionConfig] = {}
    sources: dict[str, str] = {}
    for path in sorted(folder.rglob("*.json")):
        shown = _display(path, root)
        config = _parse_interception(path, shown, output_ids)
        if config.id in found:
            raise CatalogError(
                f"{shown}: id: duplicate id {config.id!r} (also in {sources[config.id]})"
            )
        found[config.id] = config
        sources[config.id] = shown
    if not found:
        raise CatalogError(f"{_display(folder, root)}: no interception configs (*.json) found")
    return found


def _parse_interception(path: Path, shown: str, output_ids: set[str]) -> InterceptionConfig:
    try:
        raw: Any = orjson.loads(_read_text(path, shown))
    except orjson.JSONDecodeError as exc:
        raise CatalogError(f"{shown}: invalid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise CatalogError(f"{shown}: (file): expected a JSON object")
    try:
        config = InterceptionConfig.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(f"{shown}: {_validation_message(exc)}") from None
    if config.id != path.stem:
        raise CatalogError(f"{shown}: id: {config.id!r} does not match the file name {path.stem!r}")
    if config.output not in output_ids:
        known = ", ".join(sorted(output_ids)) or "none"
        raise CatalogError(
            f"{shown}: output: unknown output config {config.output!r} (known: {known})"
        )
    return config


def load_word_lists(root: Path) -> dict[SafetyLevel, WordList]:
    """`root/safety/<lang>/<level>.txt` (server/engine/safety_lists.py), stacked by level."""
    includes = {level.value: [other.value for other in INCLUDES[level]] for level in SafetyLevel}
    try:
        lists = load_lists(root / "safety", includes, lambda path: _display(path, root))
    except WordListFileError as exc:
        raise CatalogError(str(exc)) from None
    return {level: lists[level.value] for level in SafetyLevel}


def load_prompts(root: Path) -> dict[str, str]:
    """Every `root/prompts/*.md`, keyed by stem; the required ones must exist and be non-empty."""
    folder = root / "prompts"
    prompts: dict[str, str] = {}
    for name in sorted(REQUIRED_PROMPTS | {path.stem for path in folder.glob("*.md")}):
        path = folder / f"{name}.md"
        shown = _display(path, root)
        text = _read_text(path, shown).strip()
        if not text:
            raise CatalogError(f"{shown}: (file): is empty")
        unknown = sorted(set(_PLACEHOLDER.findall(text)) - PLACEHOLDERS)
        if unknown:
            raise CatalogError(
                f"{shown}: placeholder {{{unknown[0]}}}: unknown "
                f"(known: {', '.join(sorted(PLACEHOLDERS))})"
            )
        prompts[name] = text
    return prompts


def parse_lang(value: str | None, default: Lang = "de") -> Lang:
    """A `?lang=` query value as a UI language; anything unknown falls back to `default`."""
    if value == "de":
        return "de"
    if value == "en":
        return "en"
    return default
