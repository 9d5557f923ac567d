"""Streamed stage text through the word screen (`server.engine.stream_screen`) to the client.

The screen decides what may be shown; this adds the clock and the consequences. A held tail
is flushed (still checked) once no new text came for `screen_hold_ms`, so a slow model's last
word is not held indefinitely. On a hit the shown text is withdrawn (`clear`), the entry goes
to the run's record for the teacher, and `Blocked` is raised from inside the stream, which
leaves the upstream `async with` and so closes the LLM's response.
"""

from __future__ import annotations

import asyncio

import structlog

from server.engine.llm import ChatRequest
from server.engine.stages import texts
from server.engine.stages.completion import stream_llm
from server.engine.stages.context import Blocked, StageContext
from server.engine.stream_screen import Screened, StreamScreen, overlap_for, phrase_starts
from server.protocol import StageName

log = structlog.get_logger(__name__)

#: How early the quiet clock may fire and still count as due (the loop's timers have
#: millisecond resolution under uvloop).
TIMER_SLACK = 0.001


async def stream_screened(ctx: StageContext, stage: StageName, request: ChatRequest) -> str:
    """Stream `stage`'s answer to the client through the screen; the whole, checked answer."""
    screened = ScreenedText(ctx, stage)
    try:
        streamed = await stream_llm(ctx, stage, request, screened.text, screened.restart)
        return screened.finish(streamed)
    finally:
        screened.close()


class ScreenedText:
    """One stage's streamed text: `text` per piece, `restart` on a retry, `finish` at the end,
    `close` always (it stops the clock)."""

    def __init__(self, ctx: StageContext, stage: StageName) -> None:
        words = ctx.services.catalog.word_lists[ctx.run.safety_level]
        config = ctx.config
        self._ctx, self._stage = ctx, stage
        self._screen = StreamScreen(
            words.find, config.screen_tail_chars, overlap_for(words), phrase_starts(words)
        )
        self._hold = config.screen_hold_ms / 1000
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        #: When the held tail may be flushed: `screen_hold_ms` after the latest piece. One
        #: timer, re-armed when it fires early, instead of a new one per token.
        self._quiet_at = 0.0

    def text(self, piece: str) -> None:
        self._apply(self._screen.feed(piece))
        self._arm()

    def restart(self) -> None:
        self._stop_clock()
        self._screen.reset()

    def finish(self, final: str) -> str:
        """Check the whole answer once and release the rest; the stage's text."""
        self._stop_clock()
        self._apply(self._screen.finish(final))
        return final

    def close(self) -> None:
        self._stop_clock()

    def _apply(self, step: Screened) -> None:
        if step.hit is not None:
            self._block(step.hit)
        if step.release:
            self._ctx.run.token(self._stage, step.release)

    def _block(self, hit: str) -> None:
        self._stop_clock()
        run = self._ctx.run
        run.token(self._stage, "", clear=True)  # withdraw everything shown of this answer
        fail_closed = hit == ""
        log.info("stream_screen_blocked", run=run.id, stage=self._stage, fail_closed=fail_closed)
        answer = "too costly to check" if fail_closed else f"listed entry {hit!r}"
        run.verdicts[self._stage] = {"safe": False, "answer": f"stream screen: {answer}"}
        lang = "de" if run.inputs.lang == "de" else "en"
        raise Blocked(texts.text("stream_blocked", lang), {"check": "words", "streamed": True})

    def _arm(self) -> None:
        self._quiet_at = self._loop.time() + self._hold
        if self._timer is None and self._screen.holding:
            self._timer = self._loop.call_at(self._quiet_at, self._quiet)

    def _quiet(self) -> None:
        self._timer = None
        if not self._screen.holding:
            return
        if self._loop.time() + TIMER_SLACK < self._quiet_at:  # a piece came since: not quiet
            self._timer = self._loop.call_at(self._quiet_at, self._quiet)
            return
        step = self._screen.flush()  # never a block: a held hit waits for the next piece
        if step.release:
            self._ctx.run.token(self._stage, step.release)

    def _stop_clock(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
