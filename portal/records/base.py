"""What procedures may read about a resident, and the interface that answers.

`ResidentRecords` is the one way procedures read the city's records (住民基本台帳, 国民健康保険・
介護保険, 住民税). Every method names the reader (``"submission:ABC123"``, ``"staff:42"``) and
the purpose (``"児童手当 認定請求: 児童の確認"``), and every call is recorded
(portal.records.models) whatever the answer, so the city can later tell a resident who looked at
what and why. The values are plain frozen dataclasses: procedures copy what they need and never
hold a live record.
Persons are named by their record id (in the mock, the persona id), never by My Number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


class RecordNotFound(LookupError):
    """No record of this person (or of this year, for tax status)."""


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Full years on ``on`` (a Feb 29 birthday counts from Mar 1 in common years)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class Address:
    postal_code: str  # 7 digits
    prefecture: str
    city: str
    town: str
    block: str
    building: str | None

    def one_line(self) -> str:
        """As on the card: "千葉県いすみ市大原1234番地 コーポ大原203号室" (no postal code)."""
        line = f"{self.prefecture}{self.city}{self.town}{self.block}"
        return f"{line} {self.building}" if self.building else line


@dataclass(frozen=True)
class Resident:
    """The basic record of one person (住民票の記載事項 the procedures use)."""

    person_id: str
    name: str
    kana: str
    birth_date: dt.date
    gender: str  # male, female, other
    address: Address


@dataclass(frozen=True)
class HouseholdMember:
    person_id: str
    name: str
    kana: str
    birth_date: dt.date
    relationship: str  # to the head of the household: head, spouse, child, parent, other

    def age(self, on: dt.date) -> int:
        return age_on(self.birth_date, on)


@dataclass(frozen=True)
class Household:
    household_id: str
    head_person_id: str
    address: str  # one line, without the postal code
    members: tuple[HouseholdMember, ...]  # the head first, then in record order


@dataclass(frozen=True)
class Child:
    person_id: str
    name: str
    kana: str
    birth_date: dt.date
    # Whether the child is in the parent's household (同一世帯): allowances differ for 別居.
    same_household: bool

    def age(self, on: dt.date) -> int:
        return age_on(self.birth_date, on)


@dataclass(frozen=True)
class AddressHistoryEntry:
    address: str  # one line, without the postal code
    postal_code: str  # 7 digits
    moved_in: dt.date
    moved_out: dt.date | None  # None: the current address


@dataclass(frozen=True)
class InsuranceStatus:
    kind: str  # health insurance: national (国保), employee (被用者保険), late-elderly (後期高齢者)
    nursing_care_level: str | None  # support-1..2, care-1..5; None when not certified
    nursing_care_insured_number: str | None  # 介護保険被保険者番号 (10 digits), 65 and over
    # The 主治医 (doctor's name, clinic) who wrote the 主治医意見書 of the last certification:
    # the city asked them for it, so the care insurance records hold them.
    care_doctor: str | None = None
    care_clinic: str | None = None


@dataclass(frozen=True)
class MoveIn:
    """A person's 転入 into the city as the 住民票 records it from the 転入届: the day they began
    living here (住所を定めた年月日) and the municipality of the previous address (前住所)."""

    moved_in: dt.date
    previous_prefecture: str
    previous_city: str


@dataclass(frozen=True)
class IncomingMove:
    """The 転出証明書情報 another municipality sent the city through 住基ネット for a person who
    filed their 転出届 there online with their card (引越しワンストップサービス;
    住民基本台帳法第24条の2), before they come to the counter for the 転入届: where to in the
    city, the planned move date (転出予定日) and who moves (the filer first, each with the 続柄 to
    the 世帯主 the 転出届 gave)."""

    origin_city: str
    new_address: Address
    planned_move_date: dt.date
    movers: tuple[HouseholdMember, ...]


@dataclass(frozen=True)
class TaxStatus:
    year: int  # the calendar year of the income (所得年)
    income: int  # yen
    taxable: bool  # False: 住民税非課税


@dataclass(frozen=True)
class RegisteredAccount:
    """A 公金受取口座: the account a person registered for public payments (公的給付の支給等の
    迅速かつ確実な実施のための預貯金口座の登録等に関する法律). The city may ask the registry for
    it to pay that person a benefit (第10条); the resident's application says to use it."""

    bank_code: str  # 4 digits
    branch_code: str  # 3 digits
    account_type: str  # ordinary, current, savings
    account_number: str  # 7 digits
    holder_kana: str


@dataclass(frozen=True)
class DeceasedResident:
    """A resident removed from the register by death (除票, after the 死亡届)."""

    person_id: str
    name: str
    kana: str
    birth_date: dt.date
    died_on: dt.date
    address: Address  # the last address
    # What the records show they had: national / late-elderly / employee (health insurance),
    # jidou-teate (they received 児童手当)
    had: tuple[str, ...]
    health_insured_number: str | None  # 国保の記号・番号, 後期高齢者医療の被保険者番号
    # The asking resident's relationship to them, as the records show it (seen from the person
    # who died): spouse, child, child-in-law (the spouse of their child), parent; None when the
    # records do not show one (a household member of another kind)
    relationship: str | None = None


class ResidentRecords(Protocol):
    """Read access to resident records; each call is recorded. Unknown person: RecordNotFound."""

    def find_person(self, name: str, birth_date: dt.date, *, reader: str, purpose: str) -> str:
        """The record id of the one person with this name and birth date (the card's basic
        items identify a resident); RecordNotFound when none or more than one match."""
        ...

    def resident(self, person_id: str, *, reader: str, purpose: str) -> Resident: ...

    def household(self, person_id: str, *, reader: str, purpose: str) -> Household: ...

    def children(self, person_id: str, *, reader: str, purpose: str) -> tuple[Child, ...]: ...

    def address_history(
        self, person_id: str, *, reader: str, purpose: str
    ) -> tuple[AddressHistoryEntry, ...]: ...

    def insurance(self, person_id: str, *, reader: str, purpose: str) -> InsuranceStatus: ...

    def city_services(self, person_id: str, *, reader: str, purpose: str) -> tuple[str, ...]:
        """What the city's own registers show the person receiving or using: jidou-teate
        (児童手当), school (the city's elementary or junior high school), hoiku (a nursery
        place), shogai (a disability certificate or medical subsidy certificate)."""
        ...

    def nursery(self, person_id: str, *, reader: str, purpose: str) -> str | None:
        """The facility of the person's nursery place, as the city allocated it (利用調整; the
        catalog's `facilities` option value), or None when they have none."""
        ...

    def tax_status(self, person_id: str, year: int, *, reader: str, purpose: str) -> TaxStatus: ...

    def public_funds_account(
        self, person_id: str, *, reader: str, purpose: str
    ) -> RegisteredAccount | None:
        """The person's registered 公金受取口座, None when they registered none."""
        ...

    def deceased_relatives(
        self, person_id: str, *, reader: str, purpose: str
    ) -> tuple[DeceasedResident, ...]:
        """Residents removed from the register by death (除票) whom the records tie to the
        person: in the person's household when they died, or the person's parent or child in
        the records. Most recent death first."""

    def child_allowance_number(self, person_id: str, *, reader: str, purpose: str) -> str | None:
        """The 受給者番号 of the person's 児童手当, which the city assigned when it certified them
        (it pays the allowance); None when they do not receive it from the city."""
        ...

    def incoming_move(self, person_id: str, *, reader: str, purpose: str) -> IncomingMove | None:
        """The 転出証明書情報 received for this person's move into the city, or None when none has
        arrived (no online 転出届, or a paper 転出証明書): then the resident types the move."""
        ...

    def move_in(self, person_id: str, *, reader: str, purpose: str) -> MoveIn | None:
        """The person's last 転入 into the city (from another municipality), or None when the
        records hold none (born here, or no earlier address recorded)."""
        ...

    def my_number(self, person_id: str, *, reader: str, purpose: str) -> str:
        """The person's 個人番号 as the resident record holds it (住民基本台帳法第7条第8号の2);
        read on its own, so that the log shows every read of it."""
        ...
