"""The certificates a kiosk prints (証明書を印刷する), one entry each: the catalog procedure
whose department, fee rule and retention period the certificate follows, and what its demo
document shows. Everything else (payment, printing, reprint, hand-over at the counter,
retention) is one code path for every entry (portal.kiosk.certificates, portal.staff.counter,
portal.retention).

A document carries the least personal data the certificate needs, read from the resident
records the counter uses (every read logged with its reader and purpose). 住民票の写し falls
back to the card's own items, and says so, when the card login matches no record;
所得証明書 cannot be issued without the tax record (refused before payment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from portal.catalog import logic
from portal.catalog.schema import CatalogData, Procedure
from portal.records.base import RecordNotFound, ResidentRecords


@dataclass(frozen=True)
class Document:
    """What the printed demo certificate shows."""

    rows: list[tuple[str, str]]  # (label, value), in print order
    attestation: str
    note: str = ""  # said on the page when the records were not used


class Unavailable(Exception):
    """The certificate cannot be issued for this resident at a kiosk (the message says why)."""


@dataclass(frozen=True)
class Offer:
    kind: str  # kiosk_certificates.kind
    title: str
    procedure: str  # catalog procedure id: department, fee rule (1 copy), retention
    needs_records: bool  # refused before payment without the records (not the card's items)
    build: Callable[[ResidentRecords | None, dict, dt.date, str], Document]

    def procedure_of(self, catalog: CatalogData) -> Procedure:
        procedure = catalog.procedure(self.procedure)
        if procedure is None:
            raise LookupError(f"kiosk certificate {self.kind}: no procedure {self.procedure}")
        return procedure

    def fee(self, catalog: CatalogData, today: dt.date) -> int:
        """One copy, by the catalog's fee rule."""
        return logic.fee_amount(self.procedure_of(catalog), {"copies": 1}, today) or 0


def _date(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _juminhyo(records: ResidentRecords | None, user: dict, today: dt.date, reader: str) -> Document:
    attestation = "上記のとおり住民票に記載されていることを証明します（デモ）。"
    person_id = user.get("person_id")
    if records is not None and person_id:
        try:
            resident = records.resident(
                person_id, reader=reader, purpose="住民票の写し（キオスク）の作成"
            )
        except RecordNotFound:
            pass
        else:
            return Document(
                rows=[
                    ("氏名", resident.name),
                    ("生年月日", _date(resident.birth_date)),
                    ("住所", resident.address.one_line()),
                ],
                attestation=attestation,
            )
    card = user.get("card") or {}
    return Document(
        rows=[
            ("氏名", str(card.get("name", ""))),
            ("生年月日", str(card.get("birthdate", ""))),
            ("住所", str(card.get("address", ""))),
        ],
        attestation=attestation,
        note="住民記録が見つからないため、マイナンバーカードの記載事項を印刷しています（デモ）。",
    )


NO_TAX_RECORD = (
    "住民税の記録が見つからないため、所得証明書はキオスクでは発行できません。"
    "税務課の窓口でご相談ください。"
)


def _shotoku(records: ResidentRecords | None, user: dict, today: dt.date, reader: str) -> Document:
    person_id = user.get("person_id")
    if records is None or not person_id:
        raise Unavailable(NO_TAX_RECORD)
    purpose = "所得証明書（キオスク）の作成"
    try:
        resident = records.resident(person_id, reader=reader, purpose=purpose)
        # The last assessed year: the income of the previous calendar year.
        tax = records.tax_status(person_id, today.year - 1, reader=reader, purpose=purpose)
    except RecordNotFound as error:
        raise Unavailable(NO_TAX_RECORD) from error
    return Document(
        rows=[
            ("氏名", resident.name),
            ("住所", resident.address.one_line()),
            ("所得の年", f"{tax.year}年分（1月から12月）"),
            ("所得金額", f"{tax.income:,}円"),
            ("市・県民税", "課税" if tax.taxable else "非課税"),
        ],
        attestation="上記のとおり証明します（デモ）。",
    )


OFFERS: dict[str, Offer] = {
    offer.kind: offer
    for offer in (
        Offer("juminhyo", "住民票の写し", "juminhyo-copy", needs_records=False, build=_juminhyo),
        Offer("shotoku", "所得証明書", "shotoku-shomei", needs_records=True, build=_shotoku),
    )
}
