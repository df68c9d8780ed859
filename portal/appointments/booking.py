"""Booking and cancelling: the one place that changes how many visitors a slot holds.

`book` takes every slot an appointment needs in the caller's transaction: it makes sure each slot
row exists (INSERT ... ON CONFLICT DO NOTHING, so two first bookings of a slot cannot collide),
then adds one visitor to each with `UPDATE ... SET booked = booked + 1 WHERE booked < capacity
AND NOT blocked`. If any slot has no room the whole booking is refused with `SlotTaken` and the
caller rolls back; racing requests wait for each other's row locks (PostgreSQL) or for the write
lock (SQLite's BEGIN IMMEDIATE), and exactly as many succeed as there is room.

Lock order (docs/decisions/0046-lock-order-and-retries.md): the resident's holder row, then the
appointment, then every slot the change touches (old and new) by id ascending, before any of
them is changed. Two moves into each other's times therefore queue instead of deadlocking.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.appointments.models import (
    BOOKED,
    CANCELLED,
    Appointment,
    AppointmentHolder,
    AppointmentSlot,
    CounterQueue,
)
from portal.db import lock_in_order
from portal.security import new_token, token_hash


class SlotTaken(Exception):
    """A slot the appointment needs has just been filled (or blocked by staff)."""


class NotBooked(Exception):
    """The appointment is no longer booked (cancelled or checked in meanwhile)."""


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> None:
    insert = _dialect_insert(session)
    statement = (
        insert(AppointmentSlot)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["counter_id", "starts_at"])
    )
    session.execute(statement)


def _dialect_insert(session: Session):
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _lock_slots(
    session: Session,
    counter_id: str,
    starts: Sequence[dt.datetime],
    capacity: int,
    also: Sequence[int] = (),
) -> None:
    """Make sure a slot row exists for each start (inserted in time order), then lock those
    rows and the slots `also` (an appointment's old ones) together, by id ascending."""
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
    wanted = session.scalars(
        select(AppointmentSlot.id).where(
            AppointmentSlot.counter_id == counter_id, AppointmentSlot.starts_at.in_(list(starts))
        )
    )
    lock_in_order(session, AppointmentSlot.id, [*wanted, *also])


def _take_slots(session: Session, counter_id: str, starts: Sequence[dt.datetime]) -> list[int]:
    """Add one visitor to each (locked) slot; SlotTaken if any has no room."""
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
    return ids


def _release_slots(session: Session, slot_ids: Sequence[int]) -> None:
    session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id.in_(list(slot_ids)), AppointmentSlot.booked > 0)
        .values(booked=AppointmentSlot.booked - 1)
    )


def hold(session: Session, holder_key: str) -> None:
    """Lock the resident's holder row for the rest of the transaction (created if missing), so
    that the resident's concurrent bookings are counted one after the other."""
    insert = _dialect_insert(session)
    session.execute(
        insert(AppointmentHolder)
        .values(key=holder_key, bookings=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    session.execute(
        update(AppointmentHolder)
        .where(AppointmentHolder.key == holder_key)
        .values(bookings=AppointmentHolder.bookings + 1)
    )


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
    holder_key: str | None = None,
    public_id: str | None = None,
    tokens: tuple[str, str] | None = None,
) -> tuple[Appointment, str, str]:
    """Book consecutive slots; returns the appointment, its manage token and its ticket token
    (random unless given; only their hashes are stored). Raises SlotTaken (roll back then)."""
    if not slot_starts:
        raise ValueError("an appointment needs at least one slot")
    starts = sorted(slot_starts)
    _lock_slots(session, counter_id, starts, capacity)
    ids = _take_slots(session, counter_id, starts)
    manage, ticket = tokens or (new_token(), new_token())
    appointment = Appointment(
        public_id=public_id or secrets.token_hex(16),
        holder_key=holder_key,
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
    if not _lock_appointment(session, appointment):
        return False
    lock_in_order(session, AppointmentSlot.id, appointment.slot_ids)
    result = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == BOOKED)
        .values(status=CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _release_slots(session, appointment.slot_ids)
    session.refresh(appointment)
    return True


def _lock_appointment(session: Session, appointment: Appointment) -> bool:
    """Lock the appointment's row and read it again (a concurrent move may have changed its
    slots meanwhile); whether it is still booked."""
    lock_in_order(session, Appointment.id, [appointment.id])
    session.refresh(appointment)
    return appointment.status == BOOKED


def move(
    session: Session,
    appointment: Appointment,
    *,
    slot_starts: Sequence[dt.datetime],
    slot_minutes: int,
    capacity: int,
    now: dt.datetime,
) -> None:
    """Reschedule a booked appointment to other slots of its counter, in the caller's
    transaction: the appointment is locked and read again, then its old and new slots are
    locked by id; the old ones are given back first (so a move by one slot can reuse them),
    then the new ones are taken with the same guard. SlotTaken: roll back, nothing changed."""
    if not _lock_appointment(session, appointment):
        raise NotBooked(appointment.public_id)
    starts = sorted(slot_starts)
    _lock_slots(session, appointment.counter_id, starts, capacity, also=appointment.slot_ids)
    _release_slots(session, appointment.slot_ids)
    ids = _take_slots(session, appointment.counter_id, starts)
    appointment.slot_ids = ids
    appointment.starts_at = starts[0]
    appointment.ends_at = starts[-1] + dt.timedelta(minutes=slot_minutes)
    appointment.sequence += 1
    appointment.updated_at = now
    session.flush()


def next_queue_number(session: Session, counter_id: str, day: dt.date) -> int:
    """The next queue number of a counter on a day (1, 2, ...): a guarded increment of one row,
    so concurrent check-ins get different numbers on both databases."""
    insert = _dialect_insert(session)
    session.execute(
        insert(CounterQueue)
        .values(counter_id=counter_id, day=day, last_number=0)
        .on_conflict_do_nothing(index_elements=["counter_id", "day"])
    )
    return session.scalar(
        update(CounterQueue)
        .where(CounterQueue.counter_id == counter_id, CounterQueue.day == day)
        .values(last_number=CounterQueue.last_number + 1)
        .returning(CounterQueue.last_number)
    )


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
