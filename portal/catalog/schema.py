"""The catalog's shape: frozen, typed models that reject unknown keys.

`procedure_catalog.yaml` is parsed into `CatalogData`. Pydantic checks each entry's own shape
(types, ids, required keys, field types); `portal.catalog.checks` then checks what crosses entries
(departments and life events exist, rules name real fields, example answers are valid).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator, model_validator
from pydantic import Field as PydField

from portal.catalog.fields import FIELD_TYPES, FieldSpec, FieldType

KEBAB = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
SNAKE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"

KebabId = Annotated[str, PydField(pattern=KEBAB, max_length=64)]
SnakeName = Annotated[str, PydField(pattern=SNAKE, max_length=64)]
NonEmpty = Annotated[str, PydField(min_length=1)]


def _rule_text(value: str) -> str:
    if not value.strip():
        raise ValueError("a rule must not be empty")
    return value.strip()


RuleText = Annotated[str, AfterValidator(_rule_text)]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class City(Model):
    name: NonEmpty
    name_en: NonEmpty
    prefecture: NonEmpty
    postal_code: Annotated[str, PydField(pattern=r"^\d{3}-\d{4}$")]
    address: NonEmpty
    phone: NonEmpty
    opening_hours: NonEmpty
    demo: bool = True


class Department(Model):
    id: KebabId
    name: NonEmpty
    name_en: NonEmpty
    name_easy: NonEmpty
    phone: NonEmpty | None = None


HourMinute = Annotated[str, PydField(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Period(Model):
    start: HourMinute
    end: HourMinute


class OpeningDay(Model):
    """Bookable hours of one weekday, with breaks (lunch) in which no slot starts or runs."""

    weekday: Weekday
    open: HourMinute
    close: HourMinute
    breaks: list[Period] = []


class Service(Model):
    """Something a counter does for a visitor, with how long it takes."""

    id: KebabId
    name: NonEmpty
    minutes: Annotated[int, PydField(ge=5, le=240)]


class Booking(Model):
    """How a counter takes appointments (issue 9). Slots start every `slot_minutes` within the
    opening hours; an appointment takes as many consecutive slots as its services' minutes need
    (plus `buffer_minutes` after it); each slot serves `capacity` visitors at once. Bookable from
    `minimum_notice_hours` ahead up to `horizon_days` ahead, on days the offices are open."""

    slot_minutes: Annotated[int, PydField(ge=5, le=120)]
    capacity: Annotated[int, PydField(ge=1, le=20)]
    buffer_minutes: Annotated[int, PydField(ge=0, le=60)] = 0
    minimum_notice_hours: Annotated[int, PydField(ge=0, le=168)] = 2
    horizon_days: Annotated[int, PydField(ge=1, le=366)] = 60
    days: Annotated[list[OpeningDay], PydField(min_length=1)]
    services: Annotated[list[Service], PydField(min_length=1)]
    accessibility: list[NonEmpty] = []  # 車椅子, 筆談, 手話通訳の日, 授乳室, 駐車場 ...
    # Each visitor after the first adds this much to an appointment (a household moving in).
    extra_person_minutes: Annotated[int, PydField(ge=0, le=60)] = 5
    max_people: Annotated[int, PydField(ge=1, le=10)] = 6

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)


class Suggestion(Model):
    """A procedure the resident may need next, offered after this one is submitted; `when` is a
    rule on this procedure's answers (without it, always offered)."""

    procedure: KebabId
    when: RuleText | None = None
    note: NonEmpty | None = None


class AppointmentLink(Model):
    """Where a procedure's visit is booked: a counter that takes appointments, and the service."""

    counter: KebabId
    service: KebabId


class Counter(Model):
    id: KebabId
    name: NonEmpty
    department: KebabId
    location: NonEmpty
    hours: NonEmpty
    booking: Booking | None = None


class State(Model):
    label: NonEmpty
    description: NonEmpty
    final: bool = False
    # The resident's turn (e.g. asked for a missing document): the case is not overdue meanwhile,
    # and a transition into this state asks the resident through a correction request.
    resident_turn: bool = False


StaffRoleName = Literal["clerk", "reviewer", "approver", "admin"]


class Transition(Model):
    name: SnakeName
    source: SnakeName = PydField(alias="from")
    target: SnakeName = PydField(alias="to")
    by: Literal["resident", "staff", "system"]
    # For staff transitions (issue 12): which roles of the case's department may apply it, the
    # button's text, whether a comment is asked for, whether it decides the case (electronically
    # or by recording a paper decision), and whether the resident is told.
    roles: list[StaffRoleName] = []
    label: NonEmpty | None = None
    comment: Literal["none", "optional", "required"] = "none"
    decision: Literal["electronic", "paper"] | None = None
    notify: bool = False


class Workflow(Model):
    initial: SnakeName
    submitted: SnakeName  # the state a successful submit moves to
    states: dict[SnakeName, State]
    transitions: list[Transition]


class Option(Model):
    value: Annotated[str, PydField(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    label: NonEmpty
    hint: NonEmpty | None = None


PrefillSource = Literal[
    # the phone and e-mail the resident asked to remember from an earlier application (issue 22)
    "applicant.phone",
    "applicant.email",
    "applicant.person",  # name and birth date from the card, reading from the city's records
    "applicant.address",  # the card's address, in parts from the city's records
    # The same name (from the card) and reading (フリガナ, from the city's records) into two
    # text fields, for a form that asks them apart (住民票の写し: 請求する方の氏名) (issue 22).
    "applicant.name",
    "applicant.kana",
    # "head" (a radio field with options head and member) when the records show the signed-in
    # resident as the head of their household, else "member" (issue 22).
    "applicant.household_role",
    # The head of the signed-in resident's household in the records (a text field), when it is
    # someone else.
    "applicant.household_head",
    # "mother" or "father" (a radio field) when the records show the signed-in resident as a
    # parent of a child (subject.children) and hold their gender as female or male.
    "applicant.parent_role",
    "subject.person",  # the person the application is about (the applicant when for oneself)
    "subject.address",
    "subject.children",  # the subject's children in the records, into a group field
    "subject.care_insured_number",  # 介護保険被保険者番号 from the records
    # The subject's 要介護状態区分 from the care insurance records (a select field with the
    # levels support-1 .. care-5), nothing when not certified (issue 22).
    "subject.care_level",
    # 第1号被保険者 ("first", a radio field) when the records' birth date makes the subject 65 or
    # over (介護保険法第9条); nothing for 40 to 64: 第2号 also depends on the medical insurance.
    "subject.care_insured_category",
    # The care plan the subject's level calls for (a radio field): "care" (居宅サービス計画) for
    # 要介護1-5, "support" (介護予防サービス計画) for 要支援1・2, from the care insurance records.
    "subject.care_plan_type",
    # The subject's household in the records, into a group field (map: name, kana, birth_date,
    # relationship); e.g. the members moving out with the card holder.
    "subject.household",
    # The subject's spouse in the same household of the records (the head's spouse, or the head
    # for a spouse), into a person field (issue 22: shown, not asked).
    "subject.spouse",
    # Yes (a yesno field) when the records show the subject's spouse in the same household (as
    # subject.spouse finds them): 配偶者がいますか, 配偶者と一緒に住んでいますか. Nothing is filled
    # otherwise (a spouse in another household, or a partner not married, is the resident's to
    # say), so the answer is never a "no" the city cannot know (issue 22).
    "subject.spouse_in_household",
    # The name of that spouse, into a text field (配偶者・パートナーの氏名).
    "subject.spouse_name",
    # The 個人番号 of that spouse from the resident record (住民基本台帳法第7条第8号の2), into a
    # mynumber field, shown masked; only when the application is about the applicant themself
    # (a member of the same household may obtain it on a 住民票 anyway) (issue 22).
    "subject.spouse_my_number",
    # What the city's registers show for the subject's household (a checkboxes field; only the
    # options it offers): kokuho / kouki (国保 or 後期高齢者医療 in the insurance records), kaigo
    # (a care level), jidou-teate, school, hoiku, shogai (the city's own registers); e.g. the
    # procedures 転出届 asks about (issue 22).
    "subject.household_services",
    # Whether the city can look up last year's income itself (住民税の記録) — a radio field with
    # options "city" (no certificate to attach) and "attach" (moved in after 1 January).
    "subject.tax_lookup",
    # The signed-in resident's own 個人番号, read from their card at login (券面事項入力補助, with
    # their consent on the card page), into a mynumber field; subject.my_number only when the
    # application is about the applicant themself (never another person's number).
    "applicant.my_number",
    "subject.my_number",
    # The person who died, from the city's removal record (除票, after the 死亡届), when the
    # records tie exactly one recently deceased person to the signed-in resident (in their
    # household when they died, or their parent or child) and, with `had:`, that person had it
    # (an insurance: national, late-elderly; or jidou-teate): the person (a person field), the
    # date of death (a date field), the last address (an address field) and the health
    # insurance number (a text field). Nothing is filled otherwise (issue 22, decision 0076).
    # deceased.relationship: the resident's relationship to that person as the records show it
    # (spouse, child, child-in-law, parent), into a select offering it (decision 0083).
    "deceased.person",
    "deceased.death_date",
    "deceased.address",
    "deceased.insured_number",
    "deceased.relationship",
    # The phone the resident asked to remember (as applicant.phone), into the phone field of the
    # person the application is about, only when that is the resident themself (issue 22).
    "subject.phone",
    # The 主治医 of the subject's last care certification (the doctor's name and the clinic), from
    # the care insurance records: the city asked that doctor for the 主治医意見書 (issue 22).
    "subject.care_doctor",
    "subject.care_clinic",
    # The subject's last 転入 into the city as the 住民票 records it from the 転入届: the day they
    # began living here (a date field) and the previous address's prefecture and municipality
    # (a text field); nothing for someone the records show no 転入 for (decision 0083).
    "subject.moved_in_date",
    "subject.previous_municipality",
    # What the 転出証明書情報 sent by the resident's former municipality (住基ネット, after their
    # online 転出届 with the card: 引越しワンストップサービス) says about their move into the city:
    # the new address (address), the planned move date (date), that the 転出届 was made online
    # (radio, option "online") and who moves (group; map: name, kana, birth_date, relationship,
    # has_card, the last only for the card holder). Nothing when none has arrived (issue 22).
    "applicant.incoming_address",
    "applicant.incoming_move_date",
    "applicant.incoming_tenshutsu",
    "applicant.incoming_movers",
    # The 受給者番号 of the resident's 児童手当, which the city assigned (it pays the
    # allowance), into a text field; nothing when the city's register shows none (issue 22).
    "applicant.child_allowance_number",
    # The field's answer in the signed-in resident's latest sent own application of the same
    # kind (`procedures`, default the field's own procedure): last year's 現況届, the 申出 a
    # change starts from; never a secret (portal.submissions.earlier, issue 22).
    "applicant.earlier",
]
# school_grade (subject.children only): the school year a child of school age is in, from the
# birth date (学校教育法第17条): elementary-1 .. elementary-6, junior-1 .. junior-3; nothing for a
# younger or older child.
# has_card (applicant.incoming_movers only): yes for the card holder who logged in.
# living (subject.children only): "together" when the records show the child in the subject's
# household, into a radio or select offering that value; nothing otherwise (issue 22).
# nursery (subject.children only): the facility of the child's nursery place the city allocated
# (利用調整), into a select offering it (the `facilities` list).
ChildAttribute = Literal[
    "name", "kana", "birth_date", "relationship", "school_grade", "living", "nursery", "has_card"
]


class Prefill(Model):
    """Where a field's first value comes from when the resident is signed in (issue 5)."""

    source: PrefillSource
    editable: bool = True  # False: the resident cannot change it here (staff can)
    # subject.children: which attribute of a child goes into which sub-field of the group
    map: dict[SnakeName, ChildAttribute] = {}
    max_age: Annotated[int, PydField(ge=0, le=30)] | None = None  # only children younger
    # deceased.*: only a deceased person whose records show this (national, late-elderly,
    # employee: their health insurance; jidou-teate: they received 児童手当)
    had: Literal["national", "late-elderly", "employee", "jidou-teate"] | None = None
    # applicant.earlier: the procedures whose application is of the same kind (default: the
    # field's own procedure); the field has the same name and type there.
    procedures: list[Annotated[str, PydField(pattern=r"^[a-z0-9][a-z0-9-]*$")]] = []


class PublicFunds(Model):
    """A radio field whose `option` pays into the registered 公金受取口座 of the signed-in
    resident (`holder: applicant`) or of the person the application is about, only when that is
    the resident themself (`holder: subject`): the page shows that account masked beside the
    option, and refuses the option with a message when the registry has none (decision 0076)."""

    option: Annotated[str, PydField(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    holder: Literal["applicant", "subject"] = "applicant"


class Field(Model):
    name: SnakeName
    type: str
    label: NonEmpty
    hint: NonEmpty | None = None
    required: bool = True
    when: RuleText | None = None
    options: list[Option] = []
    min: int | None = None
    max: int | None = None
    max_length: Annotated[int, PydField(gt=0)] | None = None
    autocomplete: str | None = None
    input_width: Literal["short", "medium", "long"] = "long"
    suffix: NonEmpty | None = None  # unit shown after the input and the answer, e.g. 通
    # number: the value the input offers before the resident answers (one copy), which they keep
    # or change; only for required numbers (checks._check_default), never a declaration, a
    # consent or an answer with legal effect (issue 22).
    default: int | None = None
    # A secret of the resident's (My Number, bank account, a protected address): in an assisted
    # session the resident enters it on a hand-over screen and the helper sees it masked, on the
    # server (docs/decisions/0054-assisted-sessions.md; checks._check_sensitive).
    sensitive: bool = False
    alias: bool = False  # person: ask for a 通称 where the law allows one
    max_files: Annotated[int, PydField(ge=1, le=10)] = 1  # file
    # group: the sub-fields of each item, how many items, and what one item is called
    fields: list[Field] = []
    min_items: Annotated[int, PydField(ge=0, le=20)] = 1
    max_items: Annotated[int, PydField(ge=1, le=20)] = 10
    item_label: NonEmpty = "項目"
    prefill: Prefill | None = None
    # radio: the option that uses the registered 公金受取口座 (PublicFunds)
    public_funds: PublicFunds | None = None
    # date: buttons that fill the field with a date the portal knows, which the resident taps
    # instead of typing it (decision 0076): "today", "yesterday", or the name of a date field of
    # an earlier step (the event date answered before, e.g. the date of death for the funeral).
    # Only offers: never filled for the resident, never on a declaration.
    shortcuts: list[SnakeName] = []
    # date: the resident may leave the year out (12月14日, 12/14): that day nearest to today is
    # meant (decision 0088). For dates near today only (a move, a visit), never a birth date.
    year_optional: bool = False

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in FIELD_TYPES:
            raise ValueError(f"unknown field type {value!r}")
        return value

    @property
    def field_type(self) -> FieldType:
        return FIELD_TYPES[self.type]

    def choices(self) -> list[Option]:
        """The options a person chooses from (yes/no fields have fixed ones)."""
        if self.type == "yesno":
            return [Option(value="yes", label="はい"), Option(value="no", label="いいえ")]
        return list(self.options)


if TYPE_CHECKING:

    def _readable_by_field_types(field: Field) -> FieldSpec:
        return field  # mypy checks here that a catalog field is a FieldSpec


class Check(Model):
    """A rule over a step's answers that must be true; otherwise `message` is shown at `field`."""

    rule: RuleText
    message: NonEmpty
    field: SnakeName


class Step(Model):
    id: KebabId
    title: NonEmpty
    description: NonEmpty | None = None
    when: RuleText | None = None
    fields: Annotated[list[Field], PydField(min_length=1)]
    checks: list[Check] = []


class Fee(Model):
    rule: RuleText  # amount in yen, computed on the server from the stored answers
    description: NonEmpty
    # When the resident pays: right after submitting, or once the department has reviewed the
    # application and approved it (事後決済).
    timing: Literal["on_submit", "after_review"] = "on_submit"


class Attachment(Model):
    id: KebabId
    label: NonEmpty
    when: RuleText | None = None


class Retention(Model):
    years: Annotated[int, PydField(ge=1, le=150)]
    basis: NonEmpty


class DeadlineCounting(Model):
    """How the law counts a deadline (portal.deadlines computes it).

    `first_day: included` is 戸籍法 (the day of the event counts: 出生届 "14日以内" ends on the
    13th day after the birth); `excluded` is the Civil Code rule (民法第140条: the period starts
    the next day). A deadline that falls on a day the city offices are closed moves to the next
    open day (`closed_day: next_open_day`, 行政機関の休日に関する法律第2条) unless the law says
    otherwise (`no_change`)."""

    days: Annotated[int, PydField(ge=1, le=366)] | None = None
    months: Annotated[int, PydField(ge=1, le=24)] | None = None
    event: NonEmpty  # what the period counts from, e.g. 出生の日, 死亡の事実を知った日
    event_field: SnakeName | None = None  # the answer holding that date (online procedures)
    first_day: Literal["included", "excluded"]
    closed_day: Literal["next_open_day", "no_change"] = "next_open_day"
    law: NonEmpty  # the article that sets the period and its counting

    @model_validator(mode="after")
    def _one_length(self) -> DeadlineCounting:
        if (self.days is None) == (self.months is None):
            raise ValueError("give either days or months")
        return self


class Deadline(Model):
    description: NonEmpty
    counting: DeadlineCounting | None = None


ProxyRelationship = Literal["household", "family", "care-manager", "guardian", "other"]


class OnBehalf(Model):
    """Who may apply for someone else (代理) and how the delegation is shown."""

    relationships: Annotated[list[ProxyRelationship], PydField(min_length=1)]


class English(Model):
    title: NonEmpty
    summary: NonEmpty


class Ended(Model):
    """A procedure the law no longer has (受付終了): shown, with what to do instead."""

    date: dt.date  # the last day it was accepted
    instead: NonEmpty
    instead_easy: NonEmpty
    instead_en: NonEmpty


class Procedure(Model):
    id: KebabId
    national_procedure_id: str | None = None  # null unless known; never guessed
    title: NonEmpty
    summary: NonEmpty
    easy_summary: NonEmpty | None = None  # やさしい日本語 (the catalog check requires it)
    en: English | None = None  # English title and summary (the catalog check requires them)
    sources: NonEmpty | None = None  # what the fields were modelled on (required by the check)
    ended: Ended | None = None
    kana: Annotated[str, PydField(pattern=r"^[ぁ-ゖー・\s]+$")]  # reading, for search
    # Everyday words residents search with (引越し, 赤ちゃん, 印鑑証明 ...) and their readings in
    # hiragana (ひっこし); the catalog check requires both for every procedure (issue 22).
    keywords: list[NonEmpty] = []
    # Why the procedure cannot be filed within the 60-second target (bench/klm.py prints it in
    # the table of docs/benchmarks.md), e.g. the law requires the answers it asks.
    klm_note: NonEmpty | None = None
    purpose_of_use: NonEmpty
    legal_basis: NonEmpty
    life_events: list[KebabId] = []
    department: KebabId
    channel: Literal["online", "counter", "both"]
    identity_level: Literal["none", "login", "signature"]
    # identity_level none only: anyone may file without logging in (妊娠の届出: 母子保健法第15条),
    # but a card holder may log in first, and then the fields' prefill fills what the card and
    # the records hold (issue 22). The procedure page offers both ways.
    optional_login: bool = False
    on_behalf: OnBehalf | None = None  # None: only for oneself
    # Counter procedures (channel: counter): where, why in person, and who may come.
    counter: KebabId | None = None
    in_person_reason: NonEmpty | None = None
    who_may_come: list[NonEmpty] = []
    what_you_need: list[NonEmpty] = []
    appointment: AppointmentLink | None = None  # booking a visit from this procedure (issue 9)
    suggestions: list[Suggestion] = []  # offered after submitting (issue 11)
    estimated_minutes: Annotated[int, PydField(ge=1, le=120)]
    processing_time: NonEmpty
    # The standard number of days from submission to a decision: cases older than this are
    # highlighted as overdue in the staff inbox.
    processing_days: Annotated[int, PydField(ge=1, le=365)]
    next_steps: NonEmpty
    fee: Fee | None = None
    attachments: list[Attachment] = []
    deadline: Deadline | None = None
    workflow: SnakeName = "standard"
    retention: Retention
    steps: list[Step] = []
    declaration: NonEmpty | None = None
    # What a state of the workflow means for this procedure, told to the resident instead of the
    # workflow's general description (issue 22): a nursery application is 承認 only after 利用調整.
    outcomes: dict[SnakeName, NonEmpty] = {}
    example_answers: dict[str, Any] = {}

    def fields(self) -> list[Field]:
        return [field for step in self.steps for field in step.fields]

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields() if field.name == name), None)

    def step(self, step_id: str) -> Step | None:
        return next((step for step in self.steps if step.id == step_id), None)


class ChecklistItem(Model):
    """One line of a life event's personal checklist: a procedure of the catalog (online, or at
    a counter), or something handled by another office or a company (`title` and `where`).
    `when` is a rule on the screening answers; without it the item always applies."""

    procedure: KebabId | None = None
    title: NonEmpty | None = None
    where: NonEmpty | None = None
    when: RuleText | None = None
    note: NonEmpty | None = None

    @model_validator(mode="after")
    def _procedure_or_elsewhere(self) -> ChecklistItem:
        if (self.procedure is None) == (self.title is None):
            raise ValueError("give either a procedure or a title (with where)")
        if self.title is not None and self.where is None:
            raise ValueError("an item handled elsewhere says where")
        return self


class GroupFill(Model):
    """A group answer made from a shared group: one item per shared item (those for which
    `where` holds), each sub-answer a rule on the shared item's answers and the bundle's."""

    source: SnakeName = PydField(alias="from")
    where: RuleText | None = None
    map: Annotated[dict[SnakeName, RuleText], PydField(min_length=1)]


class BundleFill(Model):
    """How the shared answers of a bundle fill one procedure: field name → a rule on the
    screening and shared answers (a name, a constant such as "move-in"), or a GroupFill."""

    procedure: KebabId
    answers: Annotated[dict[SnakeName, RuleText | GroupFill], PydField(min_length=1)]


class BundleSpec(Model):
    """One-stop filing of a life event: shared questions asked once (only those some chosen
    procedure uses), mapped into every chosen procedure's fields by `fills`."""

    shared: Annotated[list[Step], PydField(min_length=1)]
    fills: list[BundleFill] = []
    notify: SnakeName | None = None  # the shared e-mail answer deadline reminders go to

    def fill(self, procedure_id: str) -> BundleFill | None:
        return next((f for f in self.fills if f.procedure == procedure_id), None)


class LifeEvent(Model):
    """A life event (引越し, 出産, おくやみ ...): a short screening questionnaire whose answers
    select the checklist's items; deadlines count from the screening's `event_date` answer."""

    id: KebabId
    label: NonEmpty
    label_en: NonEmpty
    label_easy: NonEmpty
    summary: NonEmpty | None = None
    screening: Step | None = None
    event_date: SnakeName | None = None
    items: list[ChecklistItem] = []
    bundle: BundleSpec | None = None


class CatalogData(Model):
    city: City
    departments: list[Department]
    counters: list[Counter] = []
    life_events: list[LifeEvent] = []
    workflows: dict[SnakeName, Workflow]
    procedures: list[Procedure]

    def procedure(self, procedure_id: str) -> Procedure | None:
        return next((p for p in self.procedures if p.id == procedure_id), None)

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def counter(self, counter_id: str) -> Counter | None:
        return next((c for c in self.counters if c.id == counter_id), None)
