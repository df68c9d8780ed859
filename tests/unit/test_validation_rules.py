"""Validation rules of issue 22, at the unit level: names refuse characters a registered name
cannot hold and take half-width kana as full-width; visit dates only on the days the offices are
open; start dates not in the past where the procedure says so; the reason is in each message."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict

from portal import japanese
from portal.catalog import load_catalog, logic
from portal.catalog.schema import Field
from portal.office_days import next_open_day, office_closed
from tests.catalog_files import ENTRY
from tests.unit.test_fields import FakeContext

CATALOG = load_catalog(ENTRY)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("大原 太郎", "大原 太郎"),
        ("ｵｵﾊﾗ ﾀﾛｳ", "オオハラ タロウ"),
        ("ｶﾞｯｺｳ  ﾊﾟﾝ", "ガッコウ パン"),
        ("GONZALEZ RODRIGUEZ MARIA", "GONZALEZ RODRIGUEZ MARIA"),
        ("葛\U000e0100城 花子", "葛\U000e0100城 花子"),  # a kanji with its variation selector
    ],
)
def test_a_name_is_normalised(typed, stored):
    assert japanese.normalize_name(typed) == stored


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("岬 花子😀", "😀"), ("ハナ♡", "♡"), ("はな★ゆき☆", "★☆"), ("👨‍👩‍👧", "👨")],
)
def test_a_name_with_emoji_or_symbols_is_refused_saying_which(typed, shown):
    with pytest.raises(japanese.InputError) as refused:
        japanese.normalize_name(typed)
    assert f"登録できない文字（{shown}" in str(refused.value)
    assert "絵文字や記号は使えません" in str(refused.value)


def _read(f: Field, form: dict):
    return f.field_type.read_input(f, FakeContext(MultiDict(form)), f.name)


def test_a_person_field_refuses_emoji_and_keeps_what_was_typed():
    f = Field(name="p", type="person", label="妊娠している方")
    typed = {"p.name": "大原 花子🌸", "p.kana": "オオハラ ハナコ", "p.birth_date": "平成7年6月15日"}
    parsed = _read(f, typed)
    assert parsed.value is None
    assert parsed.errors["p.name"].startswith("妊娠している方の氏名に登録できない文字（🌸）")
    assert parsed.raw["name"] == "大原 花子🌸"  # shown again as typed

    parsed = _read(f, typed | {"p.name": "ｵｵﾊﾗ ﾊﾅｺ"})
    assert parsed.errors == {}
    assert parsed.value["name"] == "オオハラ ハナコ"


def test_a_text_field_for_a_name_refuses_emoji_but_other_text_does_not():
    name = Field(name="n", type="text", label="世帯主の氏名", max_length=100)
    assert "登録できない文字（🏠）" in _read(name, {"n": "岬 健一🏠"}).errors["n"]
    assert _read(name, {"n": "ﾐｻｷ ｹﾝｲﾁ"}).value == "ミサキ ケンイチ"
    other = Field(name="t", type="text", label="使いみち（具体的に）", max_length=100)
    assert _read(other, {"t": "ローンの申込🏠"}).value == "ローンの申込🏠"


def test_offices_are_closed_on_weekends_holidays_and_the_year_end():
    assert office_closed(dt.date(2026, 12, 5))  # Saturday
    assert office_closed(dt.date(2026, 11, 23))  # 勤労感謝の日
    assert office_closed(dt.date(2026, 12, 29))  # 年末年始
    assert not office_closed(dt.date(2026, 12, 7))  # Monday
    assert next_open_day(dt.date(2026, 12, 29)) == dt.date(2027, 1, 4)


def _errors(procedure_id: str, step_id: str, answers: dict, today: dt.date) -> dict[str, str]:
    step = CATALOG.procedure(procedure_id).step(step_id)
    return logic.check_errors(step, answers, today)


@pytest.mark.parametrize(
    ("procedure_id", "step_id", "answers", "counter"),
    [
        ("tennyu-yoyaku", "dates", {"move_date": "2026-12-07", "visit_time": "morning"}, "市民課"),
        ("jidofuyo-genkyo", "income", {"visit_time": "morning"}, "子育て支援課"),
    ],
)
def test_a_visit_date_must_be_an_open_day_and_says_why(procedure_id, step_id, answers, counter):
    today = dt.date(2026, 12, 4)  # a Friday
    sunday, monday = "2026-12-13", "2026-12-14"
    errors = _errors(procedure_id, step_id, answers | {"visit_date": sunday}, today)
    assert (
        "市役所が閉まっています（土曜・日曜・祝日と12月29日から1月3日はお休みです）"
        in (errors["visit_date"])
    )
    assert counter in errors["visit_date"]
    assert "visit_date" not in _errors(
        procedure_id, step_id, answers | {"visit_date": monday}, today
    )


def test_a_nursery_start_date_in_the_past_is_refused_with_the_reason():
    today = dt.date(2026, 12, 4)
    errors = _errors("hoiku-riyou", "preferences", {"start_date": "2026-12-01"}, today)
    assert "利用調整（選考）で決まるため、過去の日からは入所できません" in errors["start_date"]
    assert "start_date" not in _errors(
        "hoiku-riyou", "preferences", {"start_date": "2027-04-01"}, today
    )
    errors = _errors("kyufu-nintei", "application", {"start_date": "2026-12-01"}, today)
    assert "さかのぼって始められません" in errors["start_date"]


def test_example_visit_dates_fall_on_open_days():
    for day in range(14):
        today = dt.date(2026, 12, 1) + dt.timedelta(days=day)
        resolved = logic.resolve_examples("today+8 open", today)
        assert not office_closed(dt.date.fromisoformat(resolved))
