"""Appointments as the pages use them: what a visit needs (services, people, minutes), the month
calendar and the free times of a day read from the database, booking with the per-resident
limit, rescheduling, cancelling, tokens, check-in and the staff's changes.

The pure rules live in `availability`, the capacity guard in `booking`; this module joins them
to the database and the catalog. Callers commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from portal.appointments import availability, booking
from portal.appointments.models import (
    ARRIVED,
    BOOKED,
    CANCELLED,
    NO_SHOW,
    SERVED,
    Appointment,
    AppointmentClosure,
    AppointmentSlot,
)
from portal.catalog.schema import CatalogData, Counter, Service
from portal.clock import TOKYO
from portal.db import lock_in_order
from portal.security import (
    SHORT_CODE_LENGTH,
    derived_short_code,
    derived_token,
    normalize_short_code,
    token_hash,
)

SlotTaken = booking.SlotTaken
NotBooked = booking.NotBooked

STATUS_LABELS = {
    BOOKED: "予約済み",
    "cancelled": "取り消し済み",
    ARRIVED: "来庁済み（受付済み）",
    SERVED: "対応済み",
    NO_SHOW: "来庁なし",
}
STAFF_STATUSES = (ARRIVED, SERVED, NO_SHOW)


class LimitReached(Exception):
    """The resident already holds as many upcoming appointments as one person may."""


@dataclass(frozen=True)
class Visit:
    """What a resident asks the counter for: services (durations add up) and people."""

    counter: Counter
    services: tuple[Service, ...]
    people: int

    @property
    def minutes(self) -> int:
        booking_ = self.counter.booking
        assert booking_ is not None
        base = sum(service.minutes for service in self.services)
        return base + (self.people - 1) * booking_.extra_person_minutes

    @property
    def service_names(self) -> str:
        return "、".join(service.name for service in self.services)


def bookable_counters(catalog: CatalogData) -> list[Counter]:
    return [counter for counter in catalog.counters if counter.booking is not None]


def visit_of(counter: Counter, service_ids: list[str], people: int) -> Visit | None:
    """The visit for these service ids and people, or None if any is not the counter's."""
    booking_ = counter.booking
    if booking_ is None or not service_ids or not 1 <= people <= booking_.max_people:
        return None
    services = []
    for service_id in dict.fromkeys(service_ids):  # keep order, drop repeats
        service = booking_.service(service_id)
        if service is None:
            return None
        services.append(service)
    return Visit(counter, tuple(services), people)


def _day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first, dt.time(0), tzinfo=TOKYO)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=TOKYO)
    return start, end


def closures(
    session: Session, counter_id: str, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Staff closures of this counter (or of all counters) that overlap [start, end)."""
    rows = session.execute(
        select(AppointmentClosure.starts_at, AppointmentClosure.ends_at).where(
            or_(
                AppointmentClosure.counter_id == counter_id,
                AppointmentClosure.counter_id.is_(None),
            ),
            AppointmentClosure.starts_at < end,
            AppointmentClosure.ends_at > start,
        )
    )
    return [(row.starts_at, row.ends_at) for row in rows]


def _context(session: Session, counter_id: str, first: dt.date, last: dt.date):
    start, end = _day_bounds(first, last)
    return (
        closures(session, counter_id, start, end),
        booking.taken(session, counter_id, start, end),
    )


def month(
    session: Session, visit: Visit, month_start: dt.date, now: dt.datetime
) -> list[tuple[dt.date, availability.DayStatus]]:
    last = month_start.replace(day=28) + dt.timedelta(days=4)
    last = last - dt.timedelta(days=last.day)
    closed, taken = _context(session, visit.counter.id, month_start, last)
    return availability.calendar_days(
        visit.counter.booking, month_start, visit.minutes, now, closed, taken
    )


def times(session: Session, visit: Visit, day: dt.date, now: dt.datetime) -> list[dt.datetime]:
    closed, taken = _context(session, visit.counter.id, day, day)
    return availability.bookable_starts(
        visit.counter.booking, day, visit.minutes, now, closed, taken
    )


def alternatives(
    session: Session, visit: Visit, near: dt.datetime, now: dt.datetime, limit: int = 6
) -> list[dt.datetime]:
    """Free start times closest after `near` (same day first, then the following days)."""
    found: list[dt.datetime] = []
    day = near.astimezone(TOKYO).date()
    horizon = visit.counter.booking.horizon_days
    for _ in range(horizon + 1):
        found.extend(t for t in times(session, visit, day, now) if t >= near)
        if len(found) >= limit:
            break
        day += dt.timedelta(days=1)
        if not availability.within_horizon(visit.counter.booking, day, now):
            break
    if len(found) < limit:  # earlier the same day, if the later ones ran out
        earlier = [t for t in times(session, visit, near.astimezone(TOKYO).date(), now) if t < near]
        found.extend(earlier[-(limit - len(found)) :])
    return sorted(found)[:limit]


# -- tokens -----------------------------------------------------------------------------------
# Both tokens are derived from the appointment's public id with the server's secret, so the
# manage page can show the ticket again and a logged-in owner can reach the manage page from
# their list; the database stores only their hashes.


def manage_token(secret: str, public_id: str) -> str:
    return derived_token(secret, "appointment-manage", public_id)


def ticket_token(secret: str, public_id: str) -> str:
    return derived_token(secret, "appointment-ticket", public_id)


def checkin_code(secret: str, public_id: str) -> str:
    """The ticket's short code (8 characters, none easy to mistake): typed at a kiosk instead of
    scanning the QR code. Shown on the ticket beside the QR code; only its hash is stored."""
    return derived_short_code(secret, "appointment-checkin", public_id)


def holder_key(secret: str, *, sub: str | None, email: str | None) -> str:
    if sub:
        return "sub:" + derived_token(secret, "appointment-holder", sub)[:40]
    if not email:
        raise ValueError("a holder is a login or an e-mail address")
    return "mail:" + derived_token(secret, "appointment-holder", email.strip().lower())[:40]


def by_manage_token(session: Session, token: str) -> Appointment | None:
    return session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == token_hash(token))
    )


def by_ticket_token(session: Session, token: str) -> Appointment | None:
    return session.scalar(
        select(Appointment).where(Appointment.ticket_token_hash == token_hash(token.strip()))
    )


def by_checkin_code(session: Session, code: str, today: dt.date) -> Appointment | None:
    """The appointment of a typed check-in code: today's if several share it (36 bits), else
    the nearest to today."""
    normalized = normalize_short_code(code)
    if len(normalized) != SHORT_CODE_LENGTH:
        return None
    rows = list(
        session.scalars(
            select(Appointment).where(Appointment.checkin_code_hash == token_hash(normalized))
        )
    )
    return min(
        rows,
        key=lambda a: abs((a.starts_at.astimezone(TOKYO).date() - today).days),
        default=None,
    )


def by_ticket(session: Session, text: str, today: dt.date) -> Appointment | None:
    """What a scanner typed (the QR code's ticket token) or a person typed (the short code)."""
    text = text.strip()
    if not text or len(text) > 64:
        return None
    return by_checkin_code(session, text, today) or by_ticket_token(session, text)


# -- booking ----------------------------------------------------------------------------------


def upcoming_of_holder(session: Session, key: str, now: dt.datetime) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.holder_key == key,
            Appointment.status == BOOKED,
            Appointment.starts_at > now,
        )
    )


def make(
    session: Session,
    *,
    visit: Visit,
    start: dt.datetime,
    now: dt.datetime,
    secret: str,
    holder: str,
    limit: int,
    owner_sub: str | None,
    submission_id: int | None,
    details: dict,
) -> Appointment:
    """Book `visit` at `start`. LimitReached if the resident holds `limit` upcoming ones;
    SlotTaken if the time is not (or no longer) free. Roll back on either."""
    booking_ = visit.counter.booking
    if start not in times(session, visit, start.astimezone(TOKYO).date(), now):
        raise SlotTaken(f"{visit.counter.id} {start.isoformat()} is not bookable")
    booking.hold(session, holder)
    if upcoming_of_holder(session, holder, now) >= limit:
        raise LimitReached(holder)
    public_id = secrets.token_hex(16)
    appointment, _, _ = booking.book(
        session,
        counter_id=visit.counter.id,
        slot_starts=availability.covered_slots(booking_, start, visit.minutes),
        slot_minutes=booking_.slot_minutes,
        capacity=booking_.capacity,
        services=[service.id for service in visit.services],
        people=visit.people,
        now=now,
        owner_sub=owner_sub,
        submission_id=submission_id,
        details=details,
        holder_key=holder,
        public_id=public_id,
        tokens=(manage_token(secret, public_id), ticket_token(secret, public_id)),
    )
    appointment.checkin_code_hash = token_hash(checkin_code(secret, public_id))
    return appointment


def visit_of_appointment(catalog: CatalogData, appointment: Appointment) -> Visit | None:
    counter = catalog.counter(appointment.counter_id)
    if counter is None:
        return None
    return visit_of(counter, appointment.services, appointment.people)


def move_times(
    session: Session, appointment: Appointment, visit: Visit, day: dt.date, now: dt.datetime
) -> list[dt.datetime]:
    """Free start times of `day` for moving this appointment: its own slots count as free."""
    closed, taken = _context(session, visit.counter.id, day, day)
    own = {slot.astimezone(TOKYO) for slot in _slot_starts(session, appointment)}
    taken = {k: v - (1 if k.astimezone(TOKYO) in own else 0) for k, v in taken.items()}
    return availability.bookable_starts(
        visit.counter.booking, day, visit.minutes, now, closed, taken
    )


def reschedule(
    session: Session, appointment: Appointment, visit: Visit, start: dt.datetime, now: dt.datetime
) -> None:
    """Move to `start` (SlotTaken, NotBooked: roll back). The old slots count as free for the
    check."""
    booking_ = visit.counter.booking
    if start not in move_times(session, appointment, visit, start.astimezone(TOKYO).date(), now):
        raise SlotTaken(f"{visit.counter.id} {start.isoformat()} is not bookable")
    booking.move(
        session,
        appointment,
        slot_starts=availability.covered_slots(booking_, start, visit.minutes),
        slot_minutes=booking_.slot_minutes,
        capacity=booking_.capacity,
        now=now,
    )


def _slot_starts(session: Session, appointment: Appointment) -> list[dt.datetime]:
    return list(
        session.scalars(
            select(AppointmentSlot.starts_at).where(AppointmentSlot.id.in_(appointment.slot_ids))
        )
    )


def cancel(session: Session, appointment: Appointment, now: dt.datetime) -> bool:
    return booking.cancel(session, appointment, now)


def can_change(appointment: Appointment, now: dt.datetime) -> bool:
    """The manage link cancels or reschedules only a booked appointment that has not begun."""
    return appointment.status == BOOKED and now < appointment.starts_at


def link_expired(appointment: Appointment, now: dt.datetime) -> bool:
    """After the appointment's day the manage link shows nothing at all."""
    day_after = appointment.starts_at.astimezone(TOKYO).date() + dt.timedelta(days=1)
    return now >= dt.datetime.combine(day_after, dt.time(0), tzinfo=TOKYO)


# -- at the counter ---------------------------------------------------------------------------


CANCELLED_TICKET = "cancelled"
OTHER_DAY = "other-day"


def check_in_refusal(appointment: Appointment, now: dt.datetime) -> str | None:
    """Why a ticket cannot be checked in now (CANCELLED_TICKET, OTHER_DAY), None when it can:
    the same rule at the counter and at a kiosk."""
    if appointment.status == CANCELLED:
        return CANCELLED_TICKET
    if appointment.starts_at.astimezone(TOKYO).date() != now.astimezone(TOKYO).date():
        return OTHER_DAY
    return None


def check_in(session: Session, appointment: Appointment, now: dt.datetime) -> int:
    """Mark arrived and give the day's next queue number (the same number if already arrived).
    The appointment is locked before the day's queue row (the lock order of booking.py)."""
    lock_in_order(session, Appointment.id, [appointment.id])
    if appointment.queue_number is not None:
        return appointment.queue_number
    number = booking.next_queue_number(
        session, appointment.counter_id, now.astimezone(TOKYO).date()
    )
    changed = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.queue_number.is_(None))
        .values(queue_number=number, status=ARRIVED, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(appointment)
    if changed != 1:  # another clerk checked the same ticket in at the same moment
        return appointment.queue_number
    return number


def set_status(session: Session, appointment: Appointment, status: str, now: dt.datetime) -> None:
    if status not in STAFF_STATUSES:
        raise ValueError(status)
    if status == ARRIVED:
        check_in(session, appointment, now)
        return
    appointment.status = status
    appointment.updated_at = now


def day_appointments(session: Session, counter_id: str, day: dt.date) -> list[Appointment]:
    start, end = _day_bounds(day, day)
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.counter_id == counter_id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def day_slots(session: Session, counter: Counter, day: dt.date) -> list[dict]:
    """Every slot of the day with visitors booked, capacity and whether staff blocked it."""
    start, end = _day_bounds(day, day)
    rows = {
        row.starts_at.astimezone(TOKYO): row
        for row in session.scalars(
            select(AppointmentSlot).where(
                AppointmentSlot.counter_id == counter.id,
                AppointmentSlot.starts_at >= start,
                AppointmentSlot.starts_at < end,
            )
        )
    }
    return [
        {
            "start": slot,
            "booked": rows[slot].booked if slot in rows else 0,
            "capacity": rows[slot].capacity if slot in rows else counter.booking.capacity,
            "blocked": rows[slot].blocked if slot in rows else False,
        }
        for slot in availability.slot_starts(counter.booking, day)
    ]


def set_blocked(session: Session, counter: Counter, start: dt.datetime, blocked: bool) -> None:
    """Block a slot (no new bookings; the ones made stay) or release it."""
    booking._insert_ignoring_duplicates(
        session,
        [
            {
                "counter_id": counter.id,
                "starts_at": start,
                "capacity": counter.booking.capacity,
                "booked": 0,
                "blocked": False,
            }
        ],
    )
    session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.counter_id == counter.id, AppointmentSlot.starts_at == start)
        .values(blocked=blocked)
    )


def booked_between(
    session: Session, counter_id: str | None, start: dt.datetime, end: dt.datetime
) -> int:
    """Booked appointments in a period (of one counter, or of all): shown when staff close it."""
    query = (
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.status == BOOKED,
            Appointment.starts_at < end,
            Appointment.ends_at > start,
        )
    )
    if counter_id is not None:
        query = query.where(Appointment.counter_id == counter_id)
    return session.scalar(query)
