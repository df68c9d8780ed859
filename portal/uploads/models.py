"""Uploads: one row per file attached to a submission.

The file itself lives in the `FileStore` (portal.uploads.service, table `upload_blobs`) under
`storage_name`; the row says which submission and form field it belongs to and how to present
it. `token` is the random name by which forms and URLs refer to a file, so row ids and storage
names never leave the server.
The token is not an authorisation by itself: the serving view first decides that the requester
may see the submission, then looks the file up with `find_upload(session, submission.id, token)`,
which finds nothing for a token of another submission.

The query helpers live here rather than in service.py so that the file checks can be used (and
tested) without a database.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import ForeignKey, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base
from portal.security import new_token


class PreparedFile(Protocol):
    """What record_upload needs of a checked file (portal.uploads.service.PreparedFile)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    width: int | None
    height: int | None


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))  # for display only, never a path
    content_type: Mapped[str] = mapped_column(String(64))  # as sniffed and stored, not as sent
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(80))
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime]


class UploadBlob(Base):
    """A file's bytes, named by `Upload.storage_name` (portal.uploads.service.FileStore)."""

    __tablename__ = "upload_blobs"

    storage_name: Mapped[str] = mapped_column(String(80), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)


def record_upload(
    session: Session,
    submission_id: int,
    field_name: str,
    prepared: PreparedFile,
    storage_name: str,
    now: dt.datetime,
) -> Upload:
    """Add the row for a file already saved in the FileStore (flushes; the caller commits)."""
    upload = Upload(
        token=new_token(),
        submission_id=submission_id,
        field_name=field_name,
        filename=prepared.filename,
        content_type=prepared.content_type,
        size=prepared.size,
        sha256=prepared.sha256,
        storage_name=storage_name,
        width=prepared.width,
        height=prepared.height,
        created_at=now,
    )
    session.add(upload)
    session.flush()
    return upload


def find_upload(session: Session, submission_id: int, token: str) -> Upload | None:
    """The submission's file with this token, or None (also for another submission's token)."""
    return session.scalars(
        select(Upload).where(Upload.submission_id == submission_id, Upload.token == token)
    ).one_or_none()


def uploads_of(session: Session, submission_id: int, field_name: str | None = None) -> list[Upload]:
    """The submission's files (optionally of one form field), oldest first."""
    query = select(Upload).where(Upload.submission_id == submission_id)
    if field_name is not None:
        query = query.where(Upload.field_name == field_name)
    return list(session.scalars(query.order_by(Upload.id)))
