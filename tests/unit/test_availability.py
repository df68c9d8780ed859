"""The availability engine: worked examples on a 2026-2027 calendar, then hypothesis properties.

`now` is always fixed (the properties draw it from a few fixed instants), so nothing here depends
on the day the tests run. 2026-11-22 is a Sunday, 2026-11-23 (Monday) is 勤労感謝の日.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.appointments.availability import (
    WEEKDAYS,
    bookable_starts,
    calendar_days,
    covered_slots,
    day_status,
    slot_starts,
    slots_needed,
)
from portal.catalog.schema import Booking, OpeningDay, Period, Service
from portal.clock import TOKYO
from portal.deadlines import office_closed

D = dt.date
UTC = dt.UTC
MONDAY = D(2026, 11, 30)
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=TOKYO)  # a Sunday morning
SERVICE = Service(id="juminhyo", name="住民票の写しの交付", minutes=30)


def weekday_hours(open_="09:00", close="17:00", breaks=(("12:00", "13:00"),), weekdays=None):
    return [
        OpeningDay(
            weekday=weekday,
            open=open_,
            close=close,
            breaks=[Period(start=start, end=end) for start, end in breaks],
        )
        for weekday in weekdays or ("mon", "tue", "wed", "thu", "fri")
    ]


def booking(**changes) -> Booking:
    values = {
        "slot_minutes": 30,
        "capacity": 2,
        "buffer_minutes": 0,
        "minimum_notice_hours": 2,
        "horizon_days": 60,
        "days": weekday_hours(),
        "services": [SERVICE],
    }
    return Booking(**(values | changes))


COUNTER = booking()


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TOKYO)


def times(starts: list[dt.datetime]) -> list[str]:
    return [start.strftime("%H:%M") for start in starts]


MORNING = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
AFTERNOON = ["13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30"]


# --- slots -------------------------------------------------------------------------------------


def test_a_monday_with_a_lunch_break_and_30_minute_slots():
    starts = slot_starts(COUNTER, MONDAY)
    assert times(starts) == MORNING + AFTERNOON
    assert all(start.tzinfo is TOKYO and start.date() == MONDAY for start in starts)


def test_the_grid_starts_at_opening_and_every_slot_ends_by_closing():
    counter = booking(days=weekday_hours(open_="08:30", close="17:15"))
    starts = times(slot_starts(counter, MONDAY))
    assert starts[0] == "08:30"
    assert starts[-1] == "16:30"  # 17:00 would end at 17:30, after closing
    assert "16:45" not in starts  # slots keep to the grid from 08:30


def test_a_slot_that_overlaps_a_break_is_left_out_and_the_grid_keeps_its_step():
    counter = booking(days=weekday_hours(breaks=(("12:00", "12:45"),)))
    starts = times(slot_starts(counter, MONDAY))
    assert "11:30" in starts
    assert "12:00" not in starts
    assert "12:30" not in starts  # runs until 13:00, into the break
    assert "12:45" not in starts  # not on the grid from 09:00
    assert "13:00" in starts


def test_no_slots_on_closed_days_or_weekdays_without_hours():
    assert slot_starts(COUNTER, D(2026, 11, 23)) == []  # 勤労感謝の日 (a Monday)
    assert slot_starts(COUNTER, D(2026, 11, 28)) == []  # Saturday
    assert slot_starts(COUNTER, D(2026, 12, 29)) == []  # year-end closure (a Tuesday)
    mondays_and_wednesdays = booking(days=weekday_hours(weekdays=("mon", "wed")))
    assert slot_starts(mondays_and_wednesdays, D(2026, 12, 1)) == []  # a Tuesday
    assert slot_starts(mondays_and_wednesdays, D(2026, 12, 2)) != []


def test_opening_hours_on_a_saturday_do_not_open_a_closed_office():
    counter = booking(days=weekday_hours(weekdays=("sat",)))
    assert slot_starts(counter, D(2026, 11, 28)) == []


@pytest.mark.parametrize(
    ("slot", "buffer", "minutes", "needed"),
    [
        (30, 0, 30, 1),
        (30, 0, 5, 1),
        (30, 0, 31, 2),
        (30, 0, 60, 2),
        (30, 15, 60, 3),  # 75 minutes with the buffer
        (30, 10, 20, 1),  # 30 minutes exactly
        (15, 0, 45, 3),
        (20, 5, 240, 13),
    ],
)
def test_slots_needed(slot, buffer, minutes, needed):
    assert slots_needed(booking(slot_minutes=slot, buffer_minutes=buffer), minutes) == needed


def test_an_appointment_lasts_at_least_a_minute():
    with pytest.raises(ValueError, match="at least one minute"):
        slots_needed(COUNTER, 0)


def test_covered_slots_include_the_buffer_and_are_local_times():
    counter = booking(buffer_minutes=15)
    start = at(13).astimezone(UTC)
    assert covered_slots(counter, start, 60) == [at(13), at(13, 30), at(14)]
    assert all(slot.tzinfo is TOKYO for slot in covered_slots(counter, start, 60))


# --- bookable starts ---------------------------------------------------------------------------


def test_a_30_minute_service_can_start_in_every_slot():
    assert times(bookable_starts(COUNTER, MONDAY, 30, NOW)) == MORNING + AFTERNOON


def test_a_60_minute_service_needs_two_slots_and_cannot_straddle_lunch_or_closing():
    starts = times(bookable_starts(COUNTER, MONDAY, 60, NOW))
    assert starts == MORNING[:-1] + AFTERNOON[:-1]
    assert "11:30" not in starts  # would run into lunch
    assert "16:30" not in starts  # would end at 17:30


def test_the_buffer_takes_slots_too():
    counter = booking(buffer_minutes=15)
    starts = times(bookable_starts(counter, MONDAY, 60, NOW))
    assert starts == MORNING[:-2] + AFTERNOON[:-2]  # 3 slots: the last start is 2 slots earlier


def test_minimum_notice():
    ten_past_ten = at(10, 10).astimezone(UTC)  # any time zone: `now` is an instant
    assert times(bookable_starts(COUNTER, MONDAY, 30, ten_past_ten))[0] == "13:00"
    assert times(bookable_starts(COUNTER, MONDAY, 30, at(11)))[0] == "13:00"  # exactly 2 hours
    assert times(bookable_starts(COUNTER, MONDAY, 30, at(11, 1)))[0] == "13:30"
    no_notice = booking(minimum_notice_hours=0)
    assert times(bookable_starts(no_notice, MONDAY, 30, at(10, 10)))[0] == "10:30"
    a_day_ahead = booking(minimum_notice_hours=24)
    sunday_nine = at(9, 0, D(2026, 11, 29))
    assert times(bookable_starts(a_day_ahead, MONDAY, 30, sunday_nine)) == MORNING + AFTERNOON
    assert bookable_starts(a_day_ahead, MONDAY, 30, at(9, 1, D(2026, 11, 29)))[0] == at(9, 30)


def test_horizon_counts_from_today_in_tokyo():
    # NOW is 2026-11-22: day 0. Day 60 is 2027-01-21 (a Thursday), day 61 is past the horizon.
    assert bookable_starts(COUNTER, D(2027, 1, 21), 30, NOW) != []
    assert bookable_starts(COUNTER, D(2027, 1, 22), 30, NOW) == []
    assert day_status(COUNTER, D(2027, 1, 22), 30, NOW) == "closed"
    # 2026-11-22 16:00 UTC is already 23 November in Tokyo: the horizon moves by a day.
    late_sunday_utc = dt.datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert bookable_starts(COUNTER, D(2027, 1, 22), 30, late_sunday_utc) != []
    # Day 0 is today: bookable after the notice; yesterday never.
    early_monday = at(6)
    assert times(bookable_starts(COUNTER, MONDAY, 30, early_monday))[0] == "09:00"
    assert bookable_starts(COUNTER, D(2026, 11, 27), 30, early_monday) == []


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (D(2026, 11, 23), "勤労感謝の日"),
        (D(2026, 12, 29), "year-end closure, a Tuesday"),
        (D(2026, 12, 30), "year-end closure, a Wednesday"),
        (D(2026, 12, 31), "year-end closure, a Thursday"),
        (D(2027, 1, 1), "元日"),
        (D(2026, 11, 28), "Saturday"),
        (D(2026, 11, 29), "Sunday"),
    ],
)
def test_holidays_weekends_and_the_year_end_are_closed(day, why):
    assert bookable_starts(COUNTER, day, 30, NOW) == [], why
    assert day_status(COUNTER, day, 30, NOW) == "closed", why


def test_the_first_monday_after_the_year_end_is_open():
    assert bookable_starts(COUNTER, D(2027, 1, 4), 30, NOW) != []
    assert day_status(COUNTER, D(2027, 1, 4), 30, NOW) == "open"


def test_closures_block_every_slot_they_touch():
    meeting = (at(14), at(15))
    starts = times(bookable_starts(COUNTER, MONDAY, 30, NOW, closures=[meeting]))
    assert starts == MORNING + ["13:00", "13:30", "15:00", "15:30", "16:00", "16:30"]
    long_starts = times(bookable_starts(COUNTER, MONDAY, 60, NOW, closures=[meeting]))
    assert "13:00" in long_starts  # ends at 14:00, when the closure begins
    assert "13:30" not in long_starts  # its second slot is closed
    assert "15:00" in long_starts  # the closure ends at 15:00: half-open


def test_a_closure_partly_over_a_slot_blocks_it_and_any_time_zone_works():
    ten_minutes = (at(10, 20).astimezone(UTC), at(10, 40).astimezone(UTC))
    starts = times(bookable_starts(COUNTER, MONDAY, 30, NOW, closures=[ten_minutes]))
    assert "10:00" not in starts
    assert "10:30" not in starts
    assert "11:00" in starts


def test_a_whole_day_closure_closes_the_day():
    city_event = (at(0), at(0, day=MONDAY + dt.timedelta(days=1)))
    assert bookable_starts(COUNTER, MONDAY, 30, NOW, closures=[city_event]) == []
    assert day_status(COUNTER, MONDAY, 30, NOW, closures=[city_event]) == "closed"


def test_capacity_counts_the_visitors_already_booked():
    one_left = {at(13): 1}
    assert "13:00" in times(bookable_starts(COUNTER, MONDAY, 30, NOW, taken=one_left))
    full_at_one = {at(13).astimezone(UTC): 2}  # keys are instants: UTC works as well
    starts = times(bookable_starts(COUNTER, MONDAY, 30, NOW, taken=full_at_one))
    assert "13:00" not in starts
    assert "13:30" in starts
    long_starts = times(bookable_starts(COUNTER, MONDAY, 60, NOW, taken={at(13, 30): 2}))
    assert "13:00" not in long_starts  # its second slot is full
    assert "13:30" not in long_starts
    assert "14:00" in long_starts


def test_capacity_one():
    counter = booking(capacity=1)
    starts = times(bookable_starts(counter, MONDAY, 30, NOW, taken={at(9): 1}))
    assert starts == MORNING[1:] + AFTERNOON


def test_naive_datetimes_are_refused():
    naive = dt.datetime(2026, 11, 22, 10, 0)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        bookable_starts(COUNTER, MONDAY, 30, naive)
    with pytest.raises(ValueError, match="closure"):
        bookable_starts(COUNTER, MONDAY, 30, NOW, closures=[(naive, at(12))])
    with pytest.raises(ValueError, match="taken slot"):
        day_status(COUNTER, MONDAY, 30, NOW, taken={naive: 1})


# --- day status and the month calendar ---------------------------------------------------------


def every_slot_taken(counter: Booking, day: dt.date) -> dict[dt.datetime, int]:
    return dict.fromkeys(slot_starts(counter, day), counter.capacity)


def test_day_status():
    assert day_status(COUNTER, MONDAY, 30, NOW) == "open"
    assert day_status(COUNTER, MONDAY, 30, NOW, taken=every_slot_taken(COUNTER, MONDAY)) == "full"
    # Only 9:00 left: open for 30 minutes, full for an hour (it was bookable before others came).
    all_but_nine = every_slot_taken(COUNTER, MONDAY) | {at(9): 0}
    assert day_status(COUNTER, MONDAY, 30, NOW, taken=all_but_nine) == "open"
    assert day_status(COUNTER, MONDAY, 60, NOW, taken=all_but_nine) == "full"


def test_days_that_are_closed_for_other_reasons_than_visitors():
    assert day_status(COUNTER, D(2026, 11, 20), 30, NOW) == "closed"  # in the past
    assert day_status(COUNTER, MONDAY, 30, at(15)) == "closed"  # the notice leaves no slot
    assert day_status(COUNTER, MONDAY, 30, at(14)) == "open"  # 16:00 and 16:30 remain
    assert day_status(COUNTER, MONDAY, 240, NOW) == "open"  # 13:00-17:00 exactly
    assert day_status(COUNTER, MONDAY, 241, NOW) == "closed"  # longer than any stretch
    tuesdays_off = booking(days=weekday_hours(weekdays=("mon", "wed", "thu", "fri")))
    assert day_status(tuesdays_off, D(2026, 12, 1), 30, NOW) == "closed"


def test_calendar_of_a_month():
    closures = iter([(at(0, day=D(2026, 11, 26)), at(23, 59, D(2026, 11, 26)))])  # a generator
    taken = every_slot_taken(COUNTER, D(2026, 11, 25))
    days = calendar_days(COUNTER, D(2026, 11, 1), 30, NOW, closures, taken)
    assert [day for day, _ in days] == [D(2026, 11, n) for n in range(1, 31)]
    status = dict(days)
    assert all(status[D(2026, 11, n)] == "closed" for n in range(1, 23))  # past, and today Sunday
    assert status[D(2026, 11, 23)] == "closed"  # 勤労感謝の日
    assert status[D(2026, 11, 24)] == "open"
    assert status[D(2026, 11, 25)] == "full"
    assert status[D(2026, 11, 26)] == "closed"  # closed by staff all day
    assert status[D(2026, 11, 27)] == "open"
    assert status[D(2026, 11, 28)] == status[D(2026, 11, 29)] == "closed"
    assert status[D(2026, 11, 30)] == "open"


def test_calendar_of_the_year_end_and_past_the_horizon():
    status = dict(calendar_days(COUNTER, D(2027, 1, 1), 30, NOW))
    assert status[D(2027, 1, 1)] == "closed"
    assert status[D(2027, 1, 4)] == "open"
    assert status[D(2027, 1, 21)] == "open"  # day 60
    assert status[D(2027, 1, 22)] == "closed"  # day 61
    assert len(status) == 31


def test_calendar_wants_the_first_of_a_month():
    with pytest.raises(ValueError, match="first of a month"):
        calendar_days(COUNTER, D(2026, 11, 2), 30, NOW)


# --- properties --------------------------------------------------------------------------------

# Fixed instants (Sunday morning, a Tuesday, the eve of a holiday, the day before the year-end
# closure, a morning written in UTC), so that notice, horizon and "today" matter, never the real date.
NOWS = [
    NOW,
    dt.datetime(2026, 11, 24, 10, 30, tzinfo=TOKYO),
    dt.datetime(2027, 2, 10, 13, 5, tzinfo=TOKYO),  # the day before 建国記念の日
    dt.datetime(2026, 12, 28, 15, 45, tzinfo=TOKYO),
    dt.datetime(2027, 1, 3, 23, 30, tzinfo=UTC),  # 4 January, 08:30 in Tokyo
]
FIRST_DAY, LAST_DAY = D(2026, 11, 15), D(2027, 5, 31)  # covers the year-end and Golden Week


def hour_minute(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def opening_days(draw, weekday: str) -> OpeningDay:
    open_ = draw(st.integers(6 * 12, 12 * 12)) * 5
    close = draw(st.integers(open_ // 5 + 6, min(open_ // 5 + 150, 23 * 12 + 11))) * 5
    breaks = []
    if draw(st.booleans()):
        start = draw(st.integers(open_ // 5, close // 5 - 1)) * 5
        end = draw(st.integers(start // 5 + 1, close // 5)) * 5
        breaks.append(Period(start=hour_minute(start), end=hour_minute(end)))
    return OpeningDay(
        weekday=weekday, open=hour_minute(open_), close=hour_minute(close), breaks=breaks
    )


@st.composite
def bookings(draw) -> Booking:
    # One OpeningDay per weekday, as the catalog writes them (weekends too: they stay closed).
    weekdays = draw(
        st.just(WEEKDAYS) | st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)
    )
    return Booking(
        slot_minutes=draw(st.sampled_from([10, 15, 20, 30, 45, 60])),
        capacity=draw(st.integers(1, 3)),
        buffer_minutes=draw(st.integers(0, 6)) * 5,
        minimum_notice_hours=draw(st.integers(0, 72)),
        horizon_days=draw(st.integers(1, 120)),
        days=[draw(opening_days(weekday)) for weekday in weekdays],
        services=[SERVICE],
    )


@st.composite
def scenarios(draw):
    counter = draw(bookings())
    now = draw(st.sampled_from(NOWS))
    # Mostly days around the bookable window (where the rules interact), sometimes any day.
    today = now.astimezone(TOKYO).date()
    near = st.integers(-2, counter.horizon_days + 2).map(lambda n: today + dt.timedelta(days=n))
    open_near = near.filter(lambda day: not office_closed(day))
    day = draw(open_near | open_near | near | st.dates(FIRST_DAY, LAST_DAY))
    minutes = draw(st.sampled_from([10, 15, 30, 45, 60, 90]) | st.integers(1, 240))
    slots = slot_starts(counter, day)
    taken = {}
    if slots:
        counts = st.dictionaries(st.sampled_from(slots), st.integers(0, counter.capacity + 1))
        booked_out = dict.fromkeys(slots, counter.capacity)
        taken = draw(counts | counts.map(lambda freed: booked_out | freed))  # full, a few freed
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        start = dt.datetime.combine(day, dt.time(), tzinfo=TOKYO) + dt.timedelta(
            minutes=draw(st.integers(0, 24 * 12)) * 5
        )
        length = dt.timedelta(minutes=draw(st.integers(1, 8 * 12)) * 5)
        closures.append((start, start + length))
    return counter, day, now, minutes, closures, taken


def opening_of(counter: Booking, day: dt.date) -> OpeningDay | None:
    weekday = WEEKDAYS[day.weekday()]
    return next((opening for opening in counter.days if opening.weekday == weekday), None)


def clock_time(day: dt.date, text: str) -> dt.datetime:
    hour, minute = map(int, text.split(":"))
    return at(hour, minute, day)


def expected_starts(counter, day, now, minutes, closures, taken) -> list[dt.datetime]:
    """The rules of issue 9 written out again, slot by slot, as a second opinion."""
    opening = opening_of(counter, day)
    today = now.astimezone(TOKYO).date()
    if opening is None or office_closed(day) or not 0 <= (day - today).days <= counter.horizon_days:
        return []
    slot = dt.timedelta(minutes=counter.slot_minutes)
    needed = -(-(minutes + counter.buffer_minutes) // counter.slot_minutes)
    opens, closes = clock_time(day, opening.open), clock_time(day, opening.close)
    pauses = [(clock_time(day, p.start), clock_time(day, p.end)) for p in opening.breaks]
    result = []
    start = opens
    while start < closes:
        end = start + needed * slot
        covered = [start + i * slot for i in range(needed)]
        if (
            end <= closes
            and start >= now + dt.timedelta(hours=counter.minimum_notice_hours)
            and not any(start < b_end and b_start < end for b_start, b_end in pauses)
            and not any(start < c_end and c_start < end for c_start, c_end in closures)
            and all(taken.get(s, 0) < counter.capacity for s in covered)
        ):
            result.append(start)
        start += slot
    return result


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_every_bookable_start_keeps_every_rule(scenario):
    counter, day, now, minutes, closures, taken = scenario
    starts = bookable_starts(counter, day, minutes, now, closures, taken)
    opening = opening_of(counter, day)
    slot = dt.timedelta(minutes=counter.slot_minutes)
    needed = slots_needed(counter, minutes)
    for start in starts:
        end = start + needed * slot
        assert start.tzinfo is TOKYO and start.date() == day
        assert not office_closed(day)
        assert 0 <= (day - now.astimezone(TOKYO).date()).days <= counter.horizon_days
        assert start >= now + dt.timedelta(hours=counter.minimum_notice_hours)
        assert opening is not None
        assert clock_time(day, opening.open) <= start
        assert end <= clock_time(day, opening.close)
        assert (start - clock_time(day, opening.open)) % slot == dt.timedelta(0)
        for pause in opening.breaks:
            assert end <= clock_time(day, pause.start) or clock_time(day, pause.end) <= start
        for c_start, c_end in closures:
            assert end <= c_start or c_end <= start
        for covered in covered_slots(counter, start, minutes):
            assert covered in slot_starts(counter, day)
            assert taken.get(covered, 0) < counter.capacity
    assert starts == sorted(set(starts))


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_bookable_starts_are_exactly_the_starts_the_rules_allow(scenario):
    counter, day, now, minutes, closures, taken = scenario
    starts = bookable_starts(counter, day, minutes, now, closures, taken)
    assert starts == expected_starts(counter, day, now, minutes, closures, taken)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_bookings_and_closures_only_ever_remove_starts(scenario):
    counter, day, now, minutes, closures, taken = scenario
    everything = set(bookable_starts(counter, day, minutes, now))
    assert set(bookable_starts(counter, day, minutes, now, closures, taken)) <= everything
    assert set(bookable_starts(counter, day, minutes, now, closures)) <= everything
    assert set(bookable_starts(counter, day, minutes, now, (), taken)) <= everything


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_day_status_agrees_with_the_starts(scenario):
    counter, day, now, minutes, closures, taken = scenario
    status = day_status(counter, day, minutes, now, closures, taken)
    has_starts = bool(bookable_starts(counter, day, minutes, now, closures, taken))
    would_have = bool(bookable_starts(counter, day, minutes, now, closures))
    assert status == ("open" if has_starts else "full" if would_have else "closed")
    today = now.astimezone(TOKYO).date()
    if office_closed(day) or not 0 <= (day - today).days <= counter.horizon_days:
        assert status == "closed"
    if opening_of(counter, day) is None:
        assert status == "closed"


@settings(max_examples=30, deadline=None)
@given(scenarios())
def test_the_month_calendar_is_the_status_of_each_day(scenario):
    counter, day, now, minutes, closures, taken = scenario
    month = day.replace(day=1)
    days = calendar_days(counter, month, minutes, now, closures, taken)
    assert [d.month for d, _ in days] == [month.month] * len(days)
    assert all(
        status == day_status(counter, d, minutes, now, closures, taken) for d, status in days
    )
