"""The calendar file (.ics, RFC 5545) attached to appointment mails, made with `icalendar`.

One VEVENT per file, its times in TZID Asia/Tokyo with the VTIMEZONE that defines it (a resident's
calendar shows the counter's local time whatever zone the phone is in), a reminder one day
before, and METHOD:PUBLISH. A cancellation is the same UID with a higher SEQUENCE, METHOD:CANCEL
and STATUS:CANCELLED (and no reminder), so a calendar that imported the first file can drop the
event. The library folds long lines at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone

TOKYO_TZID = "Asia/Tokyo"
TOKYO = ZoneInfo(TOKYO_TZID)
PRODID = "-//Isumi City//Online procedures portal//JA"
REMINDER_BEFORE = dt.timedelta(days=1)
# VTIMEZONE rules are generated from this date on (Japan has had no summer time since 1951).
_TIMEZONE_FROM = dt.date(1970, 1, 1)


def appointment_ics(
    *,
    uid: str,
    start: dt.datetime,
    end: dt.datetime,
    summary: str,
    location: str,
    description: str,
    url: str | None,
    now: dt.datetime,
    cancelled: bool = False,
    sequence: int = 0,
) -> str:
    """The .ics text (CRLF line ends) of one appointment. Datetimes must be aware (any zone)."""
    for name, value in (("start", start), ("end", end), ("now", now)):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime")
    if end <= start:
        raise ValueError("end must be after start")
    local_start, local_end = start.astimezone(TOKYO), end.astimezone(TOKYO)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    timezone = Timezone.from_tzid(
        TOKYO_TZID,
        first_date=_TIMEZONE_FROM,
        last_date=max(dt.date(2038, 1, 1), local_end.date() + dt.timedelta(days=366)),
    )
    timezone.pop("COMMENT", None)  # the library's note of that range, not meant for residents
    calendar.add_component(timezone)

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", local_start)
    event.add("dtend", local_end)
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    if url:
        event.add("url", url)
    if cancelled:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -REMINDER_BEFORE)
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
