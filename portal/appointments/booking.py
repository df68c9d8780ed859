"""Booking and cancelling: the one place that changes how many visitors a slot holds.

`book` takes every slot an appointment needs in the caller's transaction: it makes sure each slot
row exists (INSERT ... ON CONFLICT DO NOTHING, so two first bookings of a slot cannot collide),
then adds one visitor to each with `UPDATE ... SET booked = booked + 1 WHERE booked < capacity
AND NOT blocked`. If any slot has no room the whole booking is refused with `SlotTaken` and the
caller rolls back; racing requests wait for each other's row locks (PostgreSQL) or for the write
lock (SQLite's BEGIN IMMEDIATE), and exactly as many succeed as there is room.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.appointments.models import BOOKED, CANCELLED, Appointment, AppointmentSlot
from portal.security import new_token, token_hash


class SlotTaken(Exception):
    """A slot the appointment needs has just been filled (or blocked by staff)."""


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(AppointmentSlot)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["counter_id", "starts_at"])
    )
    session.execute(statement)


def book(
    session: Session,
    *,
    counter_id: str,
    slot_starts: Sequence[dt.datetime],
    slot_minutes: int,
    capacity: int,
    services: list[str],
    now: dt.datetime,
    people: int = 1,
    owner_sub: str | None = None,
    submission_id: int | None = None,
    details: dict | None = None,
) -> tuple[Appointment, str, str]:
    """Book consecutive slots; returns the appointment, its manage token and its ticket token
    (both shown once; only their hashes are stored). Raises SlotTaken (roll back then)."""
    if not slot_starts:
        raise ValueError("an appointment needs at least one slot")
    starts = sorted(slot_starts)
    _insert_ignoring_duplicates(
        session,
        [
            {
                "counter_id": counter_id,
                "starts_at": s,
                "capacity": capacity,
                "booked": 0,
                "blocked": False,
            }
            for s in starts
        ],
    )
    ids = []
    for start in starts:
        slot_id = session.scalar(
            update(AppointmentSlot)
            .where(
                AppointmentSlot.counter_id == counter_id,
                AppointmentSlot.starts_at == start,
                AppointmentSlot.booked < AppointmentSlot.capacity,
                AppointmentSlot.blocked.is_(False),
            )
            .values(booked=AppointmentSlot.booked + 1)
            .returning(AppointmentSlot.id)
        )
        if slot_id is None:
            raise SlotTaken(f"{counter_id} {start.isoformat()}")
        ids.append(slot_id)
    manage, ticket = new_token(), new_token()
    appointment = Appointment(
        public_id=secrets.token_hex(16),
        counter_id=counter_id,
        starts_at=starts[0],
        ends_at=starts[-1] + dt.timedelta(minutes=slot_minutes),
        slot_ids=ids,
        services=list(services),
        people=people,
        status=BOOKED,
        owner_sub=owner_sub,
        submission_id=submission_id,
        manage_token_hash=token_hash(manage),
        ticket_token_hash=token_hash(ticket),
        details=details or {},
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    session.flush()
    return appointment, manage, ticket


def cancel(session: Session, appointment: Appointment, now: dt.datetime) -> bool:
    """Give the slots back (guarded: only a booked appointment, once); False if not booked."""
    result = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == BOOKED)
        .values(status=CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id.in_(appointment.slot_ids), AppointmentSlot.booked > 0)
        .values(booked=AppointmentSlot.booked - 1)
    )
    session.refresh(appointment)
    return True


def taken(session: Session, counter_id: str, start: dt.datetime, end: dt.datetime) -> dict:
    """{slot start: visitors booked} for a counter between two times (blocked slots are full)."""
    rows = session.execute(
        select(
            AppointmentSlot.starts_at,
            AppointmentSlot.booked,
            AppointmentSlot.capacity,
            AppointmentSlot.blocked,
        ).where(
            AppointmentSlot.counter_id == counter_id,
            AppointmentSlot.starts_at >= start,
            AppointmentSlot.starts_at < end,
        )
    )
    return {row.starts_at: (row.capacity if row.blocked else row.booked) for row in rows}
