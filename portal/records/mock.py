"""Resident records answered from the demo's fictional people (portal.demo_data.people).

`MockResidentRecords` implements `ResidentRecords` over the personas' ``records`` and household
fields. Each call first adds one `RecordRead` row to the caller's session and flushes it, without
committing: the read log belongs to the caller's transaction, so it is kept exactly when the work
that needed the data is. A call for an unknown person is logged too (someone asked) and then
raises `RecordNotFound`.

The mock keeps one year of income (``income_last_year``) and answers it for every year before the
current one (Asia/Tokyo); the current and later years are not assessed yet and raise
`RecordNotFound`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session, sessionmaker

from portal import clock
from portal.demo_data.people import Persona, RemovedResident
from portal.records.base import (
    Address,
    AddressHistoryEntry,
    Child,
    DeceasedResident,
    Household,
    HouseholdMember,
    IncomingMove,
    InsuranceStatus,
    MoveIn,
    RecordNotFound,
    RegisteredAccount,
    Resident,
    TaxStatus,
)
from portal.records.models import PERSON_ID_MAX, PURPOSE_MAX, READER_MAX, RecordRead


class MockResidentRecords:
    """`ResidentRecords` from the personas; ``session`` is the caller's Session, or a function
    returning the current one (e.g. ``lambda: db.session`` for the request's session)."""

    def __init__(
        self,
        personas: Mapping[str, Persona],
        session: Session | Callable[[], Session],
        now_fn: Callable[[], dt.datetime] = clock.now,
        removed: Mapping[str, RemovedResident] | None = None,
    ) -> None:
        if isinstance(session, sessionmaker):
            # A new session per call would flush the log row and then drop it uncommitted.
            raise TypeError("pass a Session or a function returning the caller's session")
        self._personas = personas
        self._removed = removed or {}
        self._session = session
        self._now = now_fn

    def _current_session(self) -> Session:
        return self._session if isinstance(self._session, Session) else self._session()

    def _read(self, person_id: str, record: str, reader: str, purpose: str) -> Persona:
        """Log the read, then return the persona or raise RecordNotFound."""
        if not reader or len(reader) > READER_MAX:
            raise ValueError(f"reader must be 1 to {READER_MAX} characters")
        if not purpose or len(purpose) > PURPOSE_MAX:
            raise ValueError(f"purpose must be 1 to {PURPOSE_MAX} characters")
        if not person_id or len(person_id) > PERSON_ID_MAX:
            raise RecordNotFound(person_id)  # cannot be a record id, so nothing was read
        session = self._current_session()
        session.add(
            RecordRead(
                at=self._now(), reader=reader, person_id=person_id, record=record, purpose=purpose
            )
        )
        session.flush()
        persona = self._personas.get(person_id)
        if persona is None:
            raise RecordNotFound(person_id)
        return persona

    def find_person(self, name: str, birth_date: dt.date, *, reader: str, purpose: str) -> str:
        matches = [
            p.id
            for p in self._personas.values()
            if _same_name(p.name, name) and p.birth_date == birth_date
        ]
        # Logged under the id found (or "?" when none): the log names whose record was read.
        self._read(matches[0] if len(matches) == 1 else "?", "find_person", reader, purpose)
        return matches[0]

    def resident(self, person_id: str, *, reader: str, purpose: str) -> Resident:
        persona = self._read(person_id, "resident", reader, purpose)
        return Resident(
            person_id=persona.id,
            name=persona.name,
            kana=persona.kana,
            birth_date=persona.birth_date,
            gender=persona.gender,
            address=_address(persona.address),
        )

    def household(self, person_id: str, *, reader: str, purpose: str) -> Household:
        persona = self._read(person_id, "household", reader, purpose)
        members = [p for p in self._personas.values() if p.household_id == persona.household_id]
        members.sort(key=lambda p: p.relationship_to_head != "head")  # stable: head first
        head = members[0]
        return Household(
            household_id=persona.household_id,
            head_person_id=head.id,
            address=head.address.one_line(),
            members=tuple(
                HouseholdMember(
                    person_id=p.id,
                    name=p.name,
                    kana=p.kana,
                    birth_date=p.birth_date,
                    relationship=p.relationship_to_head,
                )
                for p in members
            ),
        )

    def children(self, person_id: str, *, reader: str, purpose: str) -> tuple[Child, ...]:
        persona = self._read(person_id, "children", reader, purpose)
        children = (self._personas[child_id] for child_id in persona.records.children)
        return tuple(
            Child(
                person_id=child.id,
                name=child.name,
                kana=child.kana,
                birth_date=child.birth_date,
                same_household=child.household_id == persona.household_id,
            )
            for child in children
        )

    def address_history(
        self, person_id: str, *, reader: str, purpose: str
    ) -> tuple[AddressHistoryEntry, ...]:
        persona = self._read(person_id, "address_history", reader, purpose)
        entries = [
            AddressHistoryEntry(
                address=previous.address.one_line(),
                postal_code=previous.address.postal_code,
                moved_in=previous.moved_in,
                moved_out=previous.moved_out,
            )
            for previous in persona.records.previous_addresses
        ]
        entries.append(
            AddressHistoryEntry(
                address=persona.address.one_line(),
                postal_code=persona.address.postal_code,
                moved_in=persona.records.resident_since,
                moved_out=None,
            )
        )
        return tuple(entries)

    def insurance(self, person_id: str, *, reader: str, purpose: str) -> InsuranceStatus:
        persona = self._read(person_id, "insurance", reader, purpose)
        care = persona.records.nursing_care
        return InsuranceStatus(
            kind=persona.records.insurance,
            nursing_care_level=care.level,
            nursing_care_insured_number=care.insured_number,
            care_doctor=care.doctor.name if care.doctor else None,
            care_clinic=care.doctor.clinic if care.doctor else None,
        )

    def child_allowance_number(self, person_id: str, *, reader: str, purpose: str) -> str | None:
        return self._read(
            person_id, "child_allowance_number", reader, purpose
        ).records.jidoteate_number

    def move_in(self, person_id: str, *, reader: str, purpose: str) -> MoveIn | None:
        persona = self._read(person_id, "move_in", reader, purpose)
        recent = persona.records.moved_in
        if recent is not None:
            today = clock.to_local(self._now()).date()
            return MoveIn(
                moved_in=today - dt.timedelta(days=recent.days_ago),
                previous_prefecture=recent.prefecture,
                previous_city=recent.city,
            )
        previous = persona.records.previous_addresses
        if not previous or previous[-1].address.city == persona.address.city:
            return None  # no earlier address, or a move within the city (転居)
        return MoveIn(
            moved_in=persona.records.resident_since,
            previous_prefecture=previous[-1].address.prefecture,
            previous_city=previous[-1].address.city,
        )

    def incoming_move(self, person_id: str, *, reader: str, purpose: str) -> IncomingMove | None:
        persona = self._read(person_id, "incoming_move", reader, purpose)
        moving = persona.records.moving_out
        if moving is None:
            return None
        to = moving.to
        today = clock.to_local(self._now()).date()
        movers = [self._personas[mover_id] for mover_id in moving.movers]
        return IncomingMove(
            origin_city=persona.address.city,
            new_address=Address(
                postal_code=to.postal_code,
                prefecture=to.prefecture,
                city=to.city,
                town=to.town,
                block=to.block,
                building=to.building,
            ),
            planned_move_date=today + dt.timedelta(days=moving.days_until_move),
            movers=tuple(
                HouseholdMember(
                    person_id=p.id,
                    name=p.name,
                    kana=p.kana,
                    birth_date=p.birth_date,
                    relationship=p.relationship_to_head,
                )
                for p in movers
            ),
        )

    def city_services(self, person_id: str, *, reader: str, purpose: str) -> tuple[str, ...]:
        persona = self._read(person_id, "city_services", reader, purpose)
        return tuple(persona.records.services)

    def public_funds_account(
        self, person_id: str, *, reader: str, purpose: str
    ) -> RegisteredAccount | None:
        persona = self._read(person_id, "public_funds_account", reader, purpose)
        account = persona.public_funds_account
        if account is None:
            return None
        return RegisteredAccount(
            bank_code=account.bank_code,
            branch_code=account.branch_code,
            account_type=account.account_type,
            account_number=account.account_number,
            holder_kana=account.holder_kana,
        )

    def deceased_relatives(
        self, person_id: str, *, reader: str, purpose: str
    ) -> tuple[DeceasedResident, ...]:
        persona = self._read(person_id, "deceased_relatives", reader, purpose)
        today = clock.to_local(self._now()).date()
        found = [
            removed
            for removed in self._removed.values()
            if removed.household_id == persona.household_id
            or persona.id in removed.children
            or removed.id in persona.records.children
        ]
        found.sort(key=lambda removed: removed.died_days_ago)
        return tuple(
            DeceasedResident(
                person_id=removed.id,
                name=removed.name,
                kana=removed.kana,
                birth_date=removed.birth_date,
                died_on=today - dt.timedelta(days=removed.died_days_ago),
                address=_address(removed.address),
                had=tuple(removed.had),
                health_insured_number=removed.health_insured_number,
                relationship=self._kinship(persona, removed),
            )
            for removed in found
        )

    def _kinship(self, persona: Persona, removed: RemovedResident) -> str | None:
        """The resident's relationship to the person who died, from the records: their child,
        their parent, their spouse (the head and the head's spouse of one household), or the
        spouse of their child."""
        if persona.id in removed.children:
            return "child"
        if removed.id in persona.records.children:
            return "parent"
        same_household = removed.household_id == persona.household_id
        couple = {persona.relationship_to_head, removed.relationship_to_head}
        if same_household and couple == {"head", "spouse"}:
            return "spouse"
        spouse = self._spouse_of(persona)
        if spouse is not None and spouse.id in removed.children:
            return "child-in-law"
        return None

    def _spouse_of(self, persona: Persona) -> Persona | None:
        wanted = {"head": "spouse", "spouse": "head"}.get(persona.relationship_to_head)
        return next(
            (
                p
                for p in self._personas.values()
                if p.household_id == persona.household_id
                and p.id != persona.id
                and p.relationship_to_head == wanted
            ),
            None,
        )

    def nursery(self, person_id: str, *, reader: str, purpose: str) -> str | None:
        return self._read(person_id, "nursery", reader, purpose).records.nursery

    def my_number(self, person_id: str, *, reader: str, purpose: str) -> str:
        return self._read(person_id, "my_number", reader, purpose).my_number

    def tax_status(self, person_id: str, year: int, *, reader: str, purpose: str) -> TaxStatus:
        persona = self._read(person_id, f"tax_status:{int(year)}", reader, purpose)
        if year >= clock.to_local(self._now()).year:
            raise RecordNotFound(f"{person_id}: income of {year} is not assessed yet")
        return TaxStatus(
            year=year,
            income=persona.records.income_last_year,
            taxable=persona.records.tax_status == "taxable",
        )


def _address(address) -> Address:
    return Address(
        postal_code=address.postal_code,
        prefecture=address.prefecture,
        city=address.city,
        town=address.town,
        block=address.block,
        building=address.building,
    )


def _same_name(recorded: str, typed: str) -> bool:
    """Names match ignoring spaces and full/half width (大原　太郎 = 大原 太郎 = 大原太郎)."""

    def key(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())

    return key(recorded) == key(typed)
