"""Appointments at city-hall counters and the slots they take.

A slot row is one start time of one counter, with its capacity and how many visitors are booked
into it. Booking adds one to `booked` of each slot the appointment covers with a guarded UPDATE
(`booked < capacity`), and the table's CHECK constraint (`booked <= capacity`) backs it: no slot
can exceed its capacity whatever the concurrency, on SQLite and on PostgreSQL
(docs/decisions/0004-concurrency.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

BOOKED = "booked"
CANCELLED = "cancelled"
ARRIVED = "arrived"
SERVED = "served"
NO_SHOW = "no_show"


class AppointmentSlot(Base):
    __tablename__ = "appointment_slots"
    __table_args__ = (
        UniqueConstraint("counter_id", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[dt.datetime]
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)
    blocked: Mapped[bool] = mapped_column(default=False)  # staff blocked it


class Appointment(Base):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    counter_id: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(index=True)
    ends_at: Mapped[dt.datetime]
    # The ids of the slots it holds, so that cancelling gives back exactly these.
    slot_ids: Mapped[list[int]] = mapped_column(JSON)
    services: Mapped[list[str]] = mapped_column(JSON)  # service ids of the counter
    people: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default=BOOKED)
    owner_sub: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # Whose appointment it is for the per-resident limit: "sub:<login>" or "mail:<keyed hash>".
    holder_key: Mapped[str | None] = mapped_column(String(80), index=True, default=None)
    sequence: Mapped[int] = mapped_column(default=0)  # +1 on each reschedule (.ics SEQUENCE)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), default=None)
    bundle_id: Mapped[int | None] = mapped_column(
        ForeignKey("bundles.id"), index=True, default=None
    )
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The ticket's 8-character check-in code (typed at a kiosk), derived like the ticket token;
    # not unique (about 36 bits): a lookup prefers the day's appointment. None before 0027.
    checkin_code_hash: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    queue_number: Mapped[int | None] = mapped_column(default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class AppointmentHolder(Base):
    """One row per resident who books: the booking transaction updates it first, so that two
    bookings of one resident wait for each other and the per-resident limit is counted on
    committed data (the row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "appointment_holders"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    bookings: Mapped[int] = mapped_column(default=0)  # ever made; the lock is what matters


class CounterQueue(Base):
    """The last queue number given at a counter on a day (check-in takes the next one with a
    guarded increment, so two clerks never give out the same number)."""

    __tablename__ = "counter_queues"

    counter_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class AppointmentClosure(Base):
    """A period in which a counter (or every counter, when counter_id is None) takes no new
    appointments: a city closure, training, a system change. Set by staff."""

    __tablename__ = "appointment_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"), default=None)
    created_at: Mapped[dt.datetime]
