"""The memory of accepted starts (`server/engine/repeats.py`): per session, bounded, and only
what was accepted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from server.engine.repeats import MAX_REMEMBERED_STARTS, RecentStarts
from server.engine.run import Run
from server.engine.session import Session


@dataclass
class FakeSession:
    id: str
    sent: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, message_type: type, **fields: Any) -> int:
        self.sent.append(fields)
        return len(self.sent)


@dataclass
class FakeInputs:
    interception: str = "bauhaus"
    output: str = "sd35"


@dataclass
class FakeRun:
    id: str
    group: str | None = None
    inputs: FakeInputs = field(default_factory=FakeInputs)

    def accepted(self) -> dict[str, Any]:  # as `Run.accepted`: what `run.accepted` says
        inputs = self.inputs
        return {
            "interception": inputs.interception,
            "output": inputs.output,
            "group": self.group,
            "input": None,
        }


def session(name: str) -> tuple[FakeSession, Session]:
    fake = FakeSession(name)
    return fake, cast(Session, fake)


def run(name: str) -> Run:
    return cast(Run, FakeRun(name))


def test_a_remembered_ref_is_answered_again_and_a_new_one_is_not() -> None:
    recent = RecentStarts()
    fake, one = session("s-1")
    recent.record(one, run("r-1"), "c-1")
    assert not recent.repeat(one, "c-2")
    assert not recent.repeat(one, None)
    assert recent.repeat(one, "c-1")
    assert fake.sent == [
        {
            "run": "r-1",
            "ref": "c-1",
            "group": None,
            "interception": "bauhaus",
            "output": "sd35",
            "input": None,
        }
    ]


def test_refs_are_per_session_and_forgotten_with_it() -> None:
    recent = RecentStarts()
    _, one = session("s-1")
    _, other = session("s-2")
    recent.record(one, run("r-1"), "c-1")
    assert not recent.repeat(other, "c-1")  # another student's click id is not this one's
    recent.forget(one)
    assert not recent.repeat(one, "c-1")


def test_the_oldest_ref_goes_past_the_bound() -> None:
    recent = RecentStarts()
    _, one = session("s-1")
    for n in range(MAX_REMEMBERED_STARTS + 1):
        recent.record(one, run(f"r-{n}"), f"c-{n}")
    assert not recent.repeat(one, "c-0")
    assert recent.repeat(one, "c-1")
    assert recent.repeat(one, f"c-{MAX_REMEMBERED_STARTS}")


def test_a_start_without_ref_is_not_remembered() -> None:
    recent = RecentStarts()
    fake, one = session("s-1")
    recent.record(one, run("r-1"), None)
    assert not recent.repeat(one, None)
    assert fake.sent == []
