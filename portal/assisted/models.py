"""The helpers the city registered and the assisted sessions residents consented to.

A helper row holds what the city checked at registration (the name and birth date on the
helper's own card, their organisation and validity); a session row holds the consent: who
helped whom (the resident's card login `sub`), for what, from when until when, and its end.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class AssistHelper(Base):
    """A person a staff administrator registered as a helper for a validity period."""

    __tablename__ = "assist_helpers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))  # as on the helper's card
    birth_date: Mapped[dt.date]
    organisation: Mapped[str] = mapped_column(String(100))  # e.g. デジタル推進委員
    valid_from: Mapped[dt.date]
    valid_until: Mapped[dt.date]  # the last day a session can start
    registered_at: Mapped[dt.datetime]
    registered_by: Mapped[str] = mapped_column(String(64))  # "staff:<id>"
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(64), default=None)


class AssistSession(Base):
    """One resident's consent to one helper, for one procedure or life event, until a time."""

    __tablename__ = "assist_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    helper_id: Mapped[int] = mapped_column(ForeignKey("assist_helpers.id"), index=True)
    resident_sub: Mapped[str] = mapped_column(String(64), index=True)
    scope_kind: Mapped[str] = mapped_column(String(16))  # "procedure" or "life_event"
    scope_id: Mapped[str] = mapped_column(String(64))
    scope_title: Mapped[str] = mapped_column(String(200))
    consented_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # "resident" (ended or revoked by the resident), "helper", "helper_revoked" (staff)
    end_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    # What the session's browser opened that holds the resident's data, and the status links
    # of what was filed in it: SHA-256 hex digests of paths (never the paths: a status link is a
    # secret). After the end, each answers 404 to the helper (portal.assisted.mode).
    touched: Mapped[list[str]] = mapped_column(JSON, default=list)


class PracticeClass(Base):
    """A スマホ教室's practice, run by a helper: the participants' browsers join it with its
    link; what they type is deleted when a run completes and when the class ends. The row keeps
    no participant's data: who ran it, when, and how many runs completed."""

    __tablename__ = "practice_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    helper_id: Mapped[int] = mapped_column(ForeignKey("assist_helpers.id"), index=True)
    started_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]  # the end of the day at the latest
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    runs: Mapped[int] = mapped_column(default=0)  # practice runs completed
