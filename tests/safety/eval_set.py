"""The evaluation set as typed cases: loaded from eval_set.jsonl for the suite and the bench.

One case per line: the text, its language, category, the trick that disguises it ("none" for
a plain prompt), the plain text it came from, the listed word it hides, and the verdict
expected at each level ("block" or "allow"). `known_limit` names, for an unsafe case the
word layer cannot catch, why; docs/safety.md lists the same cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from server.engine.catalog import SafetyLevel

PATH = Path(__file__).with_name("eval_set.jsonl")
BLOCK = "block"
ALLOW = "allow"


@dataclass(frozen=True)
class Case:
    """One prompt of the set and what each level must decide about it."""

    id: str
    text: str
    lang: str
    category: str
    trick: str
    base: str
    word: str
    expect: dict[str, str]
    promised: bool
    #: Written after the lists were tuned against the rest of the set (bench: "held out").
    held_out: bool
    known_limit: str | None

    def blocks_at(self, level: SafetyLevel) -> bool:
        """Whether the level must block this prompt."""
        return self.expect[level.value] == BLOCK

    @property
    def unsafe(self) -> bool:
        """Unsafe for someone: blocked at the strictest level."""
        return self.blocks_at(SafetyLevel.KIDS)


def load(path: Path = PATH) -> list[Case]:
    """Every case of the set, in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Case(**json.loads(line)) for line in lines if line.strip()]
