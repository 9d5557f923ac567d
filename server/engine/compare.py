"""Compare runs: one prompt through 2-4 perspectives at once, shown side by side.

The lab this serves compares how perspectives re-imagine one idea. A `compare.start` becomes
one ordinary run per perspective, all carrying the same `group` id ("c-..."): each gets its
own `run.accepted` (with the `group`) and its normal event stream, record and pictures row.

All or none, in two steps with no await between them: every run is checked first
(`Pipeline.prepare`: the perspective through `admit_inputs` and the class's rules), so one
invalid perspective refuses the whole compare with one `error`; then the scheduler admits the
runs as ONE unit (`Scheduler.admit_group`: one place of the person's limits, one place in the
fair order; `scheduler/_compare.py`) or refuses them together. Only then does any run start.

The runs share one seed (the first run's, when the student gave none): the perspective is the
only thing that differs between the pictures.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from server.engine.errors import AtelierError
from server.engine.people.identity import ClassRules, lower_bound
from server.engine.scheduler import RunLimits
from server.engine.session import Session
from server.protocol import CompareStart, ErrorCode, RunStart

if TYPE_CHECKING:  # the pipeline is the RunService that calls in here
    from server.engine.pipeline import Pipeline
    from server.engine.run import Run

#: The most perspectives one compare may have (its runs start at once: a bound on one
#: student's burst); at least two make a comparison.
MAX_COMPARE = 4
MIN_COMPARE = 2


class InvalidCompare(AtelierError):
    code = ErrorCode.INVALID_FIELD


def new_group_id() -> str:
    """A compare's id: unguessable like a run id, and told apart from one by its prefix."""
    return "c-" + secrets.token_urlsafe(9)


def run_messages(message: CompareStart) -> list[RunStart]:
    """The compare as one `run.start` per perspective, or InvalidCompare (count, repeats)."""
    perspectives = message.perspectives
    if not MIN_COMPARE <= len(perspectives) <= MAX_COMPARE:
        raise InvalidCompare(
            f"perspectives: choose between {MIN_COMPARE} and {MAX_COMPARE} perspectives"
        )
    if len(set(perspectives)) != len(perspectives):
        raise InvalidCompare("perspectives: each perspective may be chosen once")
    return [
        RunStart(
            type="run.start",
            prompt=message.prompt,
            interception=perspective,
            output=message.output,
            seed=message.seed,
            lang=message.lang,
            ref=message.ref,
        )
        for perspective in perspectives
    ]


def start_compare(pipeline: Pipeline, session: Session, message: CompareStart) -> None:
    """`compare.start`: the compare's runs, checked, admitted and started all or none."""
    start_runs(pipeline, session, run_messages(message), new_group_id())


def start_runs(
    pipeline: Pipeline, session: Session, messages: list[RunStart], group: str | None = None
) -> None:
    """Check every run, admit them as one unit, then start each (`run.start` is a unit of
    one). Raises before anything started: the socket answers with one `error`."""
    if pipeline.recent.repeat(session, messages[0].ref):  # a double click: accepted before
        return
    runs: list[Run] = []
    rules = None
    for message in messages:
        if runs and message.seed is None:  # one seed for all: only the perspective differs
            message = message.model_copy(update={"seed": runs[0].inputs.seed})
        run, rules = pipeline.prepare(session, message, group)
        runs.append(run)
    tickets = pipeline.services.scheduler.admit_group(
        {run.id: pipeline.queue_reporter(run) for run in runs},
        session.run_owner,  # a cookie-less session: its address's (`per_address`)
        group=group,
        limits=class_limits(pipeline.services.scheduler.settings.limits, rules),
        class_id=session.identity.class_id,  # its teacher may pause it
        fair_group=session.fair_group,  # a guest: its address's place in the fair order
    )
    for run, ticket in zip(runs, tickets, strict=True):
        pipeline.launch(session, run, ticket, messages[0].ref)


def class_limits(operator: RunLimits, rules: ClassRules | None) -> RunLimits | None:
    """A class's lower run limits for its members; None: the operator's."""
    if rules is None:
        return None
    return RunLimits(
        lower_bound(operator.in_flight, rules.max_runs_in_flight),
        lower_bound(operator.queued, rules.max_queued_runs),
    )
