"""Issue 22, decision 0078: the 転出証明書情報 of a resident moving in (applicant.incoming_*), the
主治医 of the last care certification (subject.care_doctor / care_clinic) and the resident's own
phone for the person the application is about (subject.phone)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.catalog.checks import _check_prefill
from portal.catalog.schema import Field
from portal.records.mock import MockResidentRecords
from portal.submissions.prefill import Applicant, Subject, prefill_answers
from tests.unit.test_prefill import PERSONAS, LogOnly, applicant, procedure

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo
TODAY = dt.date(2026, 11, 22)

MOVERS = Field(
    name="movers",
    type="group",
    label="転入する方",
    fields=[
        {"name": "name", "type": "text", "label": "氏名"},
        {"name": "kana", "type": "kana", "label": "フリガナ"},
        {"name": "birth_date", "type": "date", "label": "生年月日"},
        {
            "name": "relationship",
            "type": "select",
            "label": "続柄",
            "options": [{"value": "head", "label": "世帯主"}, {"value": "child", "label": "子"}],
        },
        {"name": "has_card", "type": "yesno", "label": "カード"},
    ],
    prefill={
        "source": "applicant.incoming_movers",
        "map": {
            "name": "name",
            "kana": "kana",
            "birth_date": "birth_date",
            "relationship": "relationship",
            "has_card": "has_card",
        },
    },
)
MOVE_FIELDS = (
    Field(
        name="new_address",
        type="address",
        label="新しい住所",
        prefill={"source": "applicant.incoming_address"},
    ),
    Field(
        name="move_date",
        type="date",
        label="住み始める日",
        prefill={"source": "applicant.incoming_move_date"},
    ),
    Field(
        name="status",
        type="radio",
        label="転出届",
        options=[{"value": "online", "label": "オンライン"}, {"value": "paper", "label": "紙"}],
        prefill={"source": "applicant.incoming_tenshutsu"},
    ),
    MOVERS,
)


@pytest.fixture
def log():
    return LogOnly()


@pytest.fixture
def records(log):
    return MockResidentRecords(PERSONAS, lambda: log, now_fn=lambda: NOW)


def test_the_moving_out_notice_fills_the_move_of_a_resident_moving_in(records, log):
    answers, sources = prefill_answers(
        procedure(*MOVE_FIELDS), applicant("mover"), Subject("mover", True), records, "r", TODAY
    )
    assert answers["new_address"] == {
        "postal_code": "2980004",
        "prefecture": "千葉県",
        "city": "いすみ市",
        "town": "大原",
        "block": "8000番地",
        "building": "大原コーポ202号室（デモ）",
    }
    assert answers["move_date"] == "2026-11-27"  # the demo keeps it five days ahead
    assert answers["status"] == "online"
    # the filer first; only the card she logged in with is known, her son's is hers to say
    assert answers["movers"] == [
        {
            "name": "山本 結衣",
            "kana": "ヤマモト ユイ",
            "birth_date": "1992-09-12",
            "relationship": "head",
            "has_card": True,
        },
        {
            "name": "山本 湊",
            "kana": "ヤマモト ミナト",
            "birth_date": "2021-06-03",
            "relationship": "child",
        },
    ]
    assert set(sources.values()) == {"move-notice"}
    # one read of the notice, logged under her record id
    assert [(row.person_id, row.record) for row in log.rows] == [("mover", "incoming_move")]


def test_without_a_notice_the_move_is_typed(records):
    # 岬 花子 has not filed an online 転出届 anywhere: nothing is filled, everything is asked
    answers, sources = prefill_answers(
        procedure(*MOVE_FIELDS), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers == {} and sources == {}
    # nor for a resident the records cannot identify
    unknown = Applicant(card={"name": "誰か"}, person_id=None)
    assert prefill_answers(
        procedure(*MOVE_FIELDS), unknown, Subject(None, True), records, "r", TODAY
    ) == ({}, {})


def test_the_catalog_check_keeps_the_notice_sources_to_their_fields():
    radio = Field.model_validate(
        MOVE_FIELDS[2].model_dump() | {"options": [{"value": "paper", "label": "紙"}]}
    )
    assert _check_prefill(radio, "f") == [
        "f.options: applicant.incoming_tenshutsu needs an option 'online'"
    ]
    household = Field.model_validate(
        MOVERS.model_dump()
        | {"prefill": MOVERS.prefill.model_dump() | {"source": "subject.household"}}
    )
    assert "f.prefill.map: has_card is for applicant.incoming_movers" in _check_prefill(
        household, "f"
    )
    assert _check_prefill(MOVERS, "f") == []


DOCTOR = (
    Field(
        name="doctor_name", type="text", label="主治医", prefill={"source": "subject.care_doctor"}
    ),
    Field(
        name="clinic_name", type="text", label="医療機関", prefill={"source": "subject.care_clinic"}
    ),
)


def test_the_doctor_of_the_last_certification_comes_from_the_care_records(records):
    answers, sources = prefill_answers(
        procedure(*DOCTOR), applicant("elderly"), Subject("elderly", True), records, "r", TODAY
    )
    assert answers == {"doctor_name": "大原 誠", "clinic_name": "いすみ中央クリニック（デモ）"}
    assert set(sources.values()) == {"records"}
    # never certified (or no doctor on record): asked
    assert prefill_answers(
        procedure(*DOCTOR), applicant("expired"), Subject("expired", True), records, "r", TODAY
    ) == ({}, {})


PHONE = Field(name="insured_phone", type="tel", label="電話", prefill={"source": "subject.phone"})


def test_the_remembered_phone_fills_the_insured_persons_phone_only_for_oneself(records):
    elderly = Applicant(
        card=PERSONAS["elderly"].four_items(),
        person_id="elderly",
        contact={"phone": "090-1234-5678"},
    )
    answers, sources = prefill_answers(
        procedure(PHONE), elderly, Subject("elderly", True), records, "r", TODAY
    )
    assert answers == {"insured_phone": "090-1234-5678"} and sources == {
        "insured_phone": "remembered"
    }
    # a family member applying for her: their own phone is not the insured person's
    daughter = Applicant(
        card=PERSONAS["family"].four_items(), person_id="family", contact={"phone": "090-9999-0000"}
    )
    assert prefill_answers(
        procedure(PHONE), daughter, Subject("elderly", False), records, "r", TODAY
    ) == ({}, {})


NUMBER = Field(
    name="recipient_number",
    type="text",
    label="受給者番号",
    required=False,
    prefill={"source": "applicant.child_allowance_number"},
)


def test_the_child_allowance_number_comes_from_the_citys_register(records, log):
    answers, sources = prefill_answers(
        procedure(NUMBER), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers == {"recipient_number": "J-001234"} and sources == {
        "recipient_number": "records"
    }
    assert ("parent", "child_allowance_number") in [(r.person_id, r.record) for r in log.rows]
    # her husband does not receive it: asked (and optional) as before
    assert prefill_answers(
        procedure(NUMBER), applicant("spouse"), Subject("spouse", True), records, "r", TODAY
    ) == ({}, {})
