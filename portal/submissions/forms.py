"""The engine's domain errors and what a step's form is read with: the outcome of a POSTed
step, the app's outside collaborators (file store, scanner, key) and the form context the field
types read, store uploads and encrypt with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict

from portal import japanese
from portal.catalog.fields import FieldSpec
from portal.catalog.schema import Step
from portal.i18n import translate
from portal.security import new_token
from portal.submissions.models import Submission
from portal.uploads.models import Upload
from portal.uploads.scanners import Scanner
from portal.uploads.service import FileStore, UploadRejected, prepare_upload


class SubmissionError(Exception):
    """Base class of the engine's domain errors."""


class DraftNotEditable(SubmissionError):
    """The draft has left the initial state (submitted in another tab, say)."""


class IncompleteAnswers(SubmissionError):
    def __init__(self, step: Step) -> None:
        super().__init__(f"step {step.id!r} is incomplete")
        self.step = step


class DeclarationMissing(SubmissionError):
    pass


class TransitionRefused(SubmissionError):
    pass


class SignatureMissing(SubmissionError):
    """A procedure at identity level "signature" is submitted only with its signature."""


@dataclass
class StepOutcome:
    """What a POSTed step produced: the values to keep, raw input by field, errors by path."""

    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notice: str | None = None
    focus: str | None = None
    # Conditional questions that apply now but were not on the page that was posted (no
    # JavaScript): the page is shown again with them, nothing is saved (decision 0064).
    newly_asked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.newly_asked


@dataclass
class Services:
    """Outside collaborators of the engine, configured once per app."""

    files: FileStore
    scanner: Scanner
    my_number_key: bytes
    max_upload_bytes: int


@dataclass
class FormContext:
    """The FieldContext the field types use: the POST, the stored answers, and the services."""

    session: Session
    submission: Submission
    services: Services
    now: dt.datetime
    form: MultiDict = field(default_factory=MultiDict)
    files: MultiDict = field(default_factory=MultiDict)

    @property
    def previous(self) -> dict[str, Any]:
        return self.submission.answers

    def store_upload(
        self, field: FieldSpec, storage: FileStorage
    ) -> tuple[dict | None, str | None]:
        data = storage.read(self.services.max_upload_bytes + 1)
        try:
            prepared = prepare_upload(
                data,
                storage.filename or "",
                scanner=self.services.scanner,
                max_bytes=self.services.max_upload_bytes,
            )
        except UploadRejected as rejected:
            return None, translate(rejected.text, **rejected.values)
        upload = Upload(
            token=new_token(),
            submission_id=self.submission.id,
            field_name=field.name,
            filename=prepared.filename,
            content_type=prepared.content_type,
            size=prepared.size,
            sha256=prepared.sha256,
            storage_name=self.services.files.save(self.session, prepared),
            width=prepared.width,
            height=prepared.height,
            created_at=self.now,
        )
        self.session.add(upload)
        self.session.flush()
        return {"token": upload.token, "filename": upload.filename}, None

    def upload_info(self, token: str) -> dict | None:
        upload = self.session.scalar(
            select(Upload).where(Upload.token == token, Upload.submission_id == self.submission.id)
        )
        return {"token": upload.token, "filename": upload.filename} if upload else None

    def encrypt(self, plaintext: str) -> str:
        return japanese.encrypt_sensitive(plaintext, self.services.my_number_key)

    def decrypt(self, token: str) -> str:
        return japanese.decrypt_sensitive(token, self.services.my_number_key)
