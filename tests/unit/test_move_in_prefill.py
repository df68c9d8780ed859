"""subject.moved_in_date and subject.previous_municipality (decision 0083): the 転入届 as the
住民票 records it fills 住所移転後の要介護認定's 「いすみ市に引っ越した日」 and 「前に住んでいた市区
町村」, one logged read; nothing for a resident the records show no 転入 for."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.catalog.schema import Field
from portal.records.mock import MockResidentRecords
from portal.submissions.prefill import Applicant, Subject, prefill_answers
from tests.unit.test_deceased_and_public_funds import NOW, PERSONAS, TODAY
from tests.unit.test_prefill import LogOnly, procedure


@pytest.fixture
def log():
    return LogOnly()


@pytest.fixture
def records(log):
    return MockResidentRecords(PERSONAS, lambda: log, now_fn=lambda: NOW)


FIELDS = [
    Field(
        name="moved_in_date",
        type="date",
        label="いすみ市に引っ越した日",
        prefill={"source": "subject.moved_in_date"},
    ),
    Field(
        name="previous_city",
        type="text",
        label="前に住んでいた市区町村",
        prefill={"source": "subject.previous_municipality"},
    ),
]


def fill(records, persona_id: str):
    return prefill_answers(
        procedure(*FIELDS),
        Applicant(card=PERSONAS[persona_id].four_items(), person_id=persona_id),
        Subject(persona_id, readable=True),
        records,
        reader="submission:TEST",
        today=TODAY,
    )


def test_the_move_in_comes_from_the_resident_record(records, log):
    answers, sources = fill(records, "elderly")
    assert answers == {
        "moved_in_date": (NOW.date() - dt.timedelta(days=5)).isoformat(),
        "previous_city": "千葉県茂原市",
    }
    assert set(sources.values()) == {"records"}
    assert [(r.person_id, r.record) for r in log.rows if r.record == "move_in"] == [
        ("elderly", "move_in")
    ]
    # A resident who moved in from another city earlier: the 住民票's date and 前住所.
    move = records.move_in("moved", reader="r", purpose="p")
    assert (move.moved_in, move.previous_city) == (dt.date(2026, 10, 15), "茂原市")
    # Nobody recorded as moving in: nothing filled, the resident types.
    assert fill(records, "parent") == ({}, {})
