"""Answers filled in before the resident types anything: from the My Number card's four basic
items and from the city's resident records (issue 5).

A field opts in with `prefill:` in the catalog (portal.catalog.schema.Prefill). "applicant.*"
sources describe the signed-in resident, "subject.*" the person the application is about: the
applicant themself, or the person they act for (代理). The records of someone else are read only
when the resident records themselves show the relationship (same household); an applicant with a
letter of delegation (委任状) types the other person's details, because the letter is checked by
staff later, not here. Every read is logged by the records service under the submission's
reader id, with the procedure as the purpose.

`prefill_answers` returns the answers and where each came from ({name: "card" | "records"}); the
step pages mark those fields, and fields whose `prefill.editable` is false are shown, not asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from portal import japanese
from portal.catalog.fields import has_gaiji
from portal.catalog.schema import Field, Prefill, Procedure
from portal.records.base import (
    Address,
    Child,
    Household,
    HouseholdMember,
    RecordNotFound,
    ResidentRecords,
)

CARD = "card"
RECORDS = "records"
REMEMBERED = "remembered"
# the 転出証明書情報 another municipality sent for a resident moving in (IncomingMove)
MOVE_NOTICE = "move-notice"
EARLIER = "earlier"


@dataclass(frozen=True)
class Applicant:
    """The signed-in resident: the card's four items and their record id (None if unknown)."""

    card: dict[str, str]  # name, address, birthdate, gender
    person_id: str | None
    # phone and e-mail the resident asked to remember (portal.submissions.contacts)
    contact: dict[str, str] = dc_field(default_factory=dict)
    # the card's 個人番号 read at login with the resident's consent, already encrypted as a
    # mynumber answer is stored (portal.identity.views.callback); None when not read
    my_number: str | None = None
    # answers of the resident's earlier application of the same kind, by field name
    # (portal.submissions.earlier); empty when there is none
    earlier: dict[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class Subject:
    """Whom the application is about. `readable`: their records may be read (themself, or a
    member of the applicant's household); otherwise only what the applicant typed is used."""

    person_id: str | None
    readable: bool
    typed: dict[str, Any] | None = None  # {"name", "kana", "birth_date"} typed by a proxy


def _address_value(address: Address) -> dict[str, str]:
    value = {
        "postal_code": address.postal_code,
        "prefecture": address.prefecture,
        "city": address.city,
        "town": address.town,
        "block": address.block,
    }
    if address.building:
        value["building"] = address.building
    return value


class _Reader:
    """Reads each record at most once per prefill, with the reader and purpose filled in."""

    def __init__(self, records: ResidentRecords, reader: str, purpose: str) -> None:
        self.records = records
        self.reader = reader
        self.purpose = purpose
        self._cache: dict[tuple[str, str], Any] = {}

    def get(self, kind: str, person_id: str) -> Any:
        key = (kind, person_id)
        if key not in self._cache:
            method = getattr(self.records, kind)
            try:
                self._cache[key] = method(person_id, reader=self.reader, purpose=self.purpose)
            except RecordNotFound:
                self._cache[key] = None
        return self._cache[key]


def prefill_answers(
    procedure: Procedure,
    applicant: Applicant,
    subject: Subject,
    records: ResidentRecords | None,
    reader: str,
    today: dt.date,
    my_number_key: bytes | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The prefilled answers of a new draft and the source of each. `my_number_key` encrypts a
    個人番号 read from the records (subject.spouse_my_number) as a typed one is stored; without
    it that source fills nothing."""
    return prefill_fields(
        procedure.fields(),
        procedure.title,
        applicant,
        subject,
        records,
        reader,
        today,
        my_number_key=my_number_key,
    )


def prefill_fields(
    fields: Iterable[Field],
    title: str,
    applicant: Applicant,
    subject: Subject,
    records: ResidentRecords | None,
    reader: str,
    today: dt.date,
    my_number_key: bytes | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Prefilled answers of these fields (a procedure's, or a bundle's shared questions; `title`
    names them in the records' read log) and the source of each."""
    answers: dict[str, Any] = {}
    sources: dict[str, str] = {}
    read = _Reader(records, reader, f"{title}：申請書の事前入力") if records else None
    for field in fields:
        if field.prefill is None:
            continue
        found = _value(field, applicant, subject, read, today, my_number_key)
        if found is not None:
            answers[field.name], source = found
            if source:
                sources[field.name] = source
    return answers, sources


def _value(
    field: Field,
    applicant: Applicant,
    subject: Subject,
    read: _Reader | None,
    today: dt.date,
    my_number_key: bytes | None = None,
) -> tuple[Any, str | None] | None:
    source = _spec(field).source
    who, _, item = source.partition(".")
    if source == "applicant.earlier":
        return _earlier(field, applicant)
    if source in ("applicant.phone", "applicant.email"):
        remembered = applicant.contact.get(item)
        return (remembered, REMEMBERED) if remembered else None
    if who == "deceased":
        return _deceased(field, item, applicant, read, today)
    if source == "subject.phone":
        return _own_phone(applicant, subject)
    if source.startswith("applicant.incoming_"):
        return _incoming_move(field, item, applicant, read)
    is_applicant = who == "applicant" or subject.person_id == applicant.person_id
    if item == "my_number":
        # Only the card holder's own number, from their card: never another person's, and not
        # for a subject acting with a letter (whose record id may match nobody).
        if not applicant.my_number or not (who == "applicant" or _is_self(subject, applicant)):
            return None
        return applicant.my_number, CARD
    if who == "subject" and not is_applicant:
        if not subject.readable:
            # Acting with a letter: only what the applicant typed on the "who" page.
            if item == "person" and subject.typed:
                return _person(subject.typed), None
            return None
        person_id = subject.person_id
    else:
        person_id = applicant.person_id
    resident = read.get("resident", person_id) if read and person_id else None

    if item == "person":
        if is_applicant and applicant.card.get("name"):
            value = {"name": applicant.card["name"], "birth_date": applicant.card["birthdate"]}
            if resident is not None:
                value["kana"] = resident.kana
            return _person(value), CARD
        if resident is None:
            return None
        return _person(
            {"name": resident.name, "kana": resident.kana, "birth_date": resident.birth_date}
        ), RECORDS
    if who == "applicant" and item == "name":
        if applicant.card.get("name"):
            return applicant.card["name"], CARD
        return (resident.name, RECORDS) if resident is not None else None
    if who == "applicant" and item == "kana":
        return (resident.kana, RECORDS) if resident is not None and resident.kana else None
    if item == "address":
        if resident is None:
            return None
        # The card holds the address as one line; the records hold the same in parts.
        same_as_card = is_applicant and resident.address.one_line() == applicant.card.get("address")
        return _address_value(resident.address), CARD if same_as_card else RECORDS
    if item == "children":
        children = read.get("children", person_id) if read and person_id else None
        if not children:
            return None
        limit = _spec(field).max_age
        items = []
        for child in children:
            if limit is not None and child.age(today) >= limit:
                continue
            attributes = {
                "name": child.name,
                "kana": child.kana,
                "birth_date": child.birth_date.isoformat(),
                "relationship": _relationship(field, "child"),
                "school_grade": school_grade(child.birth_date, today),
                "living": living_together(child),
                "nursery": _nursery(field, child, read),
            }
            items.append(
                {
                    sub: attributes[attr]
                    for sub, attr in _spec(field).map.items()
                    if attributes[attr] is not None
                }
            )
        return (items, RECORDS) if items else None
    if item == "household":
        household = read.get("household", person_id) if read and person_id else None
        if household is None:
            return None
        items = []
        for member in household.members:
            attributes = {
                "name": member.name,
                "kana": member.kana,
                "birth_date": member.birth_date.isoformat(),
                "relationship": _relationship(field, member.relationship),
            }
            items.append({sub: attributes[attr] for sub, attr in _spec(field).map.items()})
        return (items, RECORDS) if items else None
    if item == "parent_role":
        children = read.get("children", person_id) if read and person_id else None
        role = PARENT_ROLES.get(resident.gender) if resident is not None else None
        return (role, RECORDS) if children and role else None
    if item == "household_services":
        return _household_services(field, person_id, read)
    if item in ("household_role", "household_head"):
        household = read.get("household", person_id) if read and person_id else None
        if household is None:
            return None
        is_head = household.head_person_id == person_id
        if item == "household_role":
            return ("head" if is_head else "member"), RECORDS
        head = next((m for m in household.members if m.person_id == household.head_person_id), None)
        return (head.name, RECORDS) if head is not None and not is_head else None
    if item in ("spouse", "spouse_in_household", "spouse_name", "spouse_my_number"):
        household = read.get("household", person_id) if read and person_id else None
        spouse = _spouse_in(household, person_id) if household is not None else None
        if spouse is None:
            return None
        if item == "spouse_my_number":
            own = is_applicant and _is_self(subject, applicant)
            return _spouse_my_number(spouse, own, read, my_number_key)
        if item == "spouse_in_household":
            return True, RECORDS
        if item == "spouse_name":
            return spouse.name, RECORDS
        return _person(
            {"name": spouse.name, "kana": spouse.kana, "birth_date": spouse.birth_date}
        ), RECORDS
    if item == "care_insured_number":
        insurance = read.get("insurance", person_id) if read and person_id else None
        if insurance is None or not insurance.nursing_care_insured_number:
            return None
        return insurance.nursing_care_insured_number, RECORDS
    if item in ("care_level", "care_plan_type"):
        insurance = read.get("insurance", person_id) if read and person_id else None
        if insurance is None or not insurance.nursing_care_level:
            return None
        if item == "care_plan_type":
            return insurance.nursing_care_level.split("-")[0], RECORDS  # care-2 -> care
        return insurance.nursing_care_level, RECORDS
    if item in ("moved_in_date", "previous_municipality"):
        # the 転入届 as the 住民票 records it (decision 0083)
        move = read.get("move_in", person_id) if read and person_id else None
        if move is None:
            return None
        if item == "moved_in_date":
            return move.moved_in.isoformat(), RECORDS
        return f"{move.previous_prefecture}{move.previous_city}", RECORDS
    if item == "child_allowance_number":
        number = read.get("child_allowance_number", person_id) if read and person_id else None
        return (number, RECORDS) if number else None
    if item in ("care_doctor", "care_clinic"):
        insurance = read.get("insurance", person_id) if read and person_id else None
        doctor = getattr(insurance, item, None) if insurance is not None else None
        return (doctor, RECORDS) if doctor else None
    if item == "care_insured_category":
        if resident is None or _age(resident.birth_date, today) < FIRST_CATEGORY_AGE:
            return None
        return "first", RECORDS
    if item == "tax_lookup":
        return _tax_lookup(person_id, read, today)
    raise ValueError(f"unknown prefill source {source!r}")  # pragma: no cover - schema checks


# deceased.*: deaths the records show within this many days (the claims that ask for the
# deceased lapse two years after the event: 葬祭費, 未支払の児童手当)
DECEASED_WITHIN_DAYS = 731


def _deceased(
    field: Field, item: str, applicant: Applicant, read: _Reader | None, today: dt.date
) -> tuple[Any, str] | None:
    """The one recently deceased person the records tie to the signed-in resident (除票), as
    the field wants it; nothing when there is none or more than one (the resident types)."""
    if read is None or applicant.person_id is None:
        return None
    had = _spec(field).had
    found = [
        d
        for d in read.get("deceased_relatives", applicant.person_id) or ()
        if (had is None or had in d.had) and 0 <= (today - d.died_on).days <= DECEASED_WITHIN_DAYS
    ]
    if len(found) != 1:
        return None
    deceased = found[0]
    if item == "person":
        return _person(
            {"name": deceased.name, "kana": deceased.kana, "birth_date": deceased.birth_date}
        ), RECORDS
    if item == "death_date":
        return deceased.died_on.isoformat(), RECORDS
    if item == "address":
        return _address_value(deceased.address), RECORDS
    if item == "insured_number":
        return (deceased.health_insured_number, RECORDS) if deceased.health_insured_number else None
    if item == "relationship":
        # the resident's 続柄 seen from the person who died, when the field offers it
        offered = {o.value for o in field.options}
        code = deceased.relationship
        return (code, RECORDS) if code is not None and code in offered else None
    raise ValueError(f"unknown prefill source deceased.{item}")  # pragma: no cover - schema


def _own_phone(applicant: Applicant, subject: Subject) -> tuple[str, str] | None:
    """subject.phone: the phone the resident asked to remember, for the phone of the person the
    application is about only when that is the resident themself (never a proxy's phone in the
    insured person's field)."""
    phone = applicant.contact.get("phone")
    return (phone, REMEMBERED) if phone and _is_self(subject, applicant) else None


def _incoming_move(
    field: Field, item: str, applicant: Applicant, read: _Reader | None
) -> tuple[Any, str] | None:
    """applicant.incoming_*: what the 転出証明書情報 the resident's former municipality sent the
    city (through 住基ネット, after their online 転出届 with the card) says about the move: the
    new address, the planned move date, who moves, and that the 転出届 was made online. Nothing
    when none has arrived (a paper 転出証明書, or no 転出届 yet): the resident types the move."""
    person_id = applicant.person_id
    move = read.get("incoming_move", person_id) if read and person_id else None
    if move is None:
        return None
    if item == "incoming_address":
        return _address_value(move.new_address), MOVE_NOTICE
    if item == "incoming_move_date":
        return move.planned_move_date.isoformat(), MOVE_NOTICE
    if item == "incoming_tenshutsu":
        return "online", MOVE_NOTICE  # sent before the 転入届 only for an online 転出届
    items = []
    for mover in move.movers:
        attributes = {
            "name": mover.name,
            "kana": mover.kana,
            "birth_date": mover.birth_date.isoformat(),
            "relationship": _relationship(field, mover.relationship),
            # the card the resident logged in with; another mover's card is theirs to say
            "has_card": True if mover.person_id == person_id else None,
        }
        items.append(
            {
                sub: attributes[attr]
                for sub, attr in _spec(field).map.items()
                if attributes.get(attr) is not None
            }
        )
    return (items, MOVE_NOTICE) if items else None


# subject.household_services: what the insurance records say, as the options name it
INSURANCE_SERVICES = {"national": "kokuho", "late-elderly": "kouki"}


def _household_services(field: Field, person_id: str | None, read: _Reader | None):
    """The options of a checkboxes field the city's registers show for someone in the subject's
    household, in the field's order; nothing when they show none."""
    household = read.get("household", person_id) if read and person_id else None
    if read is None or household is None:
        return None
    found: set[str] = set()
    for member in household.members:
        insurance = read.get("insurance", member.person_id)
        if insurance is not None:
            found.add(INSURANCE_SERVICES.get(insurance.kind, ""))
            if insurance.nursing_care_level:
                found.add("kaigo")
        found.update(read.get("city_services", member.person_id) or ())
    chosen = [o.value for o in field.options if o.value in found]
    return (chosen, RECORDS) if chosen else None


def _earlier(field: Field, applicant: Applicant) -> tuple[Any, str] | None:
    """The answer of the resident's earlier application of the same kind (already selected
    by the owner's sub, portal.submissions.earlier)."""
    value = applicant.earlier.get(field.name)
    return (value, EARLIER) if value is not None else None


def school_grade(birth_date: dt.date, today: dt.date) -> str | None:
    """The school year a child is in by law (学校教育法第17条: the first school year after the
    day before their sixth birthday), as elementary-1 .. junior-3; None outside school age. A
    deferred or early start is rare: the resident corrects it (the field stays editable)."""
    first_year = birth_date.year + (7 if (birth_date.month, birth_date.day) >= (4, 2) else 6)
    school_year = today.year if (today.month, today.day) >= (4, 1) else today.year - 1
    grade = school_year - first_year + 1
    if 1 <= grade <= 6:
        return f"elementary-{grade}"
    if 7 <= grade <= 9:
        return f"junior-{grade - 6}"
    return None


def living_together(child: Child) -> str | None:
    """ "together" when the resident records show the child in the subject's own household (the
    住民票 is where a person lives, 住民基本台帳法第4条 and 地方自治法第10条); nothing otherwise: a
    child registered elsewhere may still live with the resident, and only they can say so. The
    value stays editable (the question asks about a reference date, e.g. 6月1日)."""
    return "together" if child.same_household else None


def _nursery(field: Field, child: Child, read: _Reader | None) -> str | None:
    """The facility of the child's nursery place as the city allocated it (利用調整: the city's
    own register), when the group's sub-field offers it; read only for a group that maps it."""
    target = next(
        (sub for sub in field.fields if _spec(field).map.get(sub.name) == "nursery"), None
    )
    if target is None or read is None:
        return None
    facility = read.get("nursery", child.person_id)
    return facility if facility in {o.value for o in target.options} else None


# applicant.parent_role: a parent's role by the gender in the records
PARENT_ROLES = {"female": "mother", "male": "father"}

# 介護保険法第9条: residents 65 and over are 第1号被保険者.
FIRST_CATEGORY_AGE = 65


def _age(birth_date: dt.date, today: dt.date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def _spouse_my_number(
    spouse: HouseholdMember, is_applicant: bool, read: _Reader | None, key: bytes | None
) -> tuple[str, str] | None:
    """The 個人番号 of the applicant's spouse in the same household, from the resident record,
    encrypted as a typed number is stored (the page shows only its last four digits). Only for
    the applicant's own spouse: a member of the same household may obtain it on a 住民票 anyway
    (住民基本台帳法第12条), and the city uses it for the procedure's own 個人番号利用事務."""
    if not is_applicant or read is None or key is None:
        return None
    number = read.get("my_number", spouse.person_id)
    if not number:
        return None
    return japanese.encrypt_sensitive(japanese.normalize_my_number(number), key), RECORDS


def _is_self(subject: Subject, applicant: Applicant) -> bool:
    """The application is about the applicant themself (the "who" page said so, or no one
    else was chosen)."""
    return subject.typed is None and subject.person_id == applicant.person_id


def _spouse_in(household: Household, person_id: str | None) -> HouseholdMember | None:
    """The person's spouse in their household: the head's spouse, or the head for a spouse."""
    me = next((m for m in household.members if m.person_id == person_id), None)
    wanted = {"head": "spouse", "spouse": "head"}.get(me.relationship) if me else None
    return next((m for m in household.members if m.relationship == wanted), None)


def _person(value: dict[str, Any]) -> dict[str, Any]:
    """A person field's stored form (as PersonType.read makes it)."""
    person = {k: v for k, v in value.items() if v}
    if isinstance(person.get("birth_date"), dt.date):
        person["birth_date"] = person["birth_date"].isoformat()
    person["has_gaiji"] = has_gaiji(person.get("name", ""))
    return person


def _tax_lookup(person_id: str | None, read: _Reader | None, today: dt.date):
    """ "city" when the city taxed the person on 1 January (it has last year's income), else
    "attach" (they moved in since: the previous city issues the 課税証明書)."""
    if read is None or person_id is None:
        return None
    history = read.get("address_history", person_id)
    if not history:
        return None
    current = next((entry for entry in history if entry.moved_out is None), None)
    if current is None:
        return None
    taxed_here = current.moved_in <= dt.date(today.year, 1, 1)
    return ("city" if taxed_here else "attach"), RECORDS


# The records' relationship to the head of the household, as a resident reads it.
RELATIONSHIP_LABELS = {
    "head": "世帯主",
    "spouse": "配偶者",
    "child": "子",
    "parent": "父母",
    "other": "その他",
}


def _relationship(field: Field, code: str) -> str:
    """The code when the group's relationship sub-field offers it as an option, else the
    Japanese word (for a text sub-field)."""
    target = next(
        (sub for sub in field.fields if _spec(field).map.get(sub.name) == "relationship"), None
    )
    if target is not None and code in {o.value for o in target.options}:
        return code
    return RELATIONSHIP_LABELS.get(code, code)


def _spec(field: Field) -> Prefill:
    """The prefill of a field that has one (every field this module reads)."""
    if field.prefill is None:
        raise ValueError(f"field {field.name!r} has no prefill")
    return field.prefill
