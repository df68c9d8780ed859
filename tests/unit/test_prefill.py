"""Prefill from the card and the mock resident records: whose records are read, what each
source fills, what is left for the resident, and the catalog's checks of `prefill:`."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.catalog.checks import _check_prefill
from portal.catalog.schema import Field, Procedure
from portal.demo_data.people import load_personas
from portal.records.base import RecordNotFound
from portal.records.mock import MockResidentRecords
from portal.submissions.prefill import Applicant, Subject, prefill_answers

PERSONAS = load_personas()
TODAY = dt.date(2026, 11, 22)


class LogOnly:
    """Stands in for the database session the read log goes to."""

    def __init__(self) -> None:
        self.rows = []

    def add(self, row) -> None:
        self.rows.append(row)

    def flush(self) -> None:
        pass


@pytest.fixture
def log():
    return LogOnly()


@pytest.fixture
def records(log):
    return MockResidentRecords(PERSONAS, lambda: log)


def procedure(*fields: Field) -> Procedure:
    return Procedure.model_validate(
        {
            "id": "p",
            "title": "テスト手続",
            "summary": "s",
            "kana": "てすと",
            "purpose_of_use": "u",
            "legal_basis": "b",
            "department": "d",
            "channel": "online",
            "identity_level": "login",
            "estimated_minutes": 1,
            "processing_time": "t",
            "processing_days": 7,
            "next_steps": "n",
            "retention": {"years": 1, "basis": "b"},
            "steps": [{"id": "s", "title": "t", "fields": [f.model_dump() for f in fields]}],
        }
    )


def applicant(persona_id: str) -> Applicant:
    return Applicant(card=PERSONAS[persona_id].four_items(), person_id=persona_id)


PERSON = Field(
    name="guardian", type="person", label="保護者", prefill={"source": "applicant.person"}
)
ADDRESS = Field(
    name="address", type="address", label="住所", prefill={"source": "applicant.address"}
)
CHILDREN = Field(
    name="children",
    type="group",
    label="子ども",
    fields=[
        Field(name="child_name", type="text", label="氏名"),
        Field(name="child_birth_date", type="date", label="生年月日"),
    ],
    prefill={
        "source": "subject.children",
        "map": {"child_name": "name", "child_birth_date": "birth_date"},
        "max_age": 6,
    },
)
INSURED = Field(
    name="insured_number",
    type="text",
    label="番号",
    prefill={"source": "subject.care_insured_number"},
)


INSURED_PERSON = Field(
    name="insured", type="person", label="被保険者", prefill={"source": "subject.person"}
)


def test_the_card_fills_the_applicant_and_the_records_add_the_reading(records, log):
    answers, sources = prefill_answers(
        procedure(PERSON, ADDRESS),
        applicant("parent"),
        Subject("parent", True),
        records,
        "r",
        TODAY,
    )
    assert answers["guardian"] == {
        "name": "岬 花子",
        "kana": "ミサキ ハナコ",
        "birth_date": "1990-04-10",
        "has_gaiji": False,
    }
    assert answers["address"] == {
        "postal_code": "2994503",
        "prefecture": "千葉県",
        "city": "いすみ市",
        "town": "岬町和泉",
        "block": "567番地",
    }
    assert sources == {"guardian": "card", "address": "card"}
    # One read of the resident record, logged with the reader and the procedure as purpose.
    assert [(r.reader, r.person_id, r.record, r.purpose) for r in log.rows] == [
        ("r", "parent", "resident", "テスト手続：申請書の事前入力")
    ]


def test_a_form_that_asks_the_name_and_reading_apart_gets_them_from_card_and_records(records):
    """applicant.name and applicant.kana (住民票の写し: 請求する方の氏名・フリガナ, two text
    fields): the card's name and the records' reading; nothing without a signed-in resident."""
    name = Field(name="n", type="text", label="氏名", prefill={"source": "applicant.name"})
    kana = Field(name="k", type="text", label="フリガナ", prefill={"source": "applicant.kana"})
    answers, sources = prefill_answers(
        procedure(name, kana), applicant("adult"), Subject("adult", True), records, "r", TODAY
    )
    assert answers == {"n": "大原 太郎", "k": "オオハラ タロウ"}
    assert sources == {"n": "card", "k": "records"}
    nobody = Applicant(card={}, person_id=None)
    assert prefill_answers(
        procedure(name, kana), nobody, Subject(None, False), records, "r", TODAY
    ) == ({}, {})
    wrong = Field(name="x", type="person", label="x", prefill={"source": "applicant.name"})
    assert _check_prefill(wrong, "f") == [
        "f.prefill.source: applicant.name fills a text field, not person"
    ]


def test_children_are_filtered_by_age_and_mapped_into_the_group(records):
    answers, sources = prefill_answers(
        procedure(CHILDREN), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers["children"] == [{"child_name": "岬 ひなた", "child_birth_date": "2023-02-14"}]
    assert sources == {"children": "records"}


def test_a_household_member_is_read_from_the_records(records):
    answers, sources = prefill_answers(
        procedure(INSURED_PERSON, INSURED),
        applicant("family"),
        Subject("elderly", readable=True),
        records,
        "r",
        TODAY,
    )
    assert answers["insured"]["name"] == "中村 キヨ" and sources["insured"] == "records"
    assert answers["insured_number"] == "9900000001"


def test_a_proxy_with_a_letter_gets_only_what_they_typed(records, log):
    typed = {"name": "中村 キヨ", "kana": "ナカムラ キヨ", "birth_date": "1946-03-08"}
    answers, sources = prefill_answers(
        procedure(INSURED_PERSON, INSURED),
        applicant("care-manager"),
        Subject("elderly", readable=False, typed=typed),
        records,
        "r",
        TODAY,
    )
    assert answers == {"insured": {**typed, "has_gaiji": False}}
    assert sources == {}  # typed by the proxy: not marked as the city's
    assert all(row.person_id != "elderly" for row in log.rows)


def test_nothing_is_filled_without_a_record(records):
    answers, sources = prefill_answers(
        procedure(ADDRESS, CHILDREN),
        Applicant(card={}, person_id=None),
        Subject(None, True),
        records,
        "r",
        TODAY,
    )
    assert answers == {} and sources == {}


def test_find_person_matches_name_and_birth_date_ignoring_spacing(records, log):
    assert (
        records.find_person("岬　花子", dt.date(1990, 4, 10), reader="x", purpose="y") == "parent"
    )
    with pytest.raises(RecordNotFound):
        records.find_person("岬 花子", dt.date(1990, 4, 11), reader="x", purpose="y")
    assert [row.person_id for row in log.rows] == ["parent", "?"]


def test_the_catalog_check_names_a_prefill_that_does_not_fit():
    wrong_type = Field(name="x", type="text", label="x", prefill={"source": "applicant.address"})
    assert _check_prefill(wrong_type, "f") == [
        "f.prefill.source: applicant.address fills a address field, not text"
    ]
    unknown_sub = CHILDREN.model_copy(
        update={"prefill": CHILDREN.prefill.model_copy(update={"map": {"nope": "name"}})}
    )
    assert _check_prefill(unknown_sub, "f") == [
        "f.prefill.map: 'nope' is not a sub-field of this group"
    ]
    tax = Field(
        name="t",
        type="radio",
        label="t",
        options=[{"value": "a", "label": "a"}],
        prefill={"source": "subject.tax_lookup"},
    )
    assert _check_prefill(tax, "f") == [
        "f.options: subject.tax_lookup needs options 'city' and 'attach'"
    ]


def test_the_household_fills_a_group_with_codes_or_words(records):
    movers = Field(
        name="movers",
        type="group",
        label="引っ越す方",
        fields=[
            Field(name="mover_name", type="text", label="氏名"),
            Field(name="mover_relation", type="text", label="続柄"),
        ],
        prefill={
            "source": "subject.household",
            "map": {"mover_name": "name", "mover_relation": "relationship"},
        },
    )
    answers, sources = prefill_answers(
        procedure(movers), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers["movers"] == [
        {"mover_name": "岬 花子", "mover_relation": "世帯主"},
        {"mover_name": "岬 健一", "mover_relation": "配偶者"},
        {"mover_name": "岬 蒼", "mover_relation": "子"},
        {"mover_name": "岬 ひなた", "mover_relation": "子"},
    ]
    assert sources == {"movers": "records"}


@pytest.mark.parametrize(
    ("persona", "spouse"),
    [
        ("parent", {"name": "岬 健一", "kana": "ミサキ ケンイチ", "birth_date": "1988-09-03"}),
        ("spouse", {"name": "岬 花子", "kana": "ミサキ ハナコ", "birth_date": "1990-04-10"}),
        ("elderly", None),  # lives alone
        ("child-1", None),  # a child has no spouse in the household
    ],
)
def test_the_spouse_comes_from_the_household_in_the_records(records, persona, spouse):
    field = Field(
        name="spouse", type="person", label="配偶者", prefill={"source": "subject.spouse"}
    )
    answers, sources = prefill_answers(
        procedure(field), applicant(persona), Subject(persona, True), records, "r", TODAY
    )
    if spouse is None:
        assert "spouse" not in answers
    else:
        assert answers["spouse"] == spouse | {"has_gaiji": False}
        assert sources == {"spouse": "records"}


@pytest.mark.db
def test_a_prefilled_answer_waits_for_its_step_although_its_condition_is_unanswered(app):
    """The spouse from the records is shown once 配偶者がいますか is answered: saving the steps
    before it keeps it; the spouse step's own save drops it when there is no spouse."""
    from portal import clock
    from portal.db import db
    from portal.submissions import service
    from portal.submissions.forms import StepOutcome
    from portal.submissions.models import Submission
    from tests.factories import draft

    spouse = {"name": "岬 健一", "kana": "ミサキ ケンイチ", "birth_date": "1988-09-03"}
    row = draft(app, "jidoteate-genkyo")
    with app.app_context():
        submission = db.session.get(Submission, row.id)
        procedure = service.procedure_of(submission)
        service.apply_prefill(db.session, submission, {"spouse": spouse}, {"spouse": "records"})
        today, now = clock.today_local(), clock.now()
        screening = StepOutcome(values={"reason": "divorce"})
        service.save_step(db.session, submission, procedure.steps[0], screening, today, now)
        assert submission.answers["spouse"] == spouse
        no_spouse = StepOutcome(values={"has_spouse": False})
        service.save_step(
            db.session, submission, procedure.step("recipient"), no_spouse, today, now
        )
        assert "spouse" not in submission.answers


@pytest.mark.parametrize(
    ("persona", "filled"),
    [("parent", True), ("spouse", True), ("elderly", False), ("child-1", False)],
)
def test_a_spouse_in_the_household_answers_yes_and_nothing_else_is_answered(
    records, persona, filled
):
    """配偶者がいますか is yes when the records show the spouse in the household; otherwise it is
    left for the resident (a spouse elsewhere or a partner the records cannot know)."""
    field = Field(
        name="has_spouse",
        type="yesno",
        label="配偶者がいますか",
        prefill={"source": "subject.spouse_in_household"},
    )
    answers, sources = prefill_answers(
        procedure(field), applicant(persona), Subject(persona, True), records, "r", TODAY
    )
    if filled:
        assert answers == {"has_spouse": True} and sources == {"has_spouse": "records"}
    else:
        assert answers == {} and sources == {}
    name = Field(
        name="partner_name", type="text", label="氏名", prefill={"source": "subject.spouse_name"}
    )
    answers, _ = prefill_answers(
        procedure(name), applicant(persona), Subject(persona, True), records, "r", TODAY
    )
    expected = {"parent": "岬 健一", "spouse": "岬 花子"}.get(persona)
    assert answers.get("partner_name") == expected


LEVELS = [
    {"value": v, "label": v}
    for v in ("support-1", "support-2", "care-1", "care-2", "care-3", "care-4", "care-5")
]
CARE_LEVEL = Field(
    name="current_level",
    type="select",
    label="いまの要介護状態区分",
    options=LEVELS,
    prefill={"source": "subject.care_level"},
)
CATEGORY = Field(
    name="insured_category",
    type="radio",
    label="被保険者の区分",
    options=[{"value": "first", "label": "65歳以上"}, {"value": "second", "label": "40歳から64歳"}],
    prefill={"source": "subject.care_insured_category"},
)


def test_the_care_records_give_the_level_and_the_age_the_first_category(records):
    answers, sources = prefill_answers(
        procedure(CARE_LEVEL, CATEGORY),
        applicant("elderly"),
        Subject("elderly", True),
        records,
        "r",
        TODAY,
    )
    assert answers == {"current_level": "support-2", "insured_category": "first"}
    assert sources == {"current_level": "records", "insured_category": "records"}
    # 45 and not certified: neither is filled (第2号 depends on the medical insurance too)
    answers, _ = prefill_answers(
        procedure(CARE_LEVEL, CATEGORY),
        applicant("adult"),
        Subject("adult", True),
        records,
        "r",
        TODAY,
    )
    assert answers == {}


def test_the_care_level_gives_the_plan_to_ask_for(records):
    plan = Field(
        name="plan_type",
        type="radio",
        label="作成を頼む計画",
        options=[{"value": "care", "label": "居宅"}, {"value": "support", "label": "予防"}],
        prefill={"source": "subject.care_plan_type"},
    )
    answers, _ = prefill_answers(
        procedure(plan), applicant("elderly"), Subject("elderly", True), records, "r", TODAY
    )
    assert answers == {"plan_type": "support"}  # 要支援2


def test_the_care_sources_need_their_options():
    wrong_level = Field.model_validate(CARE_LEVEL.model_dump() | {"options": LEVELS[:2]})
    assert _check_prefill(wrong_level, "f")[0].startswith(
        "f.options: subject.care_level needs the levels"
    )
    wrong_category = Field.model_validate(
        CATEGORY.model_dump() | {"options": [{"value": "second", "label": "40歳から64歳"}]}
    )
    assert _check_prefill(wrong_category, "f") == [
        "f.options: subject.care_insured_category needs the option 'first'"
    ]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("parent", {"filer_role": "head"}),  # 岬 花子 heads her household
        ("spouse", {"filer_role": "member", "head_name": "岬 花子"}),
    ],
)
def test_the_household_role_and_head_come_from_the_records(records, persona, expected):
    role = Field(
        name="filer_role",
        type="radio",
        label="世帯主との関係",
        options=[{"value": "head", "label": "世帯主"}, {"value": "member", "label": "世帯員"}],
        prefill={"source": "applicant.household_role"},
    )
    head = Field(
        name="head_name",
        type="text",
        label="世帯主の氏名",
        prefill={"source": "applicant.household_head"},
    )
    answers, sources = prefill_answers(
        procedure(role, head), applicant(persona), Subject(persona, True), records, "r", TODAY
    )
    assert answers == expected
    assert set(sources.values()) == {"records"}


@pytest.mark.parametrize(
    ("persona", "role"), [("parent", "mother"), ("spouse", "father"), ("adult", None)]
)
def test_a_parent_in_the_records_is_the_mother_or_the_father(records, persona, role):
    field = Field(
        name="guardian_relationship",
        type="radio",
        label="子どもとの関係",
        options=[{"value": "mother", "label": "母"}, {"value": "father", "label": "父"}],
        prefill={"source": "applicant.parent_role"},
    )
    answers, _ = prefill_answers(
        procedure(field), applicant(persona), Subject(persona, True), records, "r", TODAY
    )
    assert answers.get("guardian_relationship") == role


def test_the_city_registers_tick_what_the_household_uses(records, log):
    """転出届's 引っ越す方にあてはまるもの: 児童手当 (花子), the city's school (蒼) and a nursery
    place (ひなた) from the city's registers; the household's insurance is not the city's."""
    related = Field(
        name="related",
        type="checkboxes",
        label="あてはまるもの",
        required=False,
        options=[
            {"value": v, "label": v}
            for v in ("kokuho", "kouki", "kaigo", "jidou-teate", "school", "hoiku", "shogai")
        ],
        prefill={"source": "subject.household_services"},
    )
    answers, sources = prefill_answers(
        procedure(related), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers == {"related": ["jidou-teate", "school", "hoiku"]}
    assert sources == {"related": "records"}
    assert {row.record for row in log.rows} >= {"household", "insurance", "city_services"}
    # 中村 キヨ: 後期高齢者医療 and a care level, nothing else
    answers, _ = prefill_answers(
        procedure(related), applicant("elderly"), Subject("elderly", True), records, "r", TODAY
    )
    assert answers == {"related": ["kouki", "kaigo"]}


OWN_NUMBER = Field(
    name="my_number", type="mynumber", label="個人番号", prefill={"source": "subject.my_number"}
)
CLAIMANT_NUMBER = Field(
    name="claimant_my_number",
    type="mynumber",
    label="請求する方の個人番号",
    prefill={"source": "applicant.my_number"},
)


def test_the_card_holders_own_my_number_fills_only_their_own_number_field(records):
    """The number read from the card at login (already encrypted) fills the applicant's field,
    and the subject's only when the application is about the applicant themself: never a
    household member's, never a person named with a letter, and nothing without a read."""
    holder = Applicant(
        card=PERSONAS["elderly"].four_items(), person_id="elderly", my_number="v1:token"
    )
    fields = procedure(OWN_NUMBER, CLAIMANT_NUMBER)
    answers, sources = prefill_answers(
        fields, holder, Subject("elderly", True), records, "r", TODAY
    )
    assert answers == {"my_number": "v1:token", "claimant_my_number": "v1:token"}
    assert sources == {"my_number": "card", "claimant_my_number": "card"}

    member, _ = prefill_answers(fields, holder, Subject("family", True), records, "r", TODAY)
    assert member == {"claimant_my_number": "v1:token"}
    typed = {"name": "中村 キヨ", "kana": "ナカムラ キヨ", "birth_date": "1946-03-08"}
    letter, _ = prefill_answers(
        fields, holder, Subject("elderly", False, typed=typed), records, "r", TODAY
    )
    assert "my_number" not in letter

    unread, _ = prefill_answers(
        fields, applicant("elderly"), Subject("elderly", True), records, "r", TODAY
    )
    assert unread == {}


def test_the_my_number_sources_fill_only_my_number_fields():
    wrong = Field(name="n", type="text", label="番号", prefill={"source": "applicant.my_number"})
    assert _check_prefill(wrong, "f") == [
        "f.prefill.source: applicant.my_number fills a mynumber field, not text"
    ]
    assert _check_prefill(OWN_NUMBER, "f") == []


SPOUSE_NUMBER = Field(
    name="spouse_my_number",
    type="mynumber",
    label="配偶者の個人番号",
    prefill={"source": "subject.spouse_my_number"},
)


def test_the_spouse_in_the_household_gives_their_number_from_the_records_encrypted(records, log):
    """配偶者の個人番号 comes from the resident record of the spouse in the same household,
    encrypted as a typed number is stored, and its read is logged on its own; nothing without
    the key, for a spouse elsewhere, or when the application is about someone else."""
    from portal import japanese

    key = bytes(range(32))
    fields = procedure(SPOUSE_NUMBER)
    answers, sources = prefill_answers(
        fields, applicant("parent"), Subject("parent", True), records, "r", TODAY, key
    )
    assert japanese.decrypt_sensitive(answers["spouse_my_number"], key) == "100000000030"
    assert sources == {"spouse_my_number": "records"}
    assert [row.record for row in log.rows if row.person_id == "spouse"].count("my_number") == 1

    no_key, _ = prefill_answers(
        fields, applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    alone, _ = prefill_answers(
        fields, applicant("elderly"), Subject("elderly", True), records, "r", TODAY, key
    )
    # an application about another household member: not the applicant's own spouse
    member, _ = prefill_answers(
        fields, applicant("spouse"), Subject("parent", True), records, "r", TODAY, key
    )
    assert no_key == alone == member == {}
    assert _check_prefill(SPOUSE_NUMBER, "f") == []


@pytest.mark.parametrize(
    ("birth_date", "today", "grade"),
    [
        ("2019-05-20", "2026-11-22", "elementary-1"),  # 岬 蒼
        ("2019-04-02", "2026-04-01", "elementary-1"),  # born 2 April: the year starts
        ("2019-04-01", "2026-04-01", "elementary-2"),  # born 1 April: a year earlier
        ("2019-05-20", "2026-03-31", None),  # before the school year: not yet at school
        ("2013-06-01", "2026-11-22", "junior-1"),
        ("2012-01-10", "2026-11-22", "junior-3"),
        ("2011-04-01", "2026-11-22", None),  # past junior high school
        ("2023-02-14", "2026-11-22", None),  # 岬 ひなた, at a nursery
    ],
)
def test_the_school_year_follows_from_the_birth_date(birth_date, today, grade):
    from portal.submissions.prefill import school_grade

    born, on = dt.date.fromisoformat(birth_date), dt.date.fromisoformat(today)
    assert school_grade(born, on) == grade


def test_the_school_grade_fills_a_childs_select_only_at_school_age(records):
    grades = [Field(name="grade", type="select", label="学年", options=_GRADE_OPTIONS)]
    children = Field(
        name="children",
        type="group",
        label="子ども",
        fields=[Field(name="child_name", type="text", label="氏名"), *grades],
        prefill={
            "source": "subject.children",
            "map": {"child_name": "name", "grade": "school_grade"},
        },
    )
    answers, _ = prefill_answers(
        procedure(children), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers["children"] == [
        {"child_name": "岬 蒼", "grade": "elementary-1"},
        {"child_name": "岬 ひなた"},
    ]
    assert _check_prefill(children, "f") == []
    household = children.model_copy(
        update={"prefill": children.prefill.model_copy(update={"source": "subject.household"})}
    )
    assert "school_grade is for subject.children only" in " ".join(_check_prefill(household, "f"))


_GRADE_OPTIONS = [
    {"value": v, "label": v}
    for v in ["preschool"]
    + [f"elementary-{n}" for n in range(1, 7)]
    + [f"junior-{n}" for n in range(1, 4)]
]


# --- issue 22, decision 0077: where a child lives, the nursery place, an earlier application ---

_LIVING = [{"value": "together", "label": "同居"}, {"value": "separate", "label": "別居"}]
_FACILITIES = [{"value": "namihana", "label": "なみはな"}, {"value": "ohara", "label": "おおはら"}]


def _children_with(sub: Field, attribute: str) -> Field:
    return Field(
        name="children",
        type="group",
        label="子ども",
        fields=[Field(name="child_name", type="text", label="氏名"), sub],
        prefill={
            "source": "subject.children",
            "map": {"child_name": "name", sub.name: attribute},
        },
    )


def test_a_child_in_the_household_lives_together_and_one_elsewhere_is_left_open(records):
    group = _children_with(
        Field(name="living", type="radio", label="住まい", options=_LIVING), "living"
    )
    answers, _ = prefill_answers(
        procedure(group), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers["children"] == [
        {"child_name": "岬 蒼", "living": "together"},
        {"child_name": "岬 ひなた", "living": "together"},
    ]
    # 中村 キヨ's daughter lives in another household (茂原市): the resident says where she lives.
    answers, _ = prefill_answers(
        procedure(group), applicant("elderly"), Subject("elderly", True), records, "r", TODAY
    )
    assert answers["children"] == [{"child_name": "佐藤 由美"}]
    assert _check_prefill(group, "f") == []


def test_the_nursery_place_the_city_allocated_fills_the_facility(records, log):
    group = _children_with(
        Field(name="facility", type="select", label="施設", options=_FACILITIES), "nursery"
    )
    answers, _ = prefill_answers(
        procedure(group), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers["children"] == [
        {"child_name": "岬 蒼"},  # at school, no nursery place
        {"child_name": "岬 ひなた", "facility": "namihana"},
    ]
    assert ("child-2", "nursery") in {(r.person_id, r.record) for r in log.rows}
    # A facility the field does not offer fills nothing.
    other = _children_with(
        Field(name="facility", type="select", label="施設", options=_FACILITIES[1:]), "nursery"
    )
    answers, _ = prefill_answers(
        procedure(other), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers["children"][1] == {"child_name": "岬 ひなた"}


def test_living_and_nursery_are_for_a_childrens_choice_only():
    no_together = _children_with(
        Field(name="living", type="radio", label="住まい", options=_LIVING[1:]), "living"
    )
    assert "must offer 'together'" in " ".join(_check_prefill(no_together, "f"))
    text = _children_with(Field(name="facility", type="text", label="施設"), "nursery")
    assert "must be a radio or select" in " ".join(_check_prefill(text, "f"))
    household = no_together.model_copy(
        update={"prefill": no_together.prefill.model_copy(update={"source": "subject.household"})}
    )
    assert "living is for subject.children only" in " ".join(_check_prefill(household, "f"))


def test_an_earlier_application_fills_its_answer_marked_as_earlier(records):
    employer = Field(
        name="employer", type="text", label="勤務先", prefill={"source": "applicant.earlier"}
    )
    person = Applicant(
        card=PERSONAS["parent"].four_items(),
        person_id="parent",
        earlier={"employer": "株式会社いすみ（デモ）"},
    )
    answers, sources = prefill_answers(
        procedure(employer), person, Subject("parent", True), records, "r", TODAY
    )
    assert answers == {"employer": "株式会社いすみ（デモ）"}
    assert sources == {"employer": "earlier"}
    # No earlier application: nothing is filled, the question is asked.
    answers, _ = prefill_answers(
        procedure(employer), applicant("parent"), Subject("parent", True), records, "r", TODAY
    )
    assert answers == {}


def test_the_catalog_check_keeps_secrets_out_of_earlier_applications():
    from pathlib import Path

    from portal.catalog import load_catalog
    from portal.catalog.checks import _check_earlier

    catalog = load_catalog(Path(__file__).resolve().parents[2] / "procedure_catalog.yaml")
    assert _check_earlier(catalog) == []
    bad = procedure(
        Field(
            name="my_number",
            type="mynumber",
            label="個人番号",
            sensitive=True,
            prefill={"source": "applicant.earlier"},
        ),
        Field(
            name="nowhere",
            type="text",
            label="どこにもない",
            prefill={"source": "applicant.earlier", "procedures": ["hoiku-genkyo"]},
        ),
        Field(
            name="phone",
            type="tel",
            label="電話",
            prefill={"source": "applicant.phone", "procedures": ["hoiku-genkyo"]},
        ),
    )
    problems = " ".join(
        _check_earlier(catalog.model_copy(update={"procedures": [*catalog.procedures, bad]}))
    )
    assert "never fills a mynumber field" in problems
    assert "'hoiku-genkyo' has no text field 'nowhere'" in problems
    assert "for applicant.earlier only" in problems


def test_a_prefilled_answer_waits_while_its_steps_condition_is_undecided(app):
    """支給認定 asks about both guardians only for 2号・3号: the spouse from the records waits
    while 認定の区分 is unanswered and goes once 1号 rules the page out."""
    from portal import clock
    from portal.db import db
    from portal.submissions import service
    from portal.submissions.forms import StepOutcome
    from portal.submissions.models import Submission
    from tests.factories import draft

    row = draft(app, "kyufu-nintei")
    with app.app_context():
        submission = db.session.get(Submission, row.id)
        procedure = service.procedure_of(submission)
        filled = {"has_partner": True, "partner_name": "岬 健一"}
        service.apply_prefill(db.session, submission, filled, dict.fromkeys(filled, "records"))
        today, now = clock.today_local(), clock.now()
        child = StepOutcome(values={"child_name": "岬 ひなた"})
        service.save_step(db.session, submission, procedure.step("child"), child, today, now)
        assert submission.answers["partner_name"] == "岬 健一"
        first = StepOutcome(values={"application_type": "new", "nintei_type": "1go"})
        service.save_step(db.session, submission, procedure.step("application"), first, today, now)
        assert "partner_name" not in submission.answers
        assert "has_partner" not in submission.answers
