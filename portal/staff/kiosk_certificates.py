"""Kiosk certificates collected at the counter (issue 20): a certificate paid for at a kiosk
whose printout never came (paper out, power cut) is handed over at the counter instead. The
counter's page (/staff/counter) lists today's paid kiosk certificates not yet handed over, of
the clerk's departments (the department of the certificate's procedure), each with its 受取番号
(the resident reads it from the kiosk's screen and shows their card) and how often a kiosk
showed it for printing; 「窓口で渡しました」 marks one handed over (once, guarded; audited
`certificate_handed_over`), after which no kiosk prints it and nothing is paid again
(docs/decisions/0057-kiosk-checkin-printing-help.md)."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, url_for
from sqlalchemy import select, update

from portal import audit, clock
from portal.db import db
from portal.kiosk.models import Kiosk, KioskCertificate
from portal.kiosk.offers import OFFERS
from portal.payments.models import PAID, Payment
from portal.staff import bp

CLERK = "clerk"  # the role that hands certificates over (as portal.staff.counter)


def collect_code(certificate: KioskCertificate) -> str:
    """受取番号, as the kiosk shows it (portal.kiosk.certificates.collect_code)."""
    return certificate.public_id[:8].upper()


def _department(certificate: KioskCertificate) -> str | None:
    offer = OFFERS.get(certificate.kind)
    if offer is None:
        return None
    return offer.procedure_of(current_app.extensions["catalog"]).department


def _todays(departments: set[str]) -> list[tuple[KioskCertificate, Kiosk, Payment]]:
    rows = db.session.execute(
        select(KioskCertificate, Kiosk, Payment)
        .join(Kiosk, Kiosk.id == KioskCertificate.kiosk_id)
        .join(Payment, Payment.id == KioskCertificate.payment_id)
        .where(
            KioskCertificate.day == clock.today_local(),
            KioskCertificate.handed_over_at.is_(None),
            Payment.status == PAID,
        )
        .order_by(KioskCertificate.id)
    ).all()
    return [(c, k, p) for c, k, p in rows if _department(c) in departments]


def counter_context(departments: set[str]) -> dict:
    """What the counter page's section 「キオスクでお支払い済みの証明書」 shows."""
    return {
        "kiosk_certificates": [
            {
                "public_id": certificate.public_id,
                "code": collect_code(certificate),
                "title": OFFERS[certificate.kind].title,
                "place": kiosk.place,
                "paid_at": payment.paid_at or certificate.created_at,
                "printed": certificate.printed_count,
            }
            for certificate, kiosk, payment in _todays(departments)
        ]
    }


@bp.post("/counter/kiosk-certificates/<public_id>/handed-over")
def kiosk_certificate_handed_over(public_id: str):
    """窓口で渡しました: once only; a clerk of the certificate's department, today's, paid."""
    member = g.current_staff
    certificate = db.session.scalar(
        select(KioskCertificate).where(KioskCertificate.public_id == public_id)
    )
    if (
        certificate is None
        or certificate.day != clock.today_local()
        or _department(certificate) not in member.departments(CLERK)
    ):
        abort(404)
    payment = db.session.get(Payment, certificate.payment_id)
    if payment is None or payment.status != PAID:
        abort(404)  # nothing paid: nothing to hand over
    now, actor = clock.now(), f"staff:{member.id}"
    handed = db.session.execute(
        update(KioskCertificate)
        .where(KioskCertificate.id == certificate.id, KioskCertificate.handed_over_at.is_(None))
        .values(handed_over_at=now, handed_over_by=actor)
    )
    if handed.rowcount == 1:  # type: ignore[attr-defined]
        audit.record(
            db.session,
            actor=actor,
            action="certificate_handed_over",
            target=f"kiosk-certificate:{certificate.public_id}",
            at=now,
        )
        flash(f"受取番号 {collect_code(certificate)} の証明書を、窓口で渡したことを記録しました。")
    else:
        flash("この証明書は、すでにほかの職員が窓口で渡し済みにしました。")
    db.session.commit()
    return redirect(url_for(".counter"), 303)
