"""No slot ever holds more visitors than its capacity, whatever the concurrency: 50 bookings
released together at a slot of capacity 1 (and 20 at capacity 3) give exactly 1 (or 3)
appointments; the others are refused with SlotTaken, never an error. Run on SQLite and on
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.appointments import booking
from portal.appointments.models import Appointment, AppointmentSlot
from tests.concurrency import run_together

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
NINE = dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC)  # 09:00 JST


def race(engine, bookers: int, capacity: int, starts) -> tuple[int, int, list]:
    barrier = threading.Barrier(bookers, timeout=60)
    booked, refused, errors = [], [], []

    def booker(n: int) -> None:
        try:
            with Session(engine) as session:
                barrier.wait()
                try:
                    booking.book(
                        session,
                        counter_id="shimin-main",
                        slot_starts=starts,
                        slot_minutes=30,
                        capacity=capacity,
                        services=["juminhyo"],
                        now=NOW,
                        owner_sub=f"resident-{n}",
                    )
                    session.commit()
                    booked.append(n)
                except booking.SlotTaken:
                    session.rollback()
                    refused.append(n)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=booker, args=(n,)) for n in range(bookers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return len(booked), len(refused), errors


@pytest.mark.parametrize(("bookers", "capacity"), [(50, 1), (20, 3)])
def test_parallel_bookings_never_exceed_capacity(app, engine, bookers, capacity):
    made, refused, errors = race(engine, bookers, capacity, [NINE])
    assert errors == []
    assert (made, refused) == (capacity, bookers - capacity)
    with Session(engine) as session:
        slot = session.scalar(select(AppointmentSlot))
        assert (slot.booked, slot.capacity) == (capacity, capacity)
        assert session.scalar(select(func.count()).select_from(Appointment)) == capacity


def test_a_booking_of_several_slots_is_all_or_nothing(app, engine):
    second = NINE + dt.timedelta(minutes=30)
    assert race(engine, 1, 1, [second])[0] == 1  # the second half-hour is taken
    made, refused, errors = race(engine, 1, 1, [NINE, second])
    assert (made, refused, errors) == (0, 1, [])
    with Session(engine) as session:
        rows = session.execute(select(AppointmentSlot.starts_at, AppointmentSlot.booked)).all()
        counts = dict(rows)
    assert counts.get(NINE, 0) == 0 and counts[second] == 1  # nothing kept of the first


def test_cancelling_gives_the_slot_back_once(app, engine):
    with Session(engine) as session:
        appointment, manage, ticket = booking.book(
            session,
            counter_id="shimin-main",
            slot_starts=[NINE],
            slot_minutes=30,
            capacity=1,
            services=["juminhyo"],
            now=NOW,
        )
        session.commit()
        assert manage != ticket and appointment.manage_token_hash != manage
        assert booking.cancel(session, appointment, NOW)
        assert not booking.cancel(session, appointment, NOW)
        session.commit()
        assert session.scalar(select(AppointmentSlot.booked)) == 0
    assert race(engine, 2, 1, [NINE])[:2] == (1, 1)


def test_the_database_refuses_overbooking_even_without_the_guard(app, engine):
    race(engine, 1, 1, [NINE])
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.execute(update(AppointmentSlot).values(booked=AppointmentSlot.booked + 1))
        session.flush()


def test_a_blocked_slot_cannot_be_booked(app, engine):
    race(engine, 1, 2, [NINE])
    with Session(engine) as session:
        session.execute(update(AppointmentSlot).values(blocked=True))
        session.commit()
    assert race(engine, 1, 2, [NINE])[:2] == (0, 1)


def test_one_residents_parallel_bookings_stop_at_the_limit(app, engine):
    """Ten bookings of one resident at once, each for another slot: the holder row makes them
    wait for each other, so exactly `limit` (3) are made."""
    from portal.appointments import service

    catalog = app.extensions["catalog"]
    visit = service.visit_of(catalog.counter("shimin-main"), ["juminhyo"], 1)
    day = dt.datetime(2026, 11, 25, 9, 0, tzinfo=service.TOKYO)
    made, limited = [], []

    def work(n: int) -> None:
        with Session(engine) as session:
            try:
                service.make(
                    session,
                    visit=visit,
                    start=day + dt.timedelta(minutes=15 * n),
                    now=NOW,
                    secret="s" * 64,
                    holder="mail:same-resident",
                    limit=3,
                    owner_sub=None,
                    submission_id=None,
                    details={"name": f"n{n}"},
                )
                session.commit()
                made.append(n)
            except service.LimitReached:
                session.rollback()
                limited.append(n)

    assert run_together(10, work) == []
    assert (len(made), len(limited)) == (3, 7)


def test_parallel_check_ins_get_different_queue_numbers(app, engine):
    with Session(engine) as session:
        for n in range(12):
            booking.book(
                session,
                counter_id="shimin-main",
                slot_starts=[NINE + dt.timedelta(minutes=15 * n)],
                slot_minutes=15,
                capacity=1,
                services=["juminhyo"],
                now=NOW,
            )
        session.commit()
        ids = list(session.scalars(select(Appointment.id)))
    from portal.appointments import service

    numbers = []

    def work(n: int) -> None:
        with Session(engine) as session:
            appointment = session.get(Appointment, ids[n])
            numbers.append(service.check_in(session, appointment, NINE))
            session.commit()

    assert run_together(12, work) == []
    assert sorted(numbers) == list(range(1, 13))
    with Session(engine) as session:
        assert {a.status for a in session.scalars(select(Appointment))} == {"arrived"}


def test_moving_an_appointment_is_guarded_and_frees_the_old_slots(app, engine):
    later = NINE + dt.timedelta(hours=1)
    race(engine, 1, 1, [later])  # someone holds the later slot
    with Session(engine) as session:
        appointment, _, _ = booking.book(
            session,
            counter_id="shimin-main",
            slot_starts=[NINE],
            slot_minutes=30,
            capacity=1,
            services=["juminhyo"],
            now=NOW,
        )
        session.commit()
        with pytest.raises(booking.SlotTaken):
            booking.move(
                session, appointment, slot_starts=[later], slot_minutes=30, capacity=1, now=NOW
            )
        session.rollback()
        session.refresh(appointment)
        assert appointment.starts_at == NINE and appointment.sequence == 0
        free = NINE + dt.timedelta(minutes=30)
        booking.move(session, appointment, slot_starts=[free], slot_minutes=30, capacity=1, now=NOW)
        session.commit()
        counts = dict(
            session.execute(select(AppointmentSlot.starts_at, AppointmentSlot.booked)).all()
        )
        assert (counts[NINE], counts[free], counts[later]) == (0, 1, 1)
        assert appointment.sequence == 1
