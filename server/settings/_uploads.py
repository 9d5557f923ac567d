"""Settings of students' uploads (image-to-image, `server/engine/uploads/`): how large a file
and a picture may be, how many one person may hold and send, how long an unused one stays."""

from __future__ import annotations

from pydantic import BaseModel, Field

from server.engine.uploads.bounds import DEFAULT_BOUNDS as D
from server.engine.uploads.bounds import UploadBounds


class UploadFields(BaseModel):
    """Bounds of `POST /api/uploads` and of the uploads the server holds."""

    max_upload_bytes: int = Field(
        D.max_bytes,
        ge=64 * 1024,
        le=64 * 1024**2,
        description="largest file one upload may send; a larger one is refused as it arrives",
    )
    max_upload_pixels: int = Field(
        D.max_pixels,
        ge=64 * 64,
        le=100_000_000,
        description="most pixels an uploaded picture may claim, checked before it is decoded",
    )
    max_upload_side: int = Field(
        D.max_side, ge=64, le=20_000, description="longest side an uploaded picture may claim"
    )
    upload_output_side: int = Field(
        D.output_side,
        ge=64,
        le=4096,
        description="longest side of the cleaned picture; a larger upload is shrunk to it",
    )
    max_uploads_per_person: int = Field(
        D.per_person,
        ge=1,
        le=100,
        description="uploads one person holds at once (not yet used, or used by a run in flight)",
    )
    uploads_per_minute: int = Field(
        D.per_minute, ge=1, le=600, description="uploads one person may send per minute"
    )
    max_uploads_per_address: int = Field(
        D.per_address,
        ge=1,
        le=100_000,
        description="uploads the guests of one client address hold at once, together "
        "(members and teachers count per person only)",
    )
    max_uploads_held: int = Field(
        D.held,
        ge=1,
        le=100_000,
        description="uploads the server holds at once, everyone's together",
    )
    max_uploads_receiving: int = Field(
        D.receiving,
        ge=1,
        le=10_000,
        description="uploads whose bodies are read at once, everyone's (each buffers up to "
        "max_upload_bytes)",
    )
    upload_decodes: int = Field(
        D.decodes,
        ge=1,
        le=64,
        description="uploads checked and re-encoded at once (each in a worker thread)",
    )
    upload_timeout: float = Field(
        D.timeout,
        gt=0,
        le=3600,
        description="seconds one upload's whole body may take to arrive (a slow school line)",
    )
    upload_abandon_minutes: float = Field(
        D.abandon_seconds / 60,
        gt=0,
        le=24 * 60,
        description="minutes an upload no run has used is kept; then it is deleted",
    )

    def upload_bounds(self) -> UploadBounds:
        """These settings as the upload store's bounds."""
        return UploadBounds(
            max_bytes=self.max_upload_bytes,
            max_pixels=self.max_upload_pixels,
            max_side=self.max_upload_side,
            output_side=self.upload_output_side,
            per_person=self.max_uploads_per_person,
            per_minute=self.uploads_per_minute,
            per_address=self.max_uploads_per_address,
            held=self.max_uploads_held,
            receiving=self.max_uploads_receiving,
            decodes=self.upload_decodes,
            timeout=self.upload_timeout,
            abandon_seconds=self.upload_abandon_minutes * 60,
        )
