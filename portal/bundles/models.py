"""Bundles: one-stop filing of a life event (docs/decisions/0032-bundles.md).

A bundle groups the drafts of the procedures a resident chose from a life event's checklist. It
keeps the screening answers and the shared answers (asked once), the life event as it was when
the bundle started (`definition`, as a submission keeps its procedure's snapshot), and, once
submitted, one bundle reference. Its member submissions point at it (`submissions.bundle_id`);
an appointment made for the bundle does too (`appointments.bundle_id`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

DRAFT = "draft"
SUBMITTED = "submitted"


class Bundle(Base):
    __tablename__ = "bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    life_event: Mapped[str] = mapped_column(String(64))
    owner_sub: Mapped[str] = mapped_column(String(64), index=True)
    applicant_person_id: Mapped[str | None] = mapped_column(String(64), default=None)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # the LifeEvent, dumped
    procedures: Mapped[list[str]] = mapped_column(JSON)  # chosen procedure ids, in order
    screening: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shared: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shared_prefilled: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    shared_done: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True, default=None)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
