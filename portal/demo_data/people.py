"""The demo's fictional people, read by both mocks: the virtual My Number cards of the mock
デジタル認証アプリ (portal.mock_jpki) and the city's records about them (portal.records.mock),
loaded from people.yaml and checked on load.

This package is the one demo-data place: neither mock owns it, so either can be replaced by the
real service (the card service, a records adapter) without touching the other. Each persona is
one fictional resident (or a helper such as a care manager) with the card's secrets, the status
of its two certificates, and the records procedures read through portal.records.

The checks make the file safe to edit by hand: unique ids, My Numbers with a valid check digit,
a 4-digit PIN, a 6–16 character signature password, references (represents, children) to
existing personas, one head per household sharing one address, and no signature certificate
under 15 (the law does not issue one). Ages in the card labels are checked against
:data:`REFERENCE_DATE`, the demo's "today".

The real card's signature password uses upper-case letters and digits only; the YAML follows
that, and the check accepts any ASCII letters so that a typo shows up as a wrong password, not as
a load error.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from portal.japanese import is_katakana_name, my_number_check_digit

DEFAULT_PATH = Path(__file__).with_name("people.yaml")
# The demo's "today": ages in card labels and the under-15 rule are checked on this date.
REFERENCE_DATE = dt.date(2026, 11, 22)
# 署名用電子証明書 is not issued to children under 15 (公的個人認証法).
SIGNATURE_MIN_AGE = 15

CertificateKind = Literal["authentication", "signature"]
SignatureStatus = Literal["valid", "none", "revoked", "expired"]
AuthenticationStatus = Literal["valid", "expired"]
Gender = Literal["male", "female", "other"]
# JPKI encodes gender as 1 (male), 2 (female), 3 (other or unknown).
JPKI_GENDER_CODES: dict[str, int] = {"male": 1, "female": 2, "other": 3}
Relationship = Literal["head", "spouse", "child", "parent", "other"]
Role = Literal["care-manager", "family-proxy"]
Insurance = Literal["national", "employee", "late-elderly"]
NursingCareLevel = Literal[
    "support-1", "support-2", "care-1", "care-2", "care-3", "care-4", "care-5"
]

_ID_RE = re.compile("[a-z0-9]+(?:-[a-z0-9]+)*")
_LABEL_AGE_RE = re.compile("（([0-9]+)歳")

Digits7 = Annotated[str, Field(pattern="^[0-9]{7}$")]
NonEmpty = Annotated[str, Field(min_length=1)]


class PersonaError(ValueError):
    """people.yaml is malformed or inconsistent; the message says where."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Frozen):
    postal_code: Digits7
    prefecture: NonEmpty
    city: NonEmpty
    town: NonEmpty
    block: NonEmpty
    building: str | None = None

    def one_line(self) -> str:
        """ "千葉県いすみ市大原1234番地 コーポ大原203号室" (no postal code, as on the card)."""
        line = f"{self.prefecture}{self.city}{self.town}{self.block}"
        return f"{line} {self.building}" if self.building else line


class PreviousAddress(_Frozen):
    address: Address
    moved_in: dt.date
    moved_out: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> PreviousAddress:
        if self.moved_out < self.moved_in:
            raise ValueError("moved_out is before moved_in")
        return self


class Certificates(_Frozen):
    signature: SignatureStatus
    authentication: AuthenticationStatus


class AttendingDoctor(_Frozen):
    """The 主治医 who wrote the 主治医意見書 of the person's last care certification (the city
    asked them for it, so the care insurance records hold them)."""

    name: NonEmpty
    clinic: NonEmpty


class NursingCare(_Frozen):
    level: NursingCareLevel | None = None
    # 介護保険被保険者番号 (10 digits); only first-category insured (65+) hold one in the mock.
    insured_number: Annotated[str, Field(pattern="^[0-9]{10}$")] | None = None
    doctor: AttendingDoctor | None = None

    @model_validator(mode="after")
    def _level_needs_number(self) -> NursingCare:
        if self.level is not None and self.insured_number is None:
            raise ValueError("a nursing care level needs an insured_number")
        return self


# What the city's own registers show a person receiving or using (issue 22): 児童手当 (the city
# pays it), the city's elementary or junior high school (学齢簿), a nursery place (利用調整),
# a disability certificate or medical subsidy certificate (障害者手帳・受給者証).
CityService = Literal["jidou-teate", "school", "hoiku", "shogai"]


class MovingOut(_Frozen):
    """The 転出証明書情報 another municipality sent the city through 住基ネット after the persona
    filed their 転出届 there online with their card (引越しワンストップサービス,
    住民基本台帳法第24条の2): who moves, where to in the city, and when. The demo keeps the move
    ahead of whatever day it is: the planned date is ``days_until_move`` days after today."""

    to: Address
    days_until_move: Annotated[int, Field(ge=0, le=30)]
    movers: tuple[str, ...]  # persona ids, the filer first


class MovedIn(_Frozen):
    """The persona's recent 転入届 (住民基本台帳法第22条) as the 住民票 records it: the municipality
    of the previous address and the day they began living here. The demo keeps the move recent
    whatever the date: ``days_ago`` days before today (the 14 days of a carried-over care
    certification count from it)."""

    days_ago: Annotated[int, Field(ge=0, le=365)]
    prefecture: NonEmpty
    city: NonEmpty


class Records(_Frozen):
    insurance: Insurance
    services: tuple[CityService, ...] = ()
    # The facility of the nursery place the city allocated (利用調整), as the catalog's
    # `facilities` option value; only with the service hoiku (issue 22).
    nursery: Annotated[str, Field(pattern="^[a-z0-9][a-z0-9_-]*$")] | None = None
    nursing_care: NursingCare = NursingCare()
    income_last_year: Annotated[int, Field(ge=0)]
    tax_status: Literal["taxable", "exempt"]
    children: tuple[str, ...] = ()
    # Since when the persona lives at the current address; earlier addresses, oldest first.
    resident_since: dt.date
    previous_addresses: tuple[PreviousAddress, ...] = ()
    moving_out: MovingOut | None = None
    moved_in: MovedIn | None = None
    # the 児童手当 受給者番号 the city assigned when it certified the persona (they receive it)
    jidoteate_number: NonEmpty | None = None

    @model_validator(mode="after")
    def _nursery_needs_place(self) -> Records:
        if self.nursery is not None and "hoiku" not in self.services:
            raise ValueError("a nursery needs the service hoiku")
        return self


AccountType = Literal["ordinary", "current", "savings"]


class PublicFundsAccount(_Frozen):
    """The 公金受取口座 the person registered (公金受取口座登録法; in reality with デジタル庁,
    through マイナポータル): what the city may ask the registry for to pay a benefit to them."""

    bank_code: Annotated[str, Field(pattern="^[0-9]{4}$")]
    branch_code: Annotated[str, Field(pattern="^[0-9]{3}$")]
    account_type: AccountType
    account_number: Annotated[str, Field(pattern="^[0-9]{7}$")]
    holder_kana: NonEmpty


class Persona(_Frozen):
    id: str
    card_label: NonEmpty
    name: NonEmpty
    kana: NonEmpty
    birth_date: dt.date
    gender: Gender
    address: Address
    my_number: Annotated[str, Field(pattern="^[0-9]{12}$")]
    auth_pin: Annotated[str, Field(pattern="^[0-9]{4}$")]
    # None exactly when the card has no signature certificate.
    sign_password: Annotated[str, Field(pattern="^[A-Za-z0-9]{6,16}$")] | None
    household_id: NonEmpty
    relationship_to_head: Relationship
    certificates: Certificates
    locked_auth: bool = False
    roles: tuple[Role, ...] = ()
    represents: tuple[str, ...] = ()
    records: Records
    # None: no 公金受取口座 registered (issue 22).
    public_funds_account: PublicFundsAccount | None = None

    @model_validator(mode="after")
    def _check(self) -> Persona:
        if not _ID_RE.fullmatch(self.id):
            raise ValueError(f"id {self.id!r} is not kebab-case ASCII")
        if self.name != self.name.strip() or "  " in self.name:
            raise ValueError("name has stray spaces")
        if not is_katakana_name(self.kana):
            raise ValueError("kana must be full-width katakana words separated by one space")
        if my_number_check_digit(self.my_number[:11]) != int(self.my_number[11]):
            raise ValueError(f"my_number {self.my_number} has a wrong check digit")
        has_signature = self.certificates.signature != "none"
        if has_signature != (self.sign_password is not None):
            raise ValueError(
                "sign_password must be set exactly when there is a signature certificate"
            )
        if self.sign_password is not None and not (
            re.search("[A-Za-z]", self.sign_password) and re.search("[0-9]", self.sign_password)
        ):
            raise ValueError("sign_password must mix letters and digits")
        if has_signature and self.age(REFERENCE_DATE) < SIGNATURE_MIN_AGE:
            raise ValueError(f"no signature certificate is issued under {SIGNATURE_MIN_AGE}")
        label_age = _LABEL_AGE_RE.search(self.card_label)
        if label_age and int(label_age.group(1)) != self.age(REFERENCE_DATE):
            raise ValueError(
                f"card_label says {label_age.group(1)} but the age on {REFERENCE_DATE} is "
                f"{self.age(REFERENCE_DATE)}"
            )
        if self.id in self.represents or self.id in self.records.children:
            raise ValueError("a persona cannot represent or be the child of itself")
        if self.records.resident_since < self.birth_date:
            raise ValueError("resident_since is before birth_date")
        previous_end = self.birth_date
        for previous in self.records.previous_addresses:
            if previous.moved_in < previous_end:
                raise ValueError("previous_addresses overlap or are not oldest first")
            previous_end = previous.moved_out
        if previous_end > self.records.resident_since:
            raise ValueError("the last previous address ends after resident_since")
        if self.certificates.signature == "revoked" and not self.records.previous_addresses:
            # The mock revokes a signature certificate because the holder moved (住所変更).
            raise ValueError("a revoked signature certificate needs previous_addresses")
        return self

    def age(self, on: dt.date) -> int:
        """Full years on the date ``on`` (a Feb 29 birthday counts from Mar 1 in common years)."""
        born = self.birth_date
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    def four_items(self) -> dict[str, str]:
        """The four basic items (基本4情報) as the signature certificate carries them."""
        return {
            "name": self.name,
            "address": self.address.one_line(),
            "birthdate": self.birth_date.isoformat(),
            "gender": self.gender,
        }

    @property
    def gender_code(self) -> int:
        """JPKI's gender code: 1 male, 2 female, 3 other or unknown."""
        return JPKI_GENDER_CODES[self.gender]


# What a removal record (除票) shows the person had when they died: a health insurance
# (national, late-elderly) or one of the city's services (jidou-teate: they received 児童手当).
Held = Literal["national", "late-elderly", "employee", "jidou-teate"]


class RemovedResident(_Frozen):
    """A resident removed from the register by death (除票, after the 死亡届): no card, and the
    city's records keep the entry. `died_days_ago` keeps the demo's deaths recent whatever the
    date (a claim such as 葬祭費 lapses two years after the funeral)."""

    id: str
    name: NonEmpty
    kana: NonEmpty
    birth_date: dt.date
    gender: Gender
    address: Address
    died_days_ago: Annotated[int, Field(ge=0, le=3650)]
    household_id: NonEmpty  # the household they were in when they died
    relationship_to_head: Relationship
    had: tuple[Held, ...] = ()
    health_insured_number: NonEmpty | None = None  # 国保の記号・番号 or 後期高齢者の被保険者番号
    children: tuple[str, ...] = ()  # persona ids of their children in the records

    @model_validator(mode="after")
    def _check(self) -> RemovedResident:
        if not _ID_RE.fullmatch(self.id):
            raise ValueError(f"id {self.id!r} is not kebab-case ASCII")
        if not is_katakana_name(self.kana):
            raise ValueError("kana must be full-width katakana words separated by one space")
        return self


class _PersonaFile(_Frozen):
    personas: tuple[Persona, ...]
    removed: tuple[RemovedResident, ...] = ()


def _check_references(personas: tuple[Persona, ...]) -> None:
    ids = [persona.id for persona in personas]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise PersonaError(f"duplicate persona ids: {', '.join(duplicated)}")
    known = set(ids)
    for persona in personas:
        for field, references in (
            ("represents", persona.represents),
            ("records.children", persona.records.children),
            (
                "records.moving_out.movers",
                persona.records.moving_out.movers if persona.records.moving_out else (),
            ),
        ):
            missing = [ref for ref in references if ref not in known]
            if missing:
                raise PersonaError(f"{persona.id}: {field} names unknown personas {missing}")
    numbers = [persona.my_number for persona in personas]
    if len(set(numbers)) != len(numbers):
        raise PersonaError("two personas share a my_number")
    households: dict[str, list[Persona]] = {}
    for persona in personas:
        households.setdefault(persona.household_id, []).append(persona)
    for household_id, members in households.items():
        heads = [m.id for m in members if m.relationship_to_head == "head"]
        if len(heads) != 1:
            raise PersonaError(f"household {household_id} has {len(heads)} heads, not one")
        if len({m.address for m in members}) != 1:
            raise PersonaError(f"household {household_id}: members live at different addresses")


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> tuple[Persona, ...]:
    return _load_file(path).personas


@functools.lru_cache(maxsize=8)
def _load_file(path: Path) -> _PersonaFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PersonaError(f"{path}: cannot read: {error}") from None
    try:
        data = _PersonaFile.model_validate(raw)
    except ValidationError as error:
        raise PersonaError(f"{path}: {error}") from None
    try:
        _check_references(data.personas)
        _check_removed(data)
    except PersonaError as error:
        raise PersonaError(f"{path}: {error}") from None
    return data


def _check_removed(data: _PersonaFile) -> None:
    known = {persona.id for persona in data.personas}
    for removed in data.removed:
        if removed.id in known:
            raise PersonaError(f"removed {removed.id}: the id of a living persona")
        missing = [ref for ref in removed.children if ref not in known]
        if missing:
            raise PersonaError(f"removed {removed.id}: children names unknown personas {missing}")


def load_removed(path: Path | str | None = None) -> dict[str, RemovedResident]:
    """The removal records (除票) of residents who died, by id (default: people.yaml)."""
    data = _load_file(Path(path).resolve() if path is not None else DEFAULT_PATH)
    return {removed.id: removed for removed in data.removed}


def load_personas(path: Path | str | None = None) -> dict[str, Persona]:
    """The personas by id, in file order (default: people.yaml next to this module).

    The file is parsed once per path and process; each call returns a new dict of the same
    (immutable) Persona objects. Raises :class:`PersonaError`.
    """
    personas = _load(Path(path).resolve() if path is not None else DEFAULT_PATH)
    return {persona.id: persona for persona in personas}
