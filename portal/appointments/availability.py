"""When a counter can be booked: the pure availability engine (no database, no Flask).

A counter's `Booking` (catalog) gives its opening hours per weekday with breaks, the slot length,
the visitors each slot serves (`capacity`), a buffer after each appointment, the minimum notice
and the horizon. Slots start every `slot_minutes` from the day's opening time (the grid stays
anchored to `open`, also after a break), must end by closing time and may not overlap a break.
An appointment takes `slots_needed` consecutive slots, buffer included, so it can never straddle
lunch or run past closing. On top of that come the office calendar (`portal.deadlines.
office_closed`: weekends, national holidays, 12/29–1/3), closures and blocked periods set by staff
(half-open `[start, end)` intervals of aware datetimes) and how many visitors each slot already
has (`taken`, keyed by the slot's aware start; any time zone, since aware datetimes compare by
instant). Everything returned is an aware datetime in Asia/Tokyo. `now` is always an argument,
so results do not depend on the day the code runs; the database, not this module, is what keeps
a slot from exceeding its capacity when bookings race.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Literal

from portal.catalog.schema import Booking, OpeningDay
from portal.clock import TOKYO
from portal.deadlines import office_closed

DayStatus = Literal["open", "full", "closed"]
Closure = tuple[dt.datetime, dt.datetime]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
_NOTHING_TAKEN: Mapping[dt.datetime, int] = MappingProxyType({})


def _at(day: dt.date, hour_minute: str) -> dt.datetime:
    hour, minute = hour_minute.split(":")
    return dt.datetime.combine(day, dt.time(int(hour), int(minute)), tzinfo=TOKYO)


def _overlaps(start: dt.datetime, end: dt.datetime, period: Closure) -> bool:
    return start < period[1] and period[0] < end


def _opening_days(booking: Booking, day: dt.date) -> list[OpeningDay]:
    weekday = WEEKDAYS[day.weekday()]
    return [opening for opening in booking.days if opening.weekday == weekday]


def _aware(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value!r}")
    return value


def _checked_closures(closures: Iterable[Closure]) -> tuple[Closure, ...]:
    # A tuple: the caller may pass a generator, and every day and slot reads the closures again.
    return tuple(
        (_aware(start, "a closure's start"), _aware(end, "a closure's end"))
        for start, end in closures
    )


def _checked_taken(taken: Mapping[dt.datetime, int]) -> Mapping[dt.datetime, int]:
    # A naive key would never match a slot and silently show a full slot as free.
    for slot in taken:
        _aware(slot, "a taken slot")
    return taken


def slot_starts(booking: Booking, day: dt.date) -> list[dt.datetime]:
    """Start times (aware, Asia/Tokyo, ascending) of the counter's slots on `day`.

    Empty on days the offices are closed and on weekdays without opening hours. Several
    `OpeningDay` entries for one weekday add up (e.g. a morning and an evening session)."""
    if office_closed(day):
        return []
    length = dt.timedelta(minutes=booking.slot_minutes)
    starts: set[dt.datetime] = set()
    for opening in _opening_days(booking, day):
        close = _at(day, opening.close)
        breaks = [(_at(day, pause.start), _at(day, pause.end)) for pause in opening.breaks]
        start = _at(day, opening.open)
        while start + length <= close:
            if not any(_overlaps(start, start + length, pause) for pause in breaks):
                starts.add(start)
            start += length
    return sorted(starts)


def slots_needed(booking: Booking, minutes: int) -> int:
    """Consecutive slots an appointment of `minutes` takes, its buffer included."""
    if minutes < 1:
        raise ValueError(f"an appointment lasts at least one minute, got {minutes}")
    return -(-(minutes + booking.buffer_minutes) // booking.slot_minutes)  # ceiling division


def covered_slots(booking: Booking, start: dt.datetime, minutes: int) -> list[dt.datetime]:
    """The slot starts an appointment of `minutes` beginning at `start` occupies (buffer
    included), in Asia/Tokyo: the slots whose `taken` count a booking raises."""
    start = _aware(start, "start").astimezone(TOKYO)
    length = dt.timedelta(minutes=booking.slot_minutes)
    return [start + index * length for index in range(slots_needed(booking, minutes))]


def within_horizon(booking: Booking, day: dt.date, now: dt.datetime) -> bool:
    """Whether `day` is between today (day 0, in Asia/Tokyo) and `horizon_days` days ahead."""
    today = _aware(now, "now").astimezone(TOKYO).date()
    return 0 <= (day - today).days <= booking.horizon_days


def _starts(
    booking: Booking,
    day: dt.date,
    needed: int,
    now: dt.datetime,
    closures: tuple[Closure, ...],
    taken: Mapping[dt.datetime, int],
) -> list[dt.datetime]:
    if not within_horizon(booking, day, now):
        return []
    slots = slot_starts(booking, day)
    length = dt.timedelta(minutes=booking.slot_minutes)
    free = {
        slot
        for slot in slots
        if taken.get(slot, 0) < booking.capacity
        and not any(_overlaps(slot, slot + length, closure) for closure in closures)
    }
    earliest = now + dt.timedelta(hours=booking.minimum_notice_hours)
    # Consecutive slots that all exist: a missing one is a break, closing time or the day's end.
    return [
        start
        for start in slots
        if start >= earliest and all(start + i * length in free for i in range(needed))
    ]


def bookable_starts(
    booking: Booking,
    day: dt.date,
    minutes: int,
    now: dt.datetime,
    closures: Iterable[Closure] = (),
    taken: Mapping[dt.datetime, int] = _NOTHING_TAKEN,
) -> list[dt.datetime]:
    """Start times on `day` where an appointment of `minutes` can be booked at `now`.

    All `slots_needed` consecutive slots exist that day (so no break or closing time in between),
    each has fewer than `capacity` visitors in `taken` and touches no closure; the start is at
    least `minimum_notice_hours` after `now`; the day is open and within the horizon."""
    _aware(now, "now")
    return _starts(
        booking,
        day,
        slots_needed(booking, minutes),
        now,
        _checked_closures(closures),
        _checked_taken(taken),
    )


def _status(
    booking: Booking,
    day: dt.date,
    needed: int,
    now: dt.datetime,
    closures: tuple[Closure, ...],
    taken: Mapping[dt.datetime, int],
) -> DayStatus:
    if _starts(booking, day, needed, now, closures, taken):
        return "open"
    # 満員 means booked out: the day would have a start if nobody had booked. Otherwise it is
    # closed for the resident whatever the reason (office holiday, no hours that weekday, past
    # the notice or the horizon, a whole-day closure, a service longer than any free stretch).
    if _starts(booking, day, needed, now, closures, _NOTHING_TAKEN):
        return "full"
    return "closed"


def day_status(
    booking: Booking,
    day: dt.date,
    minutes: int,
    now: dt.datetime,
    closures: Iterable[Closure] = (),
    taken: Mapping[dt.datetime, int] = _NOTHING_TAKEN,
) -> DayStatus:
    """ "open" (空きあり) when an appointment of `minutes` can be booked on `day`; "full" (満員)
    when it could be but for the visitors already booked; otherwise "closed"."""
    _aware(now, "now")
    return _status(
        booking,
        day,
        slots_needed(booking, minutes),
        now,
        _checked_closures(closures),
        _checked_taken(taken),
    )


def calendar_days(
    booking: Booking,
    month_start: dt.date,
    minutes: int,
    now: dt.datetime,
    closures: Iterable[Closure] = (),
    taken: Mapping[dt.datetime, int] = _NOTHING_TAKEN,
) -> list[tuple[dt.date, DayStatus]]:
    """Every day of the month beginning on `month_start` (a 1st), with its `day_status`."""
    if month_start.day != 1:
        raise ValueError(f"month_start must be the first of a month, got {month_start}")
    _aware(now, "now")
    needed = slots_needed(booking, minutes)
    closures = _checked_closures(closures)
    taken = _checked_taken(taken)
    length = calendar.monthrange(month_start.year, month_start.month)[1]
    days = (month_start + dt.timedelta(days=offset) for offset in range(length))
    return [(day, _status(booking, day, needed, now, closures, taken)) for day in days]
