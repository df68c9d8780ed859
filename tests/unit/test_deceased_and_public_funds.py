"""Decision 0076 at the unit level: the deceased person from the city's removal records (除票)
fills only when exactly one recent death ties to the resident (and, with `had:`, the one with
that insurance or allowance); the registered 公金受取口座 is read for the resident's own
payments only; the catalog check keeps both mechanisms where they fit."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import clock
from portal.catalog.checks import _check_prefill, _check_public_funds
from portal.catalog.schema import Field
from portal.demo_data.people import load_personas, load_removed
from portal.records.mock import MockResidentRecords
from portal.submissions import public_funds
from portal.submissions.models import Submission
from portal.submissions.prefill import Applicant, Subject, prefill_answers
from tests.unit.test_prefill import LogOnly, procedure

PERSONAS = load_personas()
TODAY = dt.date(2026, 11, 22)
NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo


@pytest.fixture
def log():
    return LogOnly()


@pytest.fixture
def records(log):
    return MockResidentRecords(PERSONAS, lambda: log, now_fn=lambda: NOW, removed=load_removed())


def fields(had: str | None) -> list[Field]:
    spec = {"had": had} if had else {}
    return [
        Field(
            name="deceased",
            type="person",
            label="亡くなった方",
            prefill={"source": "deceased.person", **spec},
        ),
        Field(
            name="death_date",
            type="date",
            label="亡くなった日",
            prefill={"source": "deceased.death_date", **spec},
        ),
        Field(
            name="deceased_address",
            type="address",
            label="住所",
            prefill={"source": "deceased.address", **spec},
        ),
        Field(
            name="number",
            type="text",
            label="被保険者番号",
            required=False,
            prefill={"source": "deceased.insured_number", **spec},
        ),
    ]


def fill(records, persona_id: str, had: str | None, today: dt.date = TODAY):
    return prefill_answers(
        procedure(*fields(had)),
        Applicant(card=PERSONAS[persona_id].four_items(), person_id=persona_id),
        Subject(persona_id, readable=True),
        records,
        reader="submission:TEST",
        today=today,
    )


def test_the_removal_record_fills_the_one_deceased_person_with_that_insurance(records, log):
    answers, sources = fill(records, "parent", "national")
    assert answers["deceased"]["name"] == "和泉 正男"
    assert answers["deceased"]["kana"] == "イズミ マサオ"
    assert answers["deceased"]["birth_date"] == "1957-02-11"
    assert answers["death_date"] == (TODAY - dt.timedelta(days=20)).isoformat()
    assert answers["deceased_address"]["town"] == "岬町和泉"
    assert answers["number"] == "千い-123456"
    assert set(sources.values()) == {"records"}
    # one read of the removal records, logged under the submission (not one per field)
    assert [(r.reader, r.person_id, r.record) for r in log.rows] == [
        ("submission:TEST", "parent", "deceased_relatives")
    ]
    answers, _sources = fill(records, "parent", "late-elderly")
    assert answers["deceased"]["name"] == "岬 ハル"
    assert answers["number"] == "99001234"


def test_nothing_is_filled_for_two_deaths_none_or_an_old_one(records):
    # Two deaths in the household and no `had:`: the resident says which (types it).
    assert fill(records, "parent", None) == ({}, {})
    # No 児童手当 recipient among them; nobody tied to 大原 太郎 at all.
    assert fill(records, "parent", "jidou-teate") == ({}, {})
    assert fill(records, "adult", "national") == ({}, {})
    # The spouse is tied through his mother (children) and the household.
    answers, _sources = fill(records, "spouse", "late-elderly")
    assert answers["deceased"]["name"] == "岬 ハル"
    # More than two years after the death (the demo's deaths stay recent, so the date of the
    # prefill moves instead): no longer offered, the claims have lapsed.
    assert fill(records, "parent", "national", TODAY + dt.timedelta(days=731)) == ({}, {})
    assert fill(records, "parent", "national", TODAY + dt.timedelta(days=700))[0]


def test_the_registry_gives_the_registered_account_or_none(records, log):
    account = records.public_funds_account("parent", reader="r", purpose="p")
    assert (account.bank_code, account.account_number, account.holder_kana) == (
        "0134",
        "1234567",
        "ミサキ ハナコ",
    )
    assert records.public_funds_account("adult", reader="r", purpose="p") is None
    assert [row.record for row in log.rows] == ["public_funds_account"] * 2


def test_the_account_is_shown_masked():
    from portal.records.base import RegisteredAccount

    text = public_funds.masked(
        RegisteredAccount("0134", "243", "ordinary", "1234567", "ミサキ ハナコ")
    )
    assert "●●●●567" in text and "1234567" not in text and text.endswith("ミサキ ハナコ")
    assert text.startswith("千葉 御宿 普通")  # bank and branch names from their codes


ACCOUNT_CHOICE = Field(
    name="account_choice",
    type="radio",
    label="振込先",
    options=[{"value": "koukin", "label": "公金受取口座"}, {"value": "other", "label": "別の口座"}],
    public_funds={"option": "koukin", "holder": "subject"},
)


def test_only_the_residents_own_account_is_looked_up():
    own = Submission(applicant_person_id="elderly", subject_person_id="elderly", acting_for=None)
    assert public_funds.holder(ACCOUNT_CHOICE, own) == "elderly"
    self_said = Submission(
        applicant_person_id="elderly",
        subject_person_id="elderly",
        acting_for={"relationship": "self"},
    )
    assert public_funds.holder(ACCOUNT_CHOICE, self_said) == "elderly"
    for_someone = Submission(
        applicant_person_id="family",
        subject_person_id="elderly",
        acting_for={"relationship": "family", "delegation": "letter"},
    )
    assert public_funds.holder(ACCOUNT_CHOICE, for_someone) is None
    anonymous = Submission(applicant_person_id=None, subject_person_id=None)
    assert public_funds.holder(ACCOUNT_CHOICE, anonymous) is None


def test_the_catalog_check_keeps_both_mechanisms_where_they_fit():
    assert _check_public_funds(ACCOUNT_CHOICE, "f") == []
    wrong_option = ACCOUNT_CHOICE.model_copy(
        update={"public_funds": ACCOUNT_CHOICE.public_funds.model_copy(update={"option": "x"})}
    )
    assert _check_public_funds(wrong_option, "f") == ["f.public_funds.option: 'x' is not an option"]
    text = Field(name="t", type="text", label="t", public_funds={"option": "koukin"})
    assert _check_public_funds(text, "f") == ["f.public_funds: only for a radio field, not text"]
    assert _check_prefill(fields("national")[0], "f") == []
    on_a_date = Field(name="d", type="text", label="d", prefill={"source": "deceased.death_date"})
    assert _check_prefill(on_a_date, "f") == [
        "f.prefill.source: deceased.death_date fills a date field, not text"
    ]
    had_elsewhere = Field(
        name="p",
        type="person",
        label="p",
        prefill={"source": "applicant.person", "had": "national"},
    )
    assert _check_prefill(had_elsewhere, "f") == ["f.prefill.had: only for the deceased.* sources"]


def test_the_demo_deaths_stay_recent_whatever_the_date(records):
    clock.set_override(None)
    (father, mother) = sorted(
        records.deceased_relatives("parent", reader="r", purpose="p"), key=lambda d: d.name
    )
    assert {father.name, mother.name} == {"和泉 正男", "岬 ハル"}
    assert {(TODAY - d.died_on).days for d in (father, mother)} == {20, 12}


def test_date_shortcuts_offer_today_yesterday_and_an_earlier_answer_once(app):
    from portal.catalog.checks import _check_shortcuts
    from portal.submissions import shortcuts

    death = Field(name="death_date", type="date", label="亡くなった日")
    funeral = Field(
        name="funeral_date",
        type="date",
        label="葬儀の日",
        shortcuts=["today", "yesterday", "death_date"],
    )
    proc = procedure(death, funeral)
    with app.test_request_context():
        offered = shortcuts.offered(proc, funeral, {"death_date": "2026-11-21"}, TODAY)
        # yesterday and the date of death are the same day: offered once, as 昨日
        assert [(s.what, s.date) for s in offered] == [
            ("今日", TODAY),
            ("昨日", dt.date(2026, 11, 21)),
        ]
        offered = shortcuts.offered(proc, funeral, {"death_date": "2026-11-01"}, TODAY)
        assert offered[-1].what == "亡くなった日と同じ日"
        assert len(shortcuts.offered(proc, funeral, {}, TODAY)) == 2  # not answered: not offered
    assert _check_shortcuts(funeral, "f", {"death_date"}) == []
    assert _check_shortcuts(funeral, "f", set()) == [
        "f.shortcuts: 'death_date' is not today, yesterday, next_month, next_april"
        " or a date field of another step"
    ]
    on_text = Field(name="t", type="text", label="t", shortcuts=["today"])
    assert _check_shortcuts(on_text, "f", set()) == ["f.shortcuts: only for a date field, not text"]


@pytest.mark.parametrize(
    ("today", "next_month", "next_april"),
    [
        (dt.date(2026, 11, 22), dt.date(2026, 12, 1), dt.date(2027, 4, 1)),
        (dt.date(2026, 12, 31), dt.date(2027, 1, 1), dt.date(2027, 4, 1)),  # across the year
        (dt.date(2027, 3, 31), dt.date(2027, 4, 1), dt.date(2027, 4, 1)),  # the same day, once
        (dt.date(2027, 4, 1), dt.date(2027, 5, 1), dt.date(2028, 4, 1)),  # the next, not today
    ],
)
def test_start_date_shortcuts_offer_the_first_of_next_month_and_the_next_april(
    app, today, next_month, next_april
):
    from portal.catalog.checks import _check_shortcuts
    from portal.submissions import shortcuts

    start = Field(
        name="start_date",
        type="date",
        label="入所を希望する日",
        shortcuts=["next_month", "next_april"],
    )
    with app.test_request_context():
        offered = shortcuts.offered(procedure(start), start, {}, today)
    expected = [("来月1日", next_month)]
    if next_april != next_month:
        expected.append(("次の4月1日", next_april))
    assert [(s.what, s.date) for s in offered] == expected
    assert _check_shortcuts(start, "f", set()) == []


def test_the_records_give_the_residents_relationship_to_the_person_who_died(records):
    """deceased.relationship (decision 0083): seen from the person who died, from the records'
    parent-child ties and the couple of the household; filled only into an option offered."""
    by_name = {d.name: d for d in records.deceased_relatives("parent", reader="r", purpose="p")}
    assert by_name["和泉 正男"].relationship == "child"  # her father
    assert by_name["岬 ハル"].relationship == "child-in-law"  # her husband's mother
    by_name = {d.name: d for d in records.deceased_relatives("spouse", reader="r", purpose="p")}
    assert by_name["岬 ハル"].relationship == "child"
    assert by_name["和泉 正男"].relationship == "child-in-law"

    def relationship(options: list[str]) -> Field:
        return Field(
            name="relationship",
            type="select",
            label="亡くなった方との関係",
            options=[{"value": v, "label": v} for v in options],
            prefill={"source": "deceased.relationship", "had": "national"},
        )

    applicant = Applicant(card=PERSONAS["parent"].four_items(), person_id="parent")
    answers, sources = prefill_answers(
        procedure(relationship(["spouse", "child", "other"])),
        applicant,
        Subject("parent", readable=True),
        records,
        reader="submission:TEST",
        today=TODAY,
    )
    assert (answers, sources) == ({"relationship": "child"}, {"relationship": "records"})
    answers, _sources = prefill_answers(
        procedure(relationship(["spouse", "other"])),  # not offered: the resident chooses
        applicant,
        Subject("parent", readable=True),
        records,
        reader="submission:TEST",
        today=TODAY,
    )
    assert answers == {}
