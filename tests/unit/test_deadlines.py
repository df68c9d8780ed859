"""Deadlines counted as the law counts them, with worked examples (the calendar is 2026-2027)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.catalog.schema import DeadlineCounting
from portal.deadlines import deadline, next_open_day, office_closed

D = dt.date
BIRTH = DeadlineCounting(
    days=14, event="出生の日", first_day="included", law="戸籍法第43条・第49条"
)
DEATH = DeadlineCounting(
    days=7, event="死亡の事実を知った日", first_day="included", law="戸籍法第43条・第86条"
)
MOVE_IN = DeadlineCounting(
    days=14, event="転入した日", first_day="excluded", law="住民基本台帳法第22条、民法第140条"
)
ABROAD = DeadlineCounting(months=3, event="出生の日", first_day="included", law="戸籍法第49条")


@pytest.mark.parametrize(
    ("counting", "event", "expected", "why"),
    [
        (BIRTH, D(2026, 11, 20), D(2026, 12, 3), "the birth date is day 1: 20 Nov + 13 days"),
        (BIRTH, D(2026, 12, 17), D(2027, 1, 4), "30 Dec is in the year-end closure: next open day"),
        (DEATH, D(2026, 11, 17), D(2026, 11, 24), "23 Nov is 勤労感謝の日: moves to Tuesday"),
        (DEATH, D(2026, 11, 11), D(2026, 11, 17), "11 Nov is day 1: 17 Nov, a Tuesday"),
        (MOVE_IN, D(2026, 11, 20), D(2026, 12, 4), "民法: the day after the move is day 1"),
        (MOVE_IN, D(2026, 12, 19), D(2027, 1, 4), "2 Jan (year-end closure, Saturday) moves on"),
        (MOVE_IN, D(2026, 9, 7), D(2026, 9, 24), "21-23 Sep 2026 are holidays: 21 Sep → 24 Sep"),
        (ABROAD, D(2026, 11, 10), D(2027, 2, 9), "3 months from 10 Nov end on 9 Feb"),
        (ABROAD, D(2026, 11, 30), D(2027, 3, 1), "no 30 Feb: end of Feb (a Sunday) → 1 Mar"),
    ],
)
def test_worked_examples(counting, event, expected, why):
    assert deadline(event, counting) == expected, why


def test_the_first_day_rule_makes_one_day_of_difference():
    included = BIRTH.model_copy(update={"closed_day": "no_change"})
    excluded = MOVE_IN.model_copy(update={"closed_day": "no_change"})
    event = D(2027, 4, 1)
    assert deadline(event, included) == D(2027, 4, 14)
    assert deadline(event, excluded) == D(2027, 4, 15)


def test_a_deadline_that_does_not_move():
    fixed = BIRTH.model_copy(update={"closed_day": "no_change"})
    assert deadline(D(2026, 12, 17), fixed) == D(2026, 12, 30)


def test_office_days():
    assert office_closed(D(2026, 11, 21))  # Saturday
    assert office_closed(D(2026, 11, 23))  # 勤労感謝の日
    assert office_closed(D(2026, 9, 22))  # 国民の休日 between two holidays
    for day in (29, 30, 31):
        assert office_closed(D(2026, 12, day))
    assert office_closed(D(2027, 1, 2)) and office_closed(D(2027, 1, 3))
    assert not office_closed(D(2026, 12, 28)) and not office_closed(D(2027, 1, 4))
    assert next_open_day(D(2026, 12, 29)) == D(2027, 1, 4)


def test_counting_needs_days_or_months():
    with pytest.raises(ValueError):
        DeadlineCounting(event="x", first_day="included", law="y")
    with pytest.raises(ValueError):
        DeadlineCounting(days=1, months=1, event="x", first_day="included", law="y")
