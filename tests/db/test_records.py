"""Mock resident records on the real database: the answers procedures rely on, and one
record_reads row per call, holding who read which record of whom and why, never the data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from portal.db import Base
from portal.demo_data.people import REFERENCE_DATE, load_personas

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
READER = "submission:ABC123"
PURPOSE = "児童手当 認定請求: 世帯の確認"


@pytest.fixture(scope="module")
def record_reads(engine):
    """The RecordRead model, with its table.

    Until the integrator's migration adds record_reads, the migrated test database lacks it:
    create it here and, if it was created here, drop it afterwards and take it out of
    Base.metadata again, so that clean_db and the migration check of other tests never see a
    table that only this module made. The import is deferred for the same reason: collecting
    this file must not register the table.
    """
    from portal.records.models import RecordRead

    existed = inspect(engine).has_table(RecordRead.__tablename__)
    RecordRead.__table__.create(engine, checkfirst=True)
    yield RecordRead
    if not existed:
        RecordRead.__table__.drop(engine)
        Base.metadata.remove(RecordRead.__table__)


@pytest.fixture
def session(engine, record_reads, clean_db):
    with Session(engine) as session:
        yield session


@pytest.fixture
def records(session):
    from portal.records.mock import MockResidentRecords

    return MockResidentRecords(load_personas(), session, lambda: NOW)


def _reads(session, record_reads):
    rows = session.scalars(select(record_reads).order_by(record_reads.id)).all()
    return [(r.reader, r.person_id, r.record, r.purpose, r.at) for r in rows]


def test_household_of_the_parent(records, session, record_reads):
    household = records.household("parent", reader=READER, purpose=PURPOSE)
    assert household.household_id == "hh-0002"
    assert household.head_person_id == "parent"
    assert household.address == "千葉県いすみ市岬町和泉567番地"
    assert [(m.person_id, m.relationship) for m in household.members] == [
        ("parent", "head"),
        ("spouse", "spouse"),
        ("child-1", "child"),
        ("child-2", "child"),
    ]
    assert [m.age(REFERENCE_DATE) for m in household.members] == [36, 38, 7, 3]
    assert household.members[1].name == "岬 健一"
    assert _reads(session, record_reads) == [(READER, "parent", "household", PURPOSE, NOW)]


def test_household_of_a_child_is_the_same_household(records):
    household = records.household("child-2", reader=READER, purpose=PURPOSE)
    assert household.head_person_id == "parent"
    assert len(household.members) == 4


def test_children(records, session, record_reads):
    children = records.children("parent", reader="staff:42", purpose="児童手当 審査")
    assert [(c.person_id, c.name, c.age(REFERENCE_DATE), c.same_household) for c in children] == [
        ("child-1", "岬 蒼", 7, True),
        ("child-2", "岬 ひなた", 3, True),
    ]
    # The elderly resident's daughter lives in Mobara: a child, but not in the household.
    (daughter,) = records.children("elderly", reader="staff:42", purpose="介護 家族確認")
    assert (daughter.person_id, daughter.same_household) == ("family", False)
    assert records.children("adult", reader="staff:42", purpose="児童手当 審査") == ()
    assert [(r[1], r[2]) for r in _reads(session, record_reads)] == [
        ("parent", "children"),
        ("elderly", "children"),
        ("adult", "children"),
    ]


def test_insurance_of_the_elderly(records, session, record_reads):
    status = records.insurance("elderly", reader="submission:KAIGO1", purpose="介護保険 更新申請")
    assert (status.kind, status.nursing_care_level, status.nursing_care_insured_number) == (
        "late-elderly",
        "support-2",
        "9900000001",
    )
    adult = records.insurance("adult", reader="submission:KAIGO1", purpose="介護保険 更新申請")
    assert (adult.kind, adult.nursing_care_level, adult.nursing_care_insured_number) == (
        "employee",
        None,
        None,
    )
    reads = _reads(session, record_reads)
    assert reads[0] == ("submission:KAIGO1", "elderly", "insurance", "介護保険 更新申請", NOW)
    assert len(reads) == 2


def test_address_history_of_the_resident_who_moved(records):
    history = records.address_history("moved", reader=READER, purpose="転入 確認")
    assert [(h.address, h.postal_code, h.moved_in, h.moved_out) for h in history] == [
        (
            "千葉県茂原市千代田町1丁目5番6号 グリーンコート茂原305号室",
            "2970023",
            dt.date(2019, 4, 1),
            dt.date(2026, 10, 15),
        ),
        ("千葉県いすみ市大原台246番地", "2980014", dt.date(2026, 10, 15), None),
    ]


def test_tax_status(records, session, record_reads):
    adult = records.tax_status("adult", 2025, reader=READER, purpose="保育料 算定")
    assert (adult.year, adult.income, adult.taxable) == (2025, 5_200_000, True)
    elderly = records.tax_status("elderly", 2025, reader=READER, purpose="保育料 算定")
    assert (elderly.income, elderly.taxable) == (1_450_000, False)
    from portal.records.base import RecordNotFound

    with pytest.raises(RecordNotFound, match="not assessed yet"):
        records.tax_status("adult", 2026, reader=READER, purpose="保育料 算定")
    assert [r[2] for r in _reads(session, record_reads)] == [
        "tax_status:2025",
        "tax_status:2025",
        "tax_status:2026",  # the attempt is logged too
    ]


def test_unknown_person_is_logged_and_not_found(records, session, record_reads):
    from portal.records.base import RecordNotFound

    with pytest.raises(RecordNotFound):
        records.insurance("nobody", reader=READER, purpose=PURPOSE)
    assert _reads(session, record_reads) == [(READER, "nobody", "insurance", PURPOSE, NOW)]


def test_each_call_writes_one_row_without_personal_data(records, session, record_reads):
    calls = [
        lambda: records.household("parent", reader=READER, purpose=PURPOSE),
        lambda: records.children("parent", reader=READER, purpose=PURPOSE),
        lambda: records.address_history("parent", reader=READER, purpose=PURPOSE),
        lambda: records.insurance("parent", reader=READER, purpose=PURPOSE),
        lambda: records.tax_status("parent", 2025, reader=READER, purpose=PURPOSE),
    ]
    for count, call in enumerate(calls, start=1):
        call()
        assert len(_reads(session, record_reads)) == count
    session.commit()
    with Session(session.bind) as fresh:
        rows = fresh.scalars(select(record_reads)).all()
        stored = " ".join(
            str(getattr(row, column.key)) for row in rows for column in record_reads.__table__.c
        )
    assert len(rows) == 5
    assert {row.record for row in rows} == {
        "household",
        "children",
        "address_history",
        "insurance",
        "tax_status:2025",
    }
    personas = load_personas()
    for person_id in ("parent", "spouse", "child-1", "child-2"):
        persona = personas[person_id]
        for value in (
            persona.name,
            persona.kana,
            persona.my_number,
            persona.birth_date.isoformat(),
            persona.address.town,
        ):
            assert value not in stored, value
    assert str(personas["parent"].records.income_last_year) not in stored
    assert "parent" in stored and READER in stored  # the check above looks at the right text


def test_the_log_row_belongs_to_the_callers_transaction(records, session, record_reads):
    records.household("adult", reader=READER, purpose=PURPOSE)
    assert len(_reads(session, record_reads)) == 1  # flushed ...
    session.rollback()  # ... not committed
    with Session(session.bind) as fresh:
        assert fresh.scalars(select(record_reads)).all() == []


def test_session_getter_is_called_per_read(engine, record_reads, clean_db):
    from portal.records.mock import MockResidentRecords

    with Session(engine) as session:
        calls = []

        def current_session():
            calls.append(1)
            return session

        records = MockResidentRecords(load_personas(), current_session, lambda: NOW)
        records.insurance("elderly", reader=READER, purpose=PURPOSE)
        records.insurance("elderly", reader=READER, purpose=PURPOSE)
        assert len(calls) == 2
        assert len(_reads(session, record_reads)) == 2
        session.rollback()

    with pytest.raises(TypeError, match="Session or a function"):
        MockResidentRecords(load_personas(), sessionmaker(engine), lambda: NOW)


def test_reader_and_purpose_are_required(records, session, record_reads):
    with pytest.raises(ValueError, match="reader"):
        records.household("parent", reader="", purpose=PURPOSE)
    with pytest.raises(ValueError, match="purpose"):
        records.household("parent", reader=READER, purpose="x" * 201)
    assert _reads(session, record_reads) == []
