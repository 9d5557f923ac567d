"""Where uploads live between `POST /api/uploads` and the end of the run that used them.

One file per upload, `<data_dir>/uploads/<id>.png` (the cleaned PNG, written whole or not at
all: `media.write_file`), and an index in memory: whose it is, how large, since when, and which
run claimed it. The index does not survive a restart, so start-up deletes every file left in
the folder: an upload nobody can claim any more must not stay on disk.

An upload's life: reserved (counted before its body is read, so the bounds refuse early),
pending (cleaned and stored, waiting for a `run.start`), claimed by one run (`claim`: at
admission, no await between the check and the mark, so two starts cannot both take it), then
settled when that run's task ends: a completed run keeps it in its own folder as `input.png`,
where it follows the run's retention and deletion; a cancelled, failed or blocked run deletes
it. A pending upload no run claims within `abandon_seconds` is deleted by the sweeper; the
student's DELETE removes it at any point (a run that holds it keeps its bytes in memory).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import structlog

from server.engine.media import write_file
from server.engine.people.identity import Identity
from server.engine.run import Run
from server.engine.run_record import RecordedOwner
from server.engine.uploads import InputImage, files
from server.engine.uploads.admit import unknown_upload
from server.engine.uploads.bounds import DEFAULT_BOUNDS, UploadBounds
from server.engine.uploads.clean import Cleaned, clean
from server.engine.uploads.limits import Upload, UploadLimit, UploadLimits
from server.protocol import RunStatus

log = structlog.get_logger(__name__)

# `\Z`, not `$` (a final newline must not pass).
UPLOAD_ID = re.compile(r"^u-[A-Za-z0-9_-]{16}\Z")
#: A completed run's input, in its folder beside its pictures.
INPUT_NAME = "input.png"
#: Completed runs' inputs the index still answers `GET /api/uploads/{id}` for (oldest out;
#: the file stays with its run).
MAX_KEPT = 4096


class UploadStore:
    """The index and the files; `root` None: a pipeline without uploads (every id unknown)."""

    def __init__(
        self,
        root: Path | None,
        bounds: UploadBounds = DEFAULT_BOUNDS,
        *,
        run_dir: Callable[[str], Path] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root, self.bounds, self._run_dir, self._clock = root, bounds, run_dir, clock
        self._uploads: dict[str, Upload] = {}  # reserved, pending and claimed
        self._kept: OrderedDict[str, Upload] = OrderedDict()
        self._limits = UploadLimits(bounds)
        self._decodes = asyncio.Semaphore(bounds.decodes)
        self._settling: set[asyncio.Task[None]] = set()

    @property
    def held(self) -> int:
        """Uploads being read, pending or claimed (kept inputs are their runs')."""
        return len(self._uploads)

    # -- reserving and adding

    def reserve(self, identity: Identity, group: str | None = None) -> Upload:
        """A place for one upload of this person, counted from now; raises UploadLimit.
        `group`: whom a guest counts with (their address, `per_address.fair_group`)."""
        if self.root is None:
            raise UploadLimit("server")
        now, group = self._clock(), group or identity.key
        self._limits.check(self._uploads.values(), identity.key, group, now)
        upload_id = "u-" + secrets.token_urlsafe(12)
        path = self.root / f"{upload_id}.png"
        upload = Upload(upload_id, RecordedOwner.of(identity), path, group, created=now)
        self._uploads[upload_id] = upload
        return upload

    def unreserve(self, upload: Upload) -> None:
        """A reservation whose body never became a picture (too large, refused, dropped)."""
        if self._uploads.get(upload.id) is upload and not upload.width:
            del self._uploads[upload.id]

    async def add(self, upload: Upload, data: bytes) -> Upload:
        """Clean and store a reserved upload's bytes (in a worker thread, at most `decodes`
        at once); raises UploadRefused. On any failure the caller `unreserve`s."""
        await self._decodes.acquire()
        work = asyncio.ensure_future(asyncio.to_thread(self._clean_and_write, upload.path, data))
        work.add_done_callback(lambda _: self._decodes.release())  # held until the thread ends
        try:
            cleaned = await asyncio.shield(work)
        except asyncio.CancelledError:  # the thread writes on: its file must go too
            work.add_done_callback(lambda _: files.unlink(upload.path))
            raise
        if self._uploads.get(upload.id) is not upload:  # the store shut down meanwhile
            await asyncio.to_thread(files.unlink, upload.path)
            raise UploadLimit("server")
        upload.width, upload.height = cleaned.width, cleaned.height
        upload.created = self._clock()
        log.info("upload_stored", upload=upload.id, width=cleaned.width, height=cleaned.height)
        return upload

    def _clean_and_write(self, path: Path, data: bytes) -> Cleaned:
        cleaned = clean(data, self.bounds.image())
        write_file(path, cleaned.data)
        return cleaned

    # -- reading

    def get(self, upload_id: str) -> Upload | None:
        """A stored upload (pending, claimed or kept) by id; whose it is, the caller checks."""
        upload = self._uploads.get(upload_id) or self._kept.get(upload_id)
        return upload if upload is not None and upload.width else None

    def peek(self, owner_key: str, upload_id: str | None) -> InputImage | None:
        """The person's pending upload as a run's input (not claimed yet: `claim` does that
        when the run is admitted); None when it is not theirs, used, or gone."""
        upload = self._uploads.get(upload_id or "")
        if upload is None or not upload.width or upload.run is not None:
            return None
        if upload.owner.key != owner_key:
            return None
        try:  # small (bounded by output_side) and just written: from the page cache
            data = upload.path.read_bytes()
        except OSError:
            return None
        return InputImage(upload.id, data, upload.width, upload.height)

    # -- a run's upload

    def for_run(self, owner_key: str, upload_id: str | None, lang: str) -> InputImage | None:
        """A `run.start`'s `image` as its input; None without one, UnknownUpload when the
        id is not this person's pending upload (the same answer for every reason)."""
        if upload_id is None:
            return None
        image = self.peek(owner_key, upload_id)
        if image is None:
            raise unknown_upload(lang)
        return image

    def claim(self, run: Run, task: asyncio.Task[None]) -> None:
        """The admitted run's upload is its own from now on, and is settled when it ends."""
        image = run.input_image
        upload = None if image is None else self._uploads.get(image.id)
        if upload is None:
            return
        upload.run = run.id
        task.add_done_callback(lambda _: self._settle_soon(run, upload))

    def _settle_soon(self, run: Run, upload: Upload) -> None:
        task = asyncio.get_running_loop().create_task(self._settle(run, upload))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, run: Run, upload: Upload) -> None:
        if self._uploads.get(upload.id) is not upload:
            return  # deleted by its student while the run went on
        del self._uploads[upload.id]
        folder = self._run_dir(run.id) if self._run_dir is not None else None
        if run.status is RunStatus.COMPLETED and folder is not None:
            kept = await asyncio.to_thread(files.move_into, upload.path, folder / INPUT_NAME)
            if kept:
                upload.path, upload.kept = folder / INPUT_NAME, True
                self._keep(upload)
                return
        await asyncio.to_thread(files.unlink, upload.path)

    def _keep(self, upload: Upload) -> None:
        self._kept[upload.id] = upload
        while len(self._kept) > MAX_KEPT:
            self._kept.popitem(last=False)

    async def settled(self) -> None:
        """Wait until every ended run's upload is settled (tests, shutdown)."""
        while self._settling:
            await asyncio.gather(*list(self._settling), return_exceptions=True)

    # -- deleting

    async def delete(self, owner_key: str, upload_id: str) -> bool:
        """The person's own upload, wherever it is; False when it is not theirs or gone."""
        upload = self.get(upload_id)
        if upload is None or upload.owner.key != owner_key:
            return False
        self._uploads.pop(upload_id, None)
        self._kept.pop(upload_id, None)
        await asyncio.to_thread(files.unlink, upload.path)
        return True

    async def sweep(self) -> int:
        """Delete pending uploads older than `abandon_seconds`; returns how many went."""
        cutoff = self._clock() - self.bounds.abandon_seconds
        old = [u for u in self._uploads.values() if u.width and u.run is None]
        old = [u for u in old if u.created < cutoff]
        for upload in old:
            del self._uploads[upload.id]
            await asyncio.to_thread(files.unlink, upload.path)
        if old:
            log.info("uploads_abandoned", count=len(old))
        return len(old)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start-up's leftovers deleted, the sweeper running; on leaving, every pending
        upload deleted (the index goes with the process)."""
        if self.root is not None:
            await asyncio.to_thread(files.emptied, self.root)
        sweeper = asyncio.create_task(self._sweep_forever(), name="upload sweeper")
        try:
            yield
        finally:
            sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await sweeper
            await self.settled()
            pending = [u.path for u in self._uploads.values()]
            self._uploads.clear()
            await asyncio.to_thread(files.unlink_all, pending)

    async def _sweep_forever(self) -> None:
        interval = min(60.0, self.bounds.abandon_seconds / 2)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except OSError as exc:  # the next round tries again; the sweeper must not die
                log.error("uploads_sweep_failed", error=str(exc))
