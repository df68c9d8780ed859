"""証明書を印刷する at a kiosk, like the convenience-store machines (issue 20): after the
resident's card login, the fee is paid cashless through the payment provider without leaving
the portal's origin, and the certificate is printed as a demo document with a デモ watermark.
Paid but not printed (paper out, power cut): printable again the same day at any kiosk by the
same card login, never paid twice. Each print is recorded (audited `certificate_printed`).

Routes on the kiosk blueprint, so only a registered kiosk in a visit reaches them
(portal/kiosk/mode.py); the payment itself is portal.payments' (one payment engine).
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update

from portal import audit, clock
from portal.db import db
from portal.i18n import translate
from portal.kiosk import bp
from portal.kiosk.mode import current_kiosk
from portal.kiosk.models import KioskCertificate
from portal.kiosk.offers import OFFERS, Document, Offer, Unavailable
from portal.payments import service as payments
from portal.payments.models import PAID, Payment
from portal.payments.providers import ProviderError, provider_from_config
from portal.submissions import access

log = logging.getLogger(__name__)

# What a kiosk prints (住民票の写し, 所得証明書): portal.kiosk.offers.
KINDS = OFFERS


def _provider():
    extensions = current_app.extensions
    if "payment_provider" not in extensions:
        extensions["payment_provider"] = provider_from_config(current_app.config)
    return extensions["payment_provider"]


def _resident() -> dict | None:
    return access.user()


def _today_of(sub: str) -> list[KioskCertificate]:
    """The resident's certificates paid for today (at any kiosk)."""
    rows = db.session.scalars(
        select(KioskCertificate)
        .where(
            KioskCertificate.owner_sub == sub,
            KioskCertificate.day == clock.today_local(),
            KioskCertificate.handed_over_at.is_(None),  # collected at the counter instead
        )
        .order_by(KioskCertificate.id)
    )
    return [c for c in rows if _paid(c)]


def _paid(certificate: KioskCertificate) -> bool:
    payment = db.session.get(Payment, certificate.payment_id)
    return payment is not None and payment.status == PAID


def _own(public_id: str) -> KioskCertificate:
    """The signed-in resident's certificate of today; 404 for anything else."""
    resident = _resident()
    certificate = db.session.scalar(
        select(KioskCertificate).where(KioskCertificate.public_id == public_id)
    )
    if (
        resident is None
        or certificate is None
        or certificate.owner_sub != resident["sub"]
        or certificate.day != clock.today_local()
    ):
        abort(404)
    return certificate


def _records():
    return current_app.extensions.get("resident_records")


def document_of(offer: Offer, resident: dict, reader: str) -> Document:
    """The demo document's contents (raises Unavailable); the records' reads are logged in
    the request's transaction."""
    db.will_write()
    return offer.build(_records(), resident, clock.today_local(), reader)


def collect_code(certificate: KioskCertificate) -> str:
    """受取番号: what the resident tells the counter to collect an unprinted certificate."""
    return certificate.public_id[:8].upper()


@bp.get("/certificates")
def certificates() -> ResponseReturnValue:
    resident = _resident()
    catalog, today = access.catalog(), clock.today_local()
    return render_template(
        "kiosk/certificates.html",
        resident=resident,
        kinds=KINDS,
        fees={kind: offer.fee(catalog, today) for kind, offer in KINDS.items()},
        paid=_today_of(resident["sub"]) if resident else [],
        collect_code=collect_code,
    )


HANDED_OVER = "この証明書は、窓口でお渡ししました。キオスクでは印刷できません。"
PROBLEM = "いまお支払いの画面を開けません。職員にお声がけください。"


@bp.post("/certificates/<kind>")
def pay_certificate(kind: str) -> ResponseReturnValue:
    """支払って印刷する: a payment of the fee, then the provider's page (same origin only)."""
    resident, kiosk = _resident(), current_kiosk()
    offer = KINDS.get(kind)
    if offer is None or kiosk is None:
        abort(404)
    if resident is None:
        return redirect(url_for(".certificates"), 303)
    if offer.needs_records:
        # Never take a fee for a certificate that cannot be printed.
        try:
            document_of(offer, resident, reader=f"kiosk:{kiosk.public_id}")
        except Unavailable as unavailable:
            db.session.commit()  # the record reads are logged
            return render_template(
                "kiosk/certificate_problem.html", message=translate(str(unavailable))
            ), 409
    catalog = access.catalog()
    now = clock.now()
    payment = payments.create_resident_charge(
        db.session,
        department=offer.procedure_of(catalog).department,
        description=f"{offer.title}（キオスク）1通",
        amount=offer.fee(catalog, clock.today_local()),
        owner_sub=resident["sub"],
        now=now,
    )
    certificate = KioskCertificate(
        public_id=secrets.token_hex(16),
        kind=kind,
        owner_sub=resident["sub"],
        kiosk_id=kiosk.id,
        payment_id=payment.id,
        day=clock.today_local(),
        created_at=now,
    )
    db.session.add(certificate)
    db.session.flush()
    payment_id, public_id = payment.id, certificate.public_id
    order = {
        "amount": payment.amount,
        "currency": payment.currency,
        "reference": payment.public_id,
        "description": payments.description_of(payment),
        "idempotency_key": payment.public_id,
    }
    # Never hold the database (a kiosk's request holds SQLite's write lock from its first
    # query) while waiting for the provider, which may be this very server.
    db.session.commit()
    return_url = current_app.config["PUBLIC_URL"] + url_for(
        ".certificate_paid", public_id=public_id
    )
    try:
        observed = _provider().create(return_url=return_url, **order)
    except ProviderError as error:
        log.warning("kiosk certificate payment: %s", type(error).__name__)
        return render_template("kiosk/certificate_problem.html", message=translate(PROBLEM)), 503
    # Payment never leaves the portal's origin at a kiosk (the terminal has nowhere else to go).
    ours = urlsplit(current_app.config["PUBLIC_URL"])
    theirs = urlsplit(observed.checkout_url or "")
    if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
        # Not a fault of the server: this kiosk cannot take this provider's payments (409).
        return render_template("kiosk/certificate_problem.html", message=translate(PROBLEM)), 409
    registered = db.session.get(Payment, payment_id)
    assert registered is not None
    try:
        payments.registered(db.session, registered, observed, _provider().name)
    except payments.Tampered:
        db.session.rollback()
        return render_template("kiosk/certificate_problem.html", message=translate(PROBLEM)), 502
    db.session.commit()
    return redirect(observed.checkout_url, 303)


@bp.get("/certificates/<public_id>/paid")
def certificate_paid(public_id: str) -> ResponseReturnValue:
    """Back from the provider: its word on the payment, never the query string's."""
    certificate = _own(public_id)
    payment = db.session.get(Payment, certificate.payment_id)
    assert payment is not None
    if payment.status != PAID and payment.provider_payment_id:
        payment_id, provider_id = payment.id, payment.provider_payment_id
        db.session.commit()  # nothing held while the provider answers
        try:
            observed = _provider().get(provider_id)
            payment = db.session.get(Payment, payment_id)
            assert payment is not None
            payments.apply(db.session, payment, observed, source="return", now=clock.now())
            db.session.commit()
        except (ProviderError, payments.Tampered) as error:
            db.session.rollback()
            log.warning("kiosk certificate payment: %s", type(error).__name__)
    return redirect(url_for(".certificate", public_id=public_id), 303)


@bp.get("/certificates/<public_id>")
def certificate(public_id: str) -> ResponseReturnValue:
    """The certificate to print (a demo document); each showing is a print, recorded."""
    certificate = _own(public_id)
    if not _paid(certificate):
        message = translate(
            "お支払いが確認できていません。もう一度お試しいただくか、職員にお声がけください。"
        )
        return render_template("kiosk/certificate_problem.html", message=message), 402
    resident = _resident()
    assert resident is not None
    offer = KINDS[certificate.kind]
    try:
        document = document_of(offer, resident, reader=f"kiosk-certificate:{public_id}")
    except Unavailable as unavailable:  # the record went away after payment
        db.session.commit()
        message = (
            translate(str(unavailable))
            + " "
            + translate("お支払いの取消しは職員にお声がけください。")
        )
        return render_template("kiosk/certificate_problem.html", message=message), 409
    now = clock.now()
    # Guarded: once a clerk has handed it over at the counter, no kiosk prints it again.
    printed = db.session.execute(
        update(KioskCertificate)
        .where(KioskCertificate.id == certificate.id, KioskCertificate.handed_over_at.is_(None))
        .values(
            printed_count=KioskCertificate.printed_count + 1,
            last_printed_at=now,
        )
    )
    if printed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return render_template(
            "kiosk/certificate_problem.html", message=translate(HANDED_OVER)
        ), 410
    db.session.refresh(certificate)
    audit.record(
        db.session,
        actor="anonymous",
        action="certificate_printed",
        target=f"kiosk-certificate:{certificate.public_id}",
        at=now,
    )
    db.session.commit()
    return render_template(
        "kiosk/certificate.html",
        certificate=certificate,
        title=offer.title,
        document=document,
        collect_code=collect_code(certificate),
        issued_on=clock.to_local(now),
        reprint=certificate.printed_count > 1,
    )
