"""The appointment .ics, read back with a second library (vobject): local times in Asia/Tokyo
whatever zone the input was in, Japanese text intact, the cancel variant, and lines folded at
75 octets without breaking a UTF-8 character."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import vobject

from portal.appointments.ics import appointment_ics

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
SUMMARY = "住民票の写しの交付（市民課 窓口予約）"
LOCATION = "いすみ市役所 本庁舎1階 市民課 2番窓口（千葉県いすみ市大原7400-1）"
DESCRIPTION = (
    "予約番号 A7K2-9QXM\n"
    "持ち物：本人確認書類（マイナンバーカード、運転免許証、パスポートなど）。"
    "代理の方は委任状もお持ちください。駐車場は庁舎の東側にあります。"
)


def make(**changes) -> str:
    arguments = {
        "uid": "appointment-A7K29QXM@isumi.example.jp",
        "start": dt.datetime(2026, 12, 3, 0, 30, tzinfo=dt.UTC),
        "end": dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC),
        "summary": SUMMARY,
        "location": LOCATION,
        "description": DESCRIPTION,
        "url": "https://portal.example.jp/appointments/manage/abc",
        "now": NOW,
    } | changes
    return appointment_ics(**arguments)


def test_start_and_end_are_local_times_in_tokyo():
    calendar = vobject.readOne(make())
    event = calendar.vevent
    start, end = event.dtstart.value, event.dtend.value
    assert (start.year, start.month, start.day, start.hour, start.minute) == (2026, 12, 3, 9, 30)
    assert start.utcoffset() == dt.timedelta(hours=9)
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 12, 3, 0, 30, tzinfo=dt.UTC)
    assert end.astimezone(TOKYO).replace(tzinfo=None) == dt.datetime(2026, 12, 3, 10, 0)
    assert "DTSTART;TZID=Asia/Tokyo:20261203T093000\r\n" in make()  # local time, not UTC
    assert calendar.vtimezone.tzid.value == "Asia/Tokyo"
    assert event.dtstamp.value == NOW


def test_any_input_zone_gives_the_same_local_time():
    new_york = ZoneInfo("America/New_York")
    start = dt.datetime(2026, 12, 3, 0, 30, tzinfo=dt.UTC).astimezone(new_york)
    event = vobject.readOne(make(start=start, end=start + dt.timedelta(minutes=30))).vevent
    assert event.dtstart.value.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") == "2026-12-03 09:30"
    assert "TZID=Asia/Tokyo:20261203T093000" in make(
        start=start, end=start + dt.timedelta(minutes=30)
    )


def test_japanese_text_and_the_published_event():
    calendar = vobject.readOne(make())
    event = calendar.vevent
    assert calendar.method.value == "PUBLISH"
    assert calendar.version.value == "2.0"
    assert calendar.prodid.value
    assert event.summary.value == SUMMARY
    assert event.location.value == LOCATION
    assert event.description.value == DESCRIPTION
    assert event.uid.value == "appointment-A7K29QXM@isumi.example.jp"
    assert event.url.value == "https://portal.example.jp/appointments/manage/abc"
    assert event.sequence.value == "0"
    assert event.status.value == "CONFIRMED"
    assert event.valarm.trigger.value == -dt.timedelta(days=1)
    assert event.valarm.action.value == "DISPLAY"


def test_the_cancel_variant():
    text = make(cancelled=True, sequence=1, url=None)
    calendar = vobject.readOne(text)
    event = calendar.vevent
    assert calendar.method.value == "CANCEL"
    assert event.status.value == "CANCELLED"
    assert event.sequence.value == "1"
    assert event.uid.value == "appointment-A7K29QXM@isumi.example.jp"
    assert event.summary.value == SUMMARY
    assert "VALARM" not in text  # no reminder of an event that will not happen
    assert "URL" not in {line.split(":")[0] for line in text.splitlines()}


def test_long_japanese_lines_are_folded_validly():
    long_location = "千葉県いすみ市大原七四〇〇番地の一 いすみ市役所 本庁舎一階 市民課 " * 4
    text = make(location=long_location)
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n")
    physical = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in physical), max(len(line) for line in physical)
    for line in physical:
        line.decode("utf-8")  # each folded piece is whole UTF-8: no character split in two
    continuation = [line for line in physical if line.startswith(b" ")]
    assert continuation, "the long lines were folded"
    assert vobject.readOne(text).vevent.location.value == long_location


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        make(start=dt.datetime(2026, 12, 3, 9, 30))
