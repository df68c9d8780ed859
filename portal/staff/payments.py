"""Staff pages for payments (routes on the staff blueprint: the staff sign-in and the
404-for-others rule apply): the department's payments, one payment with its history, refunds by
an approver or administrator with a reason (audited), and counter cashless — a clerk charges a
fee at the counter and the resident scans the provider's QR code on the screen.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from portal import audit, clock
from portal.db import db, retrying
from portal.input_policy import BAD_CHARACTERS, bad_characters
from portal.payments import service, states
from portal.payments.models import PAID, REFUNDED, Payment, PaymentTransition
from portal.payments.providers import ProviderError
from portal.payments.views import notify_to, provider
from portal.qr import qr_svg
from portal.staff import bp
from portal.urls import public_url_for

REFUND_ROLES = ("approver", "admin")
# The reason goes to the provider with the refund and, after REFUND_PREFIX, to the audit log:
# it must fit both (tests/unit/test_stored_limits.py).
REFUND_PREFIX = "返金: "
REASON_MIN, REASON_MAX = 4, 200
AMOUNT_MAX = 1_000_000
DESCRIPTION_MAX = 100  # a counter charge's description (its column holds 200)


def _departments() -> set[str]:
    return g.current_staff.departments()


def _payment_or_404(public_id: str) -> Payment:
    payment = db.session.scalar(select(Payment).where(Payment.public_id == public_id))
    if payment is None or payment.department not in _departments():
        abort(404)
    return payment


def _names() -> dict[str, str]:
    return {d.id: d.name for d in current_app.extensions["catalog"].departments}


@bp.get("/payments")
def payments():
    rows = db.session.scalars(
        select(Payment)
        .where(Payment.department.in_(_departments()))
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(50)
    ).all()
    return render_template("staff/payments.html", rows=rows, labels=states.LABELS, names=_names())


def _detail(payment: Payment, errors: dict | None = None, reason: str = "", status: int = 200):
    history = db.session.scalars(
        select(PaymentTransition)
        .where(PaymentTransition.payment_id == payment.id)
        .order_by(PaymentTransition.id)
    ).all()
    show_qr = (
        payment.taken_by is not None and payment.status in states.OPEN and payment.checkout_url
    )
    return (
        render_template(
            "staff/payment.html",
            payment=payment,
            label=states.LABELS[payment.status],
            labels=states.LABELS,
            history=history,
            can_refund=payment.status == PAID
            and payment.department in g.current_staff.departments(*REFUND_ROLES),
            qr=qr_svg(
                payment.checkout_url, "お支払い用のQRコード（お客様のスマートフォンで読み取ります）"
            )
            if show_qr
            else None,
            errors=errors or {},
            reason=reason,
        ),
        status,
    )


@bp.get("/payments/<public_id>")
def payment(public_id: str):
    return _detail(_payment_or_404(public_id))


@bp.post("/payments/<public_id>/refresh")
def payment_refresh(public_id: str):
    """Ask the provider now (the counter cannot wait for the webhook)."""
    payment = _payment_or_404(public_id)
    provider_id, payment_id = payment.provider_payment_id, payment.id
    db.session.commit()
    if provider_id:
        try:
            observed = provider().get(provider_id)
        except ProviderError:
            flash("決済サービスにつながりませんでした。少し待ってから、もう一度押してください。")
            return redirect(url_for("staff.payment", public_id=public_id), 303)

        def unit() -> bool:  # one unit of work, run again on a deadlock
            try:
                service.apply(
                    db.session,
                    db.session.get(Payment, payment_id),
                    observed,
                    source="staff",
                    now=clock.now(),
                    notify_to=notify_to(),
                )
            except service.Tampered:
                db.session.rollback()
                return False
            db.session.commit()
            return True

        if not retrying(db.session, unit):
            flash("決済サービスの応答が、このお支払いの金額などと一致しません。確認が必要です。")
            return redirect(url_for("staff.payment", public_id=public_id), 303)
    flash(f"状況：{states.LABELS[db.session.get(Payment, payment_id).status]}")
    return redirect(url_for("staff.payment", public_id=public_id), 303)


@bp.post("/payments/<public_id>/refund")
def payment_refund(public_id: str):
    payment = _payment_or_404(public_id)
    if payment.department not in g.current_staff.departments(*REFUND_ROLES):
        abort(404)
    reason = request.form.get("reason", "").strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX or bad_characters(reason):
        error = f"返金の理由を{REASON_MIN}文字以上{REASON_MAX}文字以内で入力してください"
        if bad_characters(reason):
            error = f"返金の理由に{BAD_CHARACTERS}"
        db.session.rollback()
        return _detail(payment, {"reason": error}, reason, 422)
    if payment.status != PAID:
        flash("このお支払いは返金できる状態ではありません。")
        return redirect(url_for("staff.payment", public_id=public_id), 303)
    provider_id, payment_id, amount = payment.provider_payment_id, payment.id, payment.amount
    db.session.commit()
    try:
        provider().refund(provider_id, amount=amount, reason=reason)
    except ProviderError:
        flash("決済サービスが返金を受け付けませんでした。時間をおいてもう一度お試しください。")
        return redirect(url_for("staff.payment", public_id=public_id), 303)

    def unit() -> Payment:  # the payment, its applications, the audit head: run again on a deadlock
        payment = db.session.get(Payment, payment_id)
        now = clock.now()
        service.transition(
            db.session,
            payment,
            REFUNDED,
            source="staff",
            now=now,
            values={"refund_reason": reason, "refunded_by": g.current_staff.id},
        )
        audit.record(
            db.session,
            actor=f"staff:{g.current_staff.id}",
            action="change",
            target=f"payment:{payment.public_id}",
            department=payment.department,
            reason=f"{REFUND_PREFIX}{reason}",
            at=now,
        )
        db.session.commit()
        return payment

    payment = retrying(db.session, unit)
    flash(f"{payment.amount:,}円を返金しました。")
    return redirect(url_for("staff.payment", public_id=public_id), 303)


@bp.route("/payments/counter", methods=["GET", "POST"])
def payments_counter():
    """Counter cashless: the clerk enters what is charged; the resident pays by scanning."""
    departments = sorted(_departments())
    names = _names()
    form = {
        "department": request.form.get("department", departments[0] if departments else ""),
        "description": request.form.get("description", "").strip(),
        "amount": request.form.get("amount", "").strip(),
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form["department"] not in departments:
            errors["department"] = "担当課を選んでください"
        if bad_characters(form["description"]):
            errors["description"] = f"内容に{BAD_CHARACTERS}"
        elif not form["description"] or len(form["description"]) > DESCRIPTION_MAX:
            errors["description"] = (
                f"内容を{DESCRIPTION_MAX}文字以内で入力してください（例：住民票の写し 2通）"
            )
        amount = form["amount"].replace(",", "").replace("円", "")
        amount = amount.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if not amount.isdigit() or not 1 <= int(amount) <= AMOUNT_MAX:
            errors["amount"] = "金額を1円から1,000,000円までの数字で入力してください（例：600）"
        if not errors:
            payment = service.create_counter_charge(
                db.session,
                department=form["department"],
                description=form["description"],
                amount=int(amount),
                staff_id=g.current_staff.id,
                now=clock.now(),
            )
            public_id, payment_id = payment.public_id, payment.id
            return_url = public_url_for(
                "payments.return_from_provider",
                public_id=public_id,
                token=service.access_token(current_app.config["SECRET_KEY"], public_id),
            )
            db.session.commit()
            try:
                observed = service.register(provider(), payment, return_url)
            except ProviderError:
                flash("決済サービスにつながりませんでした。もう一度お試しください。")
                return redirect(url_for("staff.payments_counter"), 303)
            payment = db.session.get(Payment, payment_id)
            service.registered(db.session, payment, observed, provider().name)
            db.session.commit()
            return redirect(url_for("staff.payment", public_id=public_id), 303)
    return (
        render_template(
            "staff/payments_counter.html",
            departments=[(d, names.get(d, d)) for d in departments],
            form=form,
            errors=errors,
        ),
        422 if errors else 200,
    )
