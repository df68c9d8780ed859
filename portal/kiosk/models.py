"""The kiosk tables: registered terminals, their visits, the drafts a visit started, the
「続きはスマートフォンで」 hand-overs and the alerts staff must answer.

Nothing here holds personal data beyond what a hand-over needs to open for its owner only (the
card login's `sub`); the drafts themselves stay in `submissions`. Submission ids are plain
integers, not foreign keys: the retention purge deletes old drafts without knowing of kiosks,
and a kiosk row never keeps a draft alive.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class Kiosk(Base):
    """A terminal a staff administrator registered; its cookie holds a token whose hash is here."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    place: Mapped[str] = mapped_column(String(100))  # shown on every kiosk screen
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    registered_at: Mapped[dt.datetime]
    registered_by: Mapped[str] = mapped_column(String(64))  # "staff:<id>"
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # When the server last confirmed a visit's wipe (the next visitor is told).
    last_wiped_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Set when a wipe failed: the kiosk serves nobody until staff have it wiped again.
    out_of_service_since: Mapped[dt.datetime | None] = mapped_column(default=None)


class KioskVisit(Base):
    """One resident's use of a kiosk, from the start screen to 終了 or the idle reset."""

    __tablename__ = "kiosk_visits"
    __table_args__ = (Index("ix_kiosk_visits_open", "ended_at", "last_seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    started_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    end_reason: Mapped[str | None] = mapped_column(String(16), default=None)


class KioskVisitDraft(Base):
    """A draft started during a visit: deleted with the visit unless handed over."""

    __tablename__ = "kiosk_visit_drafts"
    __table_args__ = (UniqueConstraint("visit_id", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("kiosk_visits.id"), index=True)
    submission_id: Mapped[int] = mapped_column(index=True)


class KioskHandoff(Base):
    """「続きはスマートフォンで」: a one-time, short-lived code that opens one draft for the
    resident who started it at the kiosk, after their own card login elsewhere."""

    __tablename__ = "kiosk_handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    submission_id: Mapped[int] = mapped_column(index=True)
    owner_sub: Mapped[str] = mapped_column(String(64))
    place: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime]  # when the draft was started at the kiosk
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class KioskAlert(Base):
    """Something staff must see about a kiosk (a wipe that failed)."""

    __tablename__ = "kiosk_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(200))  # an error class, never personal data
    created_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)


class KioskCertificate(Base):
    """証明書を印刷する: a certificate a resident paid for at a kiosk (after their card login).
    Printable again the same day at any kiosk by the same card login, never paid twice."""

    __tablename__ = "kiosk_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # portal.kiosk.offers.OFFERS
    owner_sub: Mapped[str] = mapped_column(String(64), index=True)  # the card login's sub
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))  # where it was paid
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    day: Mapped[dt.date] = mapped_column(index=True)  # the day (Tokyo) it may be printed
    created_at: Mapped[dt.datetime]
    printed_count: Mapped[int] = mapped_column(default=0)
    last_printed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Collected at the counter instead (paper out, power cut): no kiosk prints it after this.
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    handed_over_by: Mapped[str | None] = mapped_column(String(64), default=None)  # "staff:<id>"
