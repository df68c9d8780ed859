"""Operations that lock several rows take their locks in one order and are retried on a
deadlock (docs/decisions/0046-lock-order-and-retries.md), on SQLite and on PostgreSQL:

- two appointments moved into each other's times at the same moment, through the reschedule
  page, 50 rounds: never a 5xx, every move made, and every slot's count equal to the
  appointments that hold it (within its capacity) after each round;
- a real deadlock (two transactions locking two rows in opposite orders, without
  `lock_in_order`) is run again by `retrying`, and both units of work are done.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.appointments import service
from portal.appointments.models import BOOKED, Appointment, AppointmentSlot
from portal.clock import TOKYO
from portal.db import retrying
from tests.concurrency import run_together
from tests.conftest import csrf_token

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)  # Monday
DAY = dt.date(2026, 12, 1)
ROUNDS = 50


@pytest.fixture(autouse=True)
def fixed_clock(app):
    clock.set_override(NOW)
    yield
    clock.set_override(None)


def book_two(app, engine) -> list[tuple[int, str]]:
    """A at 09:00 and B at 09:15 (one 15-minute slot each, capacity 3): (id, manage token)."""
    catalog = app.extensions["catalog"]
    visit = service.visit_of(catalog.counter("shimin-main"), ["juminhyo"], 1)
    secret = app.config["SECRET_KEY"]
    made = []
    with Session(engine) as session:
        for n, time in enumerate((dt.time(9, 0), dt.time(9, 15))):
            appointment = service.make(
                session,
                visit=visit,
                start=dt.datetime.combine(DAY, time, tzinfo=TOKYO),
                now=clock.now(),
                secret=secret,
                holder=f"mail:resident-{n}",
                limit=3,
                owner_sub=None,
                submission_id=None,
                details={"name": f"住民{n}", "email": f"r{n}@example.jp"},
            )
            session.flush()
            made.append((appointment.id, service.manage_token(secret, appointment.public_id)))
        session.commit()
    return made


def check_counts(engine) -> dict[int, dt.datetime]:
    """Every slot holds exactly the booked appointments that name it, within its capacity; the
    appointments' start times."""
    with Session(engine) as session:
        appointments = session.scalars(select(Appointment)).all()
        holders = Counter(
            slot_id for a in appointments if a.status == BOOKED for slot_id in a.slot_ids
        )
        for slot in session.scalars(select(AppointmentSlot)):
            assert slot.booked == holders[slot.id], (slot.starts_at, slot.booked, holders)
            assert 0 <= slot.booked <= slot.capacity
        slots = {s.id: s.starts_at for s in session.scalars(select(AppointmentSlot))}
        for a in appointments:
            assert [slots[i] for i in a.slot_ids] == [a.starts_at]
        return {a.id: a.starts_at for a in appointments}


def test_two_appointments_moved_into_each_others_times_50_rounds(app, engine):
    (a_id, a_token), (b_id, b_token) = book_two(app, engine)
    clients = [app.test_client(), app.test_client()]
    paths = [f"/appointments/manage/{t}/reschedule/{DAY.isoformat()}" for t in (a_token, b_token)]
    tokens = [csrf_token(c.get(p).text) for c, p in zip(clients, paths, strict=True)]
    statuses: list[int] = []
    starts = check_counts(engine)
    for round_ in range(ROUNDS):
        targets = [starts[b_id], starts[a_id]]  # A into B's time, B into A's

        def move(n: int, round_=round_, targets=targets) -> None:
            local = targets[n].astimezone(TOKYO)
            response = clients[n].post(
                paths[n],
                data={"time": f"{local:%H:%M}", "csrf_token": tokens[n]},
                # A new address each round: the booking pages' rate limit is per address.
                environ_base={"REMOTE_ADDR": f"10.1.{round_}.{n + 1}"},
            )
            statuses.append(response.status_code)

        assert run_together(2, move) == []
        assert [s for s in statuses[-2:] if s >= 500] == [], f"round {round_}"
        after = check_counts(engine)
        assert (after[a_id], after[b_id]) == (starts[b_id], starts[a_id]), f"round {round_}"
        starts = after
    assert len(statuses) == 2 * ROUNDS
    assert [s for s in statuses if s >= 500] == []
    assert Counter(statuses) == {303: 2 * ROUNDS}  # every move made, none refused


def test_a_real_deadlock_is_run_again_and_both_units_of_work_are_done(app, engine):
    """Two transactions add 1 to two slot rows in opposite orders, without lock_in_order. On
    PostgreSQL one is chosen as the deadlock victim (40P01) and `retrying` runs it again; on
    SQLite BEGIN IMMEDIATE queues them and nothing needs a retry. Either way both are done."""
    with Session(engine) as session:
        ids = []
        for minutes in (0, 15):
            slot = AppointmentSlot(
                counter_id="shimin-main",
                starts_at=dt.datetime.combine(DAY, dt.time(9, minutes), tzinfo=TOKYO),
                capacity=3,
                booked=0,
                blocked=False,
            )
            session.add(slot)
            session.flush()
            ids.append(slot.id)
        session.commit()
    runs = Counter()
    both_hold_one = threading.Barrier(2, timeout=10)

    def bump(session: Session, slot_id: int) -> None:
        session.execute(
            update(AppointmentSlot)
            .where(AppointmentSlot.id == slot_id)
            .values(booked=AppointmentSlot.booked + 1)
        )

    def work(n: int) -> None:
        first, second = ids if n == 0 else ids[::-1]
        with Session(engine) as session:

            def unit() -> None:
                runs[n] += 1
                bump(session, first)
                if runs[n] == 1 and session.get_bind().dialect.name == "postgresql":
                    both_hold_one.wait()  # each holds its first row: the circle is certain
                bump(session, second)
                session.commit()

            retrying(session, unit)

    assert run_together(2, work) == []
    with Session(engine) as session:
        assert [session.get(AppointmentSlot, i).booked for i in ids] == [2, 2]
    if engine.dialect.name == "postgresql":
        assert sorted(runs.values()) == [1, 2]  # the victim ran again, once
    else:
        assert dict(runs) == {0: 1, 1: 1}
