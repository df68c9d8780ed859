"""Dates whose year may be left out (decision 0088): 転出届 and 転入予約 ask for a move date and a
visit date near today; a resident types 12月14日 and the portal reads the nearest 12月14日."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from portal import clock, japanese
from portal.catalog import load_catalog
from portal.catalog.checks import _check_shortcuts
from portal.catalog.schema import Field

ROOT = Path(__file__).resolve().parents[2]
NEAR = dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12月14日", dt.date(2026, 12, 14)),
        ("１２月１４日", dt.date(2026, 12, 14)),  # full-width digits
        ("12/14", dt.date(2026, 12, 14)),
        ("12-01", dt.date(2026, 12, 1)),
        ("12月1日", dt.date(2026, 12, 1)),  # six days ago: nearer than next year's
        ("1月5日", dt.date(2027, 1, 5)),  # across the new year
        ("1/5", dt.date(2027, 1, 5)),
        ("11月20日", dt.date(2026, 11, 20)),
        ("令和8年12月14日", dt.date(2026, 12, 14)),  # a full date still works
        ("2026-12-14", dt.date(2026, 12, 14)),
    ],
)
def test_a_month_and_a_day_mean_the_nearest_such_day(text, expected):
    assert japanese.parse_date(text, near=NEAR) == expected


def test_in_december_a_january_date_is_next_year_and_in_january_a_december_date_last_year():
    assert japanese.parse_date("1月3日", near=dt.date(2026, 12, 28)) == dt.date(2027, 1, 3)
    assert japanese.parse_date("12月28日", near=dt.date(2027, 1, 3)) == dt.date(2026, 12, 28)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("13月1日", "13月1日は存在しない日付です"),
        ("2月30日", "2月30日は存在しない日付です"),
        ("2/29", "2月29日は存在しない日付です"),  # no 29 February within a year of NEAR
        ("12月", "正しい日付ではありません"),
    ],
)
def test_an_impossible_month_and_day_is_refused_with_a_message(text, message):
    with pytest.raises(japanese.InputError, match=message):
        japanese.parse_date(text, near=NEAR)


def test_without_near_a_month_and_a_day_alone_are_refused():
    with pytest.raises(japanese.InputError, match="正しい日付ではありません"):
        japanese.parse_date("12月14日")


def test_the_field_reads_a_month_and_day_only_where_the_catalog_allows_it(app):
    catalog = load_catalog(ROOT / "procedure_catalog.yaml")
    tenshutsu = catalog.procedure("tenshutsu")
    fields = {f.name: f for f in tenshutsu.steps[0].fields}
    move, birth = fields["move_date"], fields["movers"].fields[2]
    assert move.year_optional and not birth.year_optional
    clock.set_override(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC))
    with app.test_request_context():
        assert move.field_type.parse(move, "12月14日") == ("2026-12-14", None)
        assert move.field_type.parse(move, "1/5") == ("2027-01-05", None)
        value, error = birth.field_type.parse(birth, "4月10日")  # a birth date needs its year
        assert value is None and "生年月日は正しい日付ではありません" in error


def test_the_catalog_check_allows_year_optional_on_date_fields_only():
    date = Field(name="move_date", type="date", label="引っ越す日", year_optional=True)
    text = Field(name="note", type="text", label="メモ", year_optional=True)
    assert _check_shortcuts(date, "f", set()) == []
    assert _check_shortcuts(text, "f", set()) == [
        "f.year_optional: only for a date field, not text"
    ]
