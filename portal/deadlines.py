"""Deadlines counted as the law counts them.

Two ways of counting a period from an event:

* 戸籍法 (第43条) counts the day of the event itself: 出生届 "14日以内" for a child born on
  1 April ends on 14 April (the birth date is day 1). `first_day: included`.
* The Civil Code (民法第140条, 初日不算入) starts the period the next day, unless the event happens
  at midnight: 転入届 "14日以内" for a move on 1 April ends on 15 April. `first_day: excluded`.

A period in months ends, by the calendar (民法第143条), on the day before the day with the same
number in the last month (or on the last day of that month when it has no such day), counted from
the first day of the period.

When the last day falls on a day the city offices are closed — Saturdays, Sundays, national
holidays and 29 December to 3 January (行政機関の休日に関する法律第1条) — the deadline is the next
open day (同法第2条), unless the catalog says the law sets otherwise (`closed_day: no_change`).
"""

from __future__ import annotations

import calendar
import datetime as dt

from portal.catalog.schema import DeadlineCounting
from portal.office_days import YEAR_END, next_open_day, office_closed

__all__ = ["YEAR_END", "next_open_day", "office_closed"]


def _add_months(start: dt.date, months: int) -> dt.date:
    """The day before the day numbered like `start`, `months` months later (民法第143条)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:  # no such day in that month: the period ends on its last day
        return dt.date(year, month, last)
    return dt.date(year, month, start.day) - dt.timedelta(days=1)


def deadline(event: dt.date, counting: DeadlineCounting) -> dt.date:
    """The last day to act, for an event on `event` (a date: the law counts whole days)."""
    first = event if counting.first_day == "included" else event + dt.timedelta(days=1)
    if counting.days is not None:
        last = first + dt.timedelta(days=counting.days - 1)
    else:
        last = _add_months(first, counting.months)
    if counting.closed_day == "next_open_day":
        last = next_open_day(last)
    return last
