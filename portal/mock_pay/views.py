"""The mock payment service's endpoints under /mock-pay/.

Server to server (JSON, `Authorization: Bearer PAYMENT_API_KEY`, no CSRF): create a payment
(Idempotency-Key required), read it, refund it. In the resident's browser (Japanese, CSRF on
every form): the hosted checkout page with its four methods (card with 3-D Secure, QR code with a
page standing in for the phone app, konbini and Pay-easy numbers), and the "store terminal"
where a konbini or Pay-easy number is paid. Every end of the hosted flow sends the browser back
to the merchant's return_url with `?payment_id=<id>`, which the merchant must not trust: it
asks the API. See docs/decisions/0029-mock-payment-provider.md.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from portal import clock
from portal.db import db
from portal.extensions import csrf
from portal.i18n import translate
from portal.mock_pay import forms, paying, service
from portal.mock_pay.models import CREATED, PENDING, MockPayment
from portal.qr import qr_svg
from portal.urls import public_url_for

bp = Blueprint("mock_pay", __name__, url_prefix="/mock-pay")

METHOD_LABELS = {
    "card": "クレジットカード",
    "qr": "QRコード決済",
    "konbini": "コンビニ払い",
    "payeasy": "ペイジー",
}
METHOD_HINTS = {
    "card": "Visa、Mastercard、JCB、American Express など。その場で支払いが終わります。",
    "qr": "スマートフォンの決済アプリで、画面のQRコードを読み取って支払います。",
    "konbini": "お支払い番号を持って、3日以内にコンビニのレジで支払います。",
    "payeasy": "3日以内に、銀行のATMやインターネットバンキングで支払います。",
}
STATUS_LABELS = {
    "created": "お支払い前",
    "pending": "お支払い待ち",
    "paid": "お支払い済み",
    "failed": "お支払いできませんでした",
    "expired": "お支払いの期限切れ",
    "refunded": "返金済み",
}


@bp.app_template_global("mock_pay_labels")
def _labels() -> dict:
    # In the page's language: the resident's (decision 0074).
    return {
        name: {key: translate(text) for key, text in table.items()}
        for name, table in (
            ("methods", METHOD_LABELS),
            ("hints", METHOD_HINTS),
            ("statuses", STATUS_LABELS),
        )
    }


# --- Server to server ----------------------------------------------------------------------


def _api_error(status: int, code: str, message: str) -> Response:
    response = jsonify(error=code, message=message)
    response.status_code = status
    return response


def _authorized() -> bool:
    expected = current_app.config.get("PAYMENT_API_KEY") or ""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(token.strip().encode(), expected.encode())
    )


def _unauthorized() -> Response:
    response = _api_error(401, "unauthorized", "Authorization: Bearer <API key> is required")
    response.headers["WWW-Authenticate"] = 'Bearer realm="mock-pay"'
    return response


def _json_body():
    """The request's JSON (any JSON value), or None if it is not JSON."""
    return request.get_json(silent=True)


@bp.post("/api/payments")
@csrf.exempt
def api_create_payment():
    if not _authorized():
        return _unauthorized()
    body = _json_body()
    if body is None:
        return _api_error(400, "invalid_request", "the body must be JSON (application/json)")
    try:
        payment, created = service.create_payment(
            db.session,
            idempotency_key=request.headers.get("Idempotency-Key"),
            body=body,
            checkout_url=lambda payment_id: public_url_for(
                "mock_pay.checkout", payment_id=payment_id
            ),
            now=clock.now(),
        )
    except service.MockPayError as error:
        db.session.rollback()
        return _api_error(error.status, error.code, error.message)
    db.session.commit()
    response = jsonify(service.payment_json(payment))
    response.status_code = 201 if created else 200
    response.headers["Location"] = url_for("mock_pay.api_payment", payment_id=payment.id)
    return response


@bp.get("/api/payments/<payment_id>")
@csrf.exempt
def api_payment(payment_id: str):
    if not _authorized():
        return _unauthorized()
    db.will_write()  # reading may expire the payment
    try:
        payment = service.get_payment(db.session, payment_id, now=clock.now())
    except service.MockPayError as error:
        db.session.rollback()
        return _api_error(error.status, error.code, error.message)
    db.session.commit()
    return jsonify(service.payment_json(payment))


@bp.post("/api/payments/<payment_id>/refunds")
@csrf.exempt
def api_refund(payment_id: str):
    if not _authorized():
        return _unauthorized()
    body = _json_body()
    if body is None:
        return _api_error(400, "invalid_request", "the body must be JSON (application/json)")
    try:
        refund, created = service.refund(
            db.session,
            payment_id,
            body,
            idempotency_key=request.headers.get("Idempotency-Key"),
            now=clock.now(),
        )
    except service.MockPayError as error:
        db.session.rollback()
        return _api_error(error.status, error.code, error.message)
    db.session.commit()
    response = jsonify(service.refund_json(refund))
    response.status_code = 201 if created else 200
    return response


# --- The hosted pages ----------------------------------------------------------------------


def _payment(payment_id: str) -> MockPayment:
    """The payment for a page (expired first if due), or the 404 page."""
    db.will_write()  # reading may expire the payment: SQLite takes the write lock up front
    try:
        payment = service.get_payment(db.session, payment_id, now=clock.now())
    except service.NotFound:
        abort(404)
    db.session.commit()
    return payment


def return_url(payment: MockPayment) -> str:
    """The merchant's return_url with `payment_id` added (replacing one already there)."""
    parts = urlsplit(payment.return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "payment_id"]
    query.append(("payment_id", payment.id))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _back(payment: MockPayment):
    return redirect(return_url(payment), code=303)


def _where_now(payment: MockPayment):
    """The page for a payment that is past choosing a method."""
    if payment.status == PENDING and payment.method == "qr":
        return redirect(url_for("mock_pay.qr", payment_id=payment.id))
    if payment.status == PENDING and payment.method in ("konbini", "payeasy"):
        return redirect(url_for("mock_pay.number", payment_id=payment.id))
    if payment.status == CREATED and payment.challenge and request.method == "GET":
        return redirect(url_for("mock_pay.three_ds", payment_id=payment.id))
    return render_template("mock_pay/closed.html", payment=payment)


def _next_page(payment: MockPayment):
    if payment.method == "card":
        return redirect(url_for("mock_pay.card", payment_id=payment.id), code=303)
    return _where_now(payment)


@bp.route("/checkout/<payment_id>", methods=["GET", "POST"])
def checkout(payment_id: str):
    payment = _payment(payment_id)
    if payment.status != CREATED:
        return _where_now(payment)
    errors: dict[str, str] = {}
    chosen = request.form.get("method", "")
    if request.method == "POST":
        if request.form.get("action") == "cancel":
            return _back(payment)
        if chosen not in payment.methods:
            errors["method"] = translate("支払い方法を選んでください")
        else:
            outcome = paying.choose_method(db.session, payment.id, chosen, now=clock.now())
            db.session.commit()
            return _next_page(outcome.payment)
    return render_template(
        "mock_pay/checkout.html", payment=payment, chosen=chosen, errors=errors
    ), (422 if errors else 200)


@bp.route("/checkout/<payment_id>/card", methods=["GET", "POST"])
def card(payment_id: str):
    payment = _payment(payment_id)
    if payment.status != CREATED:
        return _where_now(payment)
    if "card" not in payment.methods:
        return redirect(url_for("mock_pay.checkout", payment_id=payment.id))
    now = clock.now()
    form = forms.CardForm(typed=dict.fromkeys(forms.CARD_FIELDS, ""))
    if request.method == "POST":
        form = forms.read_card(request.form, today=clock.today_local())
        if not form.errors:
            outcome = paying.pay_by_card(db.session, payment.id, form.number, now=now)
            db.session.commit()
            if outcome.result == "paid":
                return _back(outcome.payment)
            if outcome.result == "declined":
                return render_template("mock_pay/closed.html", payment=outcome.payment)
            if outcome.result == "challenge":
                return redirect(url_for("mock_pay.three_ds", payment_id=payment.id), code=303)
            return _where_now(outcome.payment)
    return render_template(
        "mock_pay/card.html", payment=payment, typed=form.typed, errors=form.errors
    ), (422 if form.errors else 200)


@bp.route("/3ds/<payment_id>", methods=["GET", "POST"])
def three_ds(payment_id: str):
    payment = _payment(payment_id)
    if payment.status != CREATED:
        return _where_now(payment)
    if not payment.challenge:
        return redirect(url_for("mock_pay.checkout", payment_id=payment.id))
    now = clock.now()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("action") == "cancel":
            outcome = paying.cancel_challenge(db.session, payment.id, now=now)
            db.session.commit()
            return _back(outcome.payment)
        typed, error = forms.read_password(request.form)
        if error:
            errors["otp"] = error
        else:
            outcome = paying.answer_challenge(db.session, payment.id, typed, now=now)
            db.session.commit()
            if outcome.result == "paid":
                return _back(outcome.payment)
            if outcome.result == "wrong":
                errors["otp"] = translate(
                    "ワンタイムパスワードが違います。"
                    "あと%(left)s回間違えると、このお支払いは中止されます",
                    left=outcome.tries_left,
                )
                payment = outcome.payment
            elif outcome.result == "failed":
                return render_template("mock_pay/closed.html", payment=outcome.payment)
            else:
                return render_template("mock_pay/closed.html", payment=outcome.payment)
    return render_template("mock_pay/three_ds.html", payment=payment, errors=errors), (
        422 if errors else 200
    )


@bp.get("/qr/<payment_id>")
def qr(payment_id: str):
    payment = _payment(payment_id)
    if payment.method != "qr":
        return (
            _where_now(payment)
            if payment.status != CREATED
            else redirect(url_for("mock_pay.checkout", payment_id=payment.id))
        )
    app_url = public_url_for("mock_pay.qr_app", payment_id=payment.id)
    return render_template(
        "mock_pay/qr.html",
        payment=payment,
        qr=qr_svg(
            app_url, translate("支払い用のQRコード（%(amount)s円）", amount=f"{payment.amount:,}")
        ),
    )


@bp.route("/qr/<payment_id>/app", methods=["GET", "POST"])
def qr_app(payment_id: str):
    """Stands in for the phone's payment app that read the QR code."""
    payment = _payment(payment_id)
    if payment.method != "qr":
        abort(404)
    just_paid = False
    if request.method == "POST" and payment.status == PENDING:
        outcome = paying.pay_by_qr(db.session, payment.id, now=clock.now())
        db.session.commit()
        payment = outcome.payment
        just_paid = outcome.result == "paid"
    return render_template("mock_pay/qr_app.html", payment=payment, just_paid=just_paid)


@bp.get("/checkout/<payment_id>/number")
def number(payment_id: str):
    payment = _payment(payment_id)
    if payment.method not in ("konbini", "payeasy"):
        return (
            _where_now(payment)
            if payment.status != CREATED
            else redirect(url_for("mock_pay.checkout", payment_id=payment.id))
        )
    return render_template(
        "mock_pay/number.html", payment=payment, institution=service.PAYEASY_INSTITUTION
    )


@bp.post("/checkout/<payment_id>/return")
def back(payment_id: str):
    """申請サービスに戻る: to the merchant's return_url, whatever the status."""
    return _back(_payment(payment_id))


STORE_REFUSALS = {
    "unknown": "このお支払い番号は見つかりません。番号を確かめてください",
    "expired": (
        "このお支払い番号は、お支払い期限が過ぎています。"
        "申請サービスで、もう一度お支払いの手続をしてください"
    ),
    "already_paid": "このお支払い番号は、もう支払い済みです",
}


@bp.route("/store", methods=["GET", "POST"])
def store():
    """The store terminal (and ATM): pays a konbini number or a Pay-easy お客様番号."""
    errors: dict[str, str] = {}
    typed = ""
    paid = None
    if request.method == "POST":
        typed, error = forms.read_store_number(request.form)
        if error:
            errors["number"] = error
        else:
            outcome = paying.pay_at_store(db.session, typed, now=clock.now())
            db.session.commit()
            if outcome.result == "paid":
                paid, typed = outcome.payment, ""
            else:
                errors["number"] = translate(STORE_REFUSALS[outcome.result])
    return render_template("mock_pay/store.html", typed=typed, errors=errors, paid=paid), (
        422 if errors else 200
    )
