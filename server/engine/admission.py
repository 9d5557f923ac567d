"""Turning a `run.start` into a run's checked inputs, or a clear error, and what a student's
class rules make of a run (its perspectives, its safety level). Pure.

An edited meta-prompt belongs to this run's inputs only; the shared config is never touched
(before, an edit leaked into a cached config and so into other students' runs). A class only
ever narrows: fewer perspectives, a stricter safety level (`people.identity`).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection

from server.engine.catalog import Catalog, SafetyLevel
from server.engine.errors import AtelierError
from server.engine.people.identity import SAFETY_ORDER, ClassRules, stricter_level
from server.engine.run import RunInputs
from server.engine.safety_normalize import TextTooLong, normalize
from server.engine.uploads.admit import rendered_output
from server.engine.workflows.catalog import Workflow
from server.engine.workflows.mapping import SEED_MAX, ParamSpec
from server.protocol import ErrorCode, RunStart


class InvalidRun(AtelierError):
    code = ErrorCode.INVALID_FIELD


class UnknownConfig(AtelierError):
    code = ErrorCode.UNKNOWN_CONFIG


class EditNotAllowed(AtelierError):
    code = ErrorCode.EDIT_NOT_ALLOWED


def admit_inputs(
    message: RunStart,
    catalog: Catalog,
    workflows: dict[str, Workflow],
    *,
    max_prompt_chars: int,
    max_meta_prompt_chars: int,
    perspectives: Collection[str] | None = None,
    edit_instructions: bool = True,
) -> RunInputs:
    """The run's inputs; `perspectives`, when given, are the only interceptions allowed (the
    student's class's list), and without `edit_instructions` an edited meta-prompt is refused
    (the class's teacher turned editing off)."""
    prompt = message.prompt.strip()
    if not prompt:
        raise InvalidRun("prompt: the prompt is empty")
    if len(prompt) > max_prompt_chars:
        raise InvalidRun(f"prompt: longer than {max_prompt_chars} characters")
    _check_normalizable("prompt", prompt)
    config = catalog.interceptions.get(message.interception)
    if config is None:
        raise UnknownConfig(f"interception: no perspective called {message.interception!r}")
    if perspectives is not None and config.id not in perspectives:
        raise UnknownConfig(_NOT_IN_CLASS.get(message.lang) or _NOT_IN_CLASS["en"])
    output = message.output or config.output
    workflow = workflows.get(output)
    if workflow is None:
        raise UnknownConfig(f"output: no output config called {output!r}")
    output = rendered_output(workflows, output, message)  # a picture: its img2img variant
    workflow = workflows[output]
    meta_prompt, edited = config.meta_prompt, False
    if message.meta_prompt is not None and not config.is_unedited(message.meta_prompt):
        if not edit_instructions:
            raise EditNotAllowed(_NO_EDITING.get(message.lang) or _NO_EDITING["en"])
        if len(message.meta_prompt) > max_meta_prompt_chars:
            raise InvalidRun(f"meta_prompt: longer than {max_meta_prompt_chars} characters")
        _check_normalizable("meta_prompt", message.meta_prompt)
        meta_prompt, edited = message.meta_prompt, True
    parameters = workflow.config.parameters
    return RunInputs(
        prompt=prompt,
        interception=config.id,
        output=output,
        meta_prompt=meta_prompt,
        meta_prompt_edited=edited,
        seed=_seed(message.seed, parameters.get("seed")),
        width=_size("width", message.width, parameters.get("width")),
        height=_size("height", message.height, parameters.get("height")),
        lang=message.lang,
    )


#: What a student reads who picked a perspective their class does not use (their page may still
#: list it: the catalog is the server's).
_NOT_IN_CLASS = {
    "en": "Your class does not use this perspective. Please choose another one.",
    "de": "Deine Klasse nutzt diese Perspektive nicht. Bitte wähle eine andere.",
}


#: What a student reads whose class does not let them edit a perspective's instructions.
_NO_EDITING = {
    "en": "In your class, the instructions of a perspective stay as they are. Please start "
    "again without changing them.",
    "de": "In deiner Klasse bleibt die Anleitung einer Perspektive, wie sie ist. Bitte starte "
    "noch einmal, ohne sie zu ändern.",
}


def run_safety_level(operator: SafetyLevel, rules: ClassRules | None) -> SafetyLevel:
    """The level a run is checked at: the operator's, or the class's when that is stricter."""
    chosen = None if rules is None else rules.safety_level
    mine = next(level for level in SAFETY_ORDER if level == operator)
    return SafetyLevel(stricter_level(mine, chosen))


def _check_normalizable(field: str, text: str) -> None:
    # Refused here, with the field named, rather than blocked later by the word check (which
    # would refuse it too: fail-closed), so the student learns what to change.
    try:
        normalize(text)
    except TextTooLong as exc:
        raise InvalidRun(f"{field}: {exc}") from None


def _seed(requested: int | None, spec: ParamSpec | None) -> int:
    low = int(spec.min) if spec and spec.min is not None else 0
    high = int(spec.max) if spec and spec.max is not None else SEED_MAX
    if requested is None:
        return low + secrets.randbelow(high - low + 1)
    if not low <= requested <= high:
        raise InvalidRun(f"seed: must be between {low} and {high}")
    return requested


def _size(name: str, requested: int | None, spec: ParamSpec | None) -> int | None:
    if requested is None or spec is None:
        return None  # the output config's default (or a graph without that parameter)
    low = spec.min if spec.min is not None else 16
    high = spec.max if spec.max is not None else 8192
    if not low <= requested <= high:
        raise InvalidRun(f"{name}: must be between {low:.0f} and {high:.0f}")
    return requested
