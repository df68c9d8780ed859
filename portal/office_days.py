"""The days the city offices are open: not Saturdays, Sundays, national holidays or 29 December
to 3 January (行政機関の休日に関する法律第1条). Used by deadlines (portal/deadlines.py) and by the
rule language's `open_day()` (visit dates on open days only, issue 22); it imports nothing of the
portal, so both may use it."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

YEAR_END = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))


@lru_cache(maxsize=32)
def _national_holidays(year: int) -> holidays.HolidayBase:
    return holidays.Japan(years=year)


def office_closed(day: dt.date) -> bool:
    """Whether the city offices are closed (行政機関の休日) on `day`."""
    return (
        day.weekday() >= 5
        or day in _national_holidays(day.year)
        or (day.month, day.day) in YEAR_END
    )


def next_open_day(day: dt.date) -> dt.date:
    while office_closed(day):
        day += dt.timedelta(days=1)
    return day
