"""The pipeline: admits runs, runs their four stages as one task each, ends every run once.

It is the RunService behind the socket. A run belongs to its session's person (identity key):
their class's rules narrow its perspectives, limits and safety level, and the scheduler counts
and orders it with every other run of that person, from any of their sessions. It is admitted
through the scheduler (refused at once when the person or the queue is full), answered with
`run.accepted`, then executed by its own task:
stage events, tokens, queue positions, progress, previews and outputs all go out as session
events. Cancel (client, session expiry, shutdown) cancels that task; the stage in progress
cleans up through its client's cancel path, the slot is released, and the run ends with
`run.done` `cancelled`. Every run ends with exactly one `run.done`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from server.engine.admission import admit_inputs, run_safety_level
from server.engine.compare import start_compare, start_runs
from server.engine.errors import AtelierError, BackendError
from server.engine.people.identity import ClassRules
from server.engine.picture_access import live_media
from server.engine.repeats import RecentStarts
from server.engine.run import Run, new_run_id
from server.engine.run_record import RecordedOwner
from server.engine.scheduler import QueueInfo, RunTicket
from server.engine.service import Unavailable
from server.engine.session import Session
from server.engine.stages import texts
from server.engine.stages.context import Blocked, Services, StageContext, StageResult
from server.engine.stages.generation import generation
from server.engine.stages.interception import interception
from server.engine.stages.translation import translation
from server.engine.uploads.screening import input_safety  # with the student's picture
from server.protocol import (
    CompareStart,
    ErrorCode,
    Queue,
    RunAccepted,
    RunCancel,
    RunEndCode,
    RunStart,
    RunStatus,
    StageName,
    StageStatus,
)

log = structlog.get_logger(__name__)

#: Finished runs a session keeps for snapshots (a resync after a long disconnect).
KEPT_FINISHED = 20


class UnknownRun(AtelierError):
    code = ErrorCode.UNKNOWN_RUN


@dataclass(frozen=True, slots=True)
class StageStep:
    name: StageName
    run: Callable[[StageContext], Awaitable[StageResult]]
    #: The stage sends its own `started` (generation: once it knows seed, size and LoRAs).
    announces_itself: bool = False


STAGES = (
    StageStep(StageName.SAFETY, input_safety),
    StageStep(StageName.INTERCEPTION, interception),
    StageStep(StageName.TRANSLATION, translation),
    StageStep(StageName.GENERATION, generation, announces_itself=True),
)


class Pipeline:
    """Made at start-up once its services are running, and published only then."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._runs: dict[str, dict[str, Run]] = {}  # session id -> run id -> run
        self._restarting = False  # set by `shutdown`: cancelled runs end `server_restarting`
        self.recent = RecentStarts()  # one click, one run: a repeated `ref` (`repeats`)

    # -- sessions

    def adopt(self, session: Session) -> None:
        """Called for each new session: snapshots for resync, cancel on close."""
        self._runs[session.id] = {}
        session.snapshot = lambda: [
            run.snapshot() for run in self._runs.get(session.id, {}).values()
        ]
        session.on_close(self._session_closed)

    async def _session_closed(self, session: Session) -> None:
        runs = self._runs.pop(session.id, {})
        self.recent.forget(session)
        await self._cancel_and_wait([self._tasks[r] for r in runs if r in self._tasks])

    async def close(self) -> None:
        """Shutdown: cancel every run and wait until each has ended."""
        await self._cancel_and_wait(list(self._tasks.values()))

    async def shutdown(self) -> set[str]:
        """SIGTERM, while the sockets are still open: end every unfinished run with
        `server_restarting` and wait until each has sent its `run.done`. Returns the ids of the
        sessions that had such a run (their sockets should drain before they close)."""
        self._restarting = True
        sessions = {sid for sid, runs in self._runs.items() if any(r in self._tasks for r in runs)}
        await self._cancel_and_wait(list(self._tasks.values()))
        return sessions

    @staticmethod
    async def _cancel_and_wait(tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- RunService

    def start(self, session: Session, message: RunStart) -> None:
        start_runs(self, session, [message])  # checked, admitted, then started: `compare`

    def compare(self, session: Session, message: CompareStart) -> None:
        start_compare(self, session, message)

    def prepare(
        self, session: Session, message: RunStart, group: str | None = None
    ) -> tuple[Run, ClassRules | None]:
        """A checked run, not admitted yet (a compare checks all its runs first: `compare`)."""
        if self._restarting:  # its socket is about to close: nothing would deliver the run
            raise Unavailable("the server is restarting; try again in a minute")
        services = self.services
        rules = services.lessons.admit(session.identity)  # lesson ended? the current rules
        inputs = admit_inputs(
            message,
            services.catalog,
            services.workflows,
            max_prompt_chars=services.config.max_prompt_chars,
            max_meta_prompt_chars=services.config.max_meta_prompt_chars,
            perspectives=None if rules is None else rules.perspectives,
            edit_instructions=rules is None or rules.edit_instructions is not False,
        )
        level = run_safety_level(services.config.safety_level, rules)
        image = services.uploads.for_run(session.identity.key, message.image, message.lang)
        return Run(new_run_id(), session, inputs, level, group, input_image=image), rules

    def launch(self, session: Session, run: Run, ticket: RunTicket, ref: str | None) -> None:
        """An admitted run: answered with `run.accepted`, then executed by its own task."""
        self._runs.setdefault(session.id, {})[run.id] = run
        self.services.classes.run_started(run)  # a class member's run: its teacher may watch
        inputs = run.inputs
        run.emit(RunAccepted, ref=ref, **run.accepted())
        self.recent.record(session, run, ref)
        task = asyncio.create_task(self._execute(run, ticket, session), name=f"run {run.id}")
        self._tasks[run.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run.id, None))
        self.services.lessons.track(run, task)  # its teacher may cancel it, or end the lesson
        self.services.uploads.claim(run, task)  # its picture: its own, settled when it ends
        log.info("run_accepted", session=session.id, run=run.id, interception=inputs.interception)

    def cancel(self, session: Session, message: RunCancel) -> None:
        if message.run not in self._runs.get(session.id, {}):
            raise UnknownRun(f"this session has no run {message.run!r}")
        task = self._tasks.get(message.run)
        if task is not None:
            task.cancel()

    @property
    def active_runs(self) -> int:
        return len(self._tasks)

    # -- one run

    @staticmethod
    def queue_reporter(run: Run) -> Callable[[QueueInfo], None]:
        def report(info: QueueInfo) -> None:
            stage = StageName(info.stage) if info.stage else None
            run.emit(
                Queue,
                stage=stage,
                position=info.position,
                length=info.queue_length,
                eta=info.eta_seconds,
                paused=info.paused,
                run_eta=info.run_eta,
            )

        return report

    async def _execute(self, run: Run, ticket: RunTicket, session: Session) -> None:
        crash: Exception | None = None
        owner = RecordedOwner.of(session.identity)
        self.services.records.begin(run.id, live_media(run, owner))
        try:
            await self._settle(run, ticket, session)
        except Exception as exc:  # a bug: the student reads a plain sentence, the log has it
            crash = exc
            run.error = f"internal: {exc!r}"
            run.finish(
                RunStatus.FAILED,
                reason=texts.text("internal", run.inputs.lang),
                code=RunEndCode.INTERNAL,
            )
        finally:
            if run.finished:
                log_run_done(run, crash)
            self._forget_finished(run)
            try:
                await self._write_record(run, owner)  # before run.done: a client may fetch it then
            finally:
                run.announce_done()

    async def _settle(self, run: Run, ticket: RunTicket, session: Session) -> None:
        """Run the stages and settle the outcome; only a bug escapes."""
        lang = run.inputs.lang
        try:
            async with ticket:
                await ticket.started()
                run.move(RunStatus.RUNNING)
                for step in STAGES:
                    await self._stage(StageContext(run, session, ticket, self.services), step)
            run.finish(RunStatus.COMPLETED)
        except Blocked as exc:
            run.finish(RunStatus.BLOCKED, reason=exc.reason, code=RunEndCode.BLOCKED)
        except asyncio.CancelledError:
            if self._restarting:  # not the student's doing: a failure they can retry
                reason = texts.text("server_restarting", lang)
                run.error = "the server shut down"
                run.finish(RunStatus.FAILED, reason=reason, code=RunEndCode.SERVER_RESTARTING)
            else:
                reason = texts.text(self.services.lessons.why_cancelled(run.id), lang)
                run.finish(RunStatus.CANCELLED, reason=reason, code=RunEndCode.CANCELLED)
        except BackendError as exc:
            run.error = str(exc)
            reason = texts.backend_failure(run.stage, exc, lang)
            run.finish(RunStatus.FAILED, reason=reason, code=exc.code)

    async def _stage(self, ctx: StageContext, step: StageStep) -> None:
        run = ctx.run
        if not step.announces_itself:
            run.stage_event(step.name, StageStatus.STARTED)
        started = time.monotonic()
        try:
            result = await step.run(ctx)
        except Blocked as exc:
            self._ended(
                run, step.name, started, StageStatus.BLOCKED, reason=exc.reason, detail=exc.detail
            )
            raise
        except BackendError as exc:
            reason = texts.backend_failure(step.name, exc, run.inputs.lang)
            self._ended(
                run,
                step.name,
                started,
                StageStatus.FAILED,
                reason=reason,
                detail={"code": exc.code},
            )
            raise
        if result.text is not None:
            run.texts[step.name] = result.text
        self._ended(run, step.name, started, result.status, text=result.text, detail=result.detail)

    @staticmethod
    def _ended(
        run: Run, stage: StageName, started: float, status: StageStatus, **fields: object
    ) -> None:
        elapsed = round(time.monotonic() - started, 3)
        run.timings[stage] = elapsed
        run.stage_event(stage, status, elapsed=elapsed, **fields)

    def _forget_finished(self, run: Run) -> None:
        runs = self._runs.get(run.session.id)
        if runs is None:
            return
        finished = [r for r in runs.values() if r.finished]
        for old in finished[: max(0, len(finished) - KEPT_FINISHED)]:
            del runs[old.id]

    async def _write_record(self, run: Run, owner: RecordedOwner) -> None:
        """The record and, if the run made pictures, its row in its owner's gallery."""
        await self.services.records.finish(run.id, run.record().with_owner(owner))


def log_run_done(run: Run, crash: Exception | None = None) -> None:
    """The one log line of a run's end: info; warning with the technical error when it failed;
    error with the traceback when a bug ended it."""
    if run.status is not RunStatus.FAILED:
        log.info("run_done", **run.outcome())
        return
    level = log.warning if crash is None else log.error
    level("run_done", error=run.error, exc_info=crash, **run.outcome())
