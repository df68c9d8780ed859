"""Resident pages for paying fees, and the provider's webhook endpoint.

POST /payments/start                       pay the fee(s) of one or more applications
GET  /payments/p/<id>/<token>              the payment: status, what it covers, what next
GET  /payments/p/<id>/<token>/return       back from the provider: ask it, then show the page
POST /payments/p/<id>/<token>/retry        a new payment after a failed or expired one
GET  /payments/p/<id>/<token>/receipt      領収書 (printable)
POST /payments/webhooks/<provider>         the provider's signed events (no CSRF, no session)

The token is an HMAC of the payment's public id (service.access_token): the link is the bearer
secret of the person paying (redacted from access logs, sent with no-referrer).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from portal import clock
from portal.db import db, retrying
from portal.extensions import csrf
from portal.i18n import current_language, translate
from portal.payments import service, states
from portal.payments.models import Payment
from portal.payments.providers import (
    PaymentProvider,
    ProviderError,
    WebhookRefused,
    provider_from_config,
)
from portal.submissions import service as submissions

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__, url_prefix="/payments")


def provider() -> PaymentProvider:
    extensions = current_app.extensions
    if "payment_provider" not in extensions:
        extensions["payment_provider"] = provider_from_config(current_app.config)
    return extensions["payment_provider"]


def notify_to() -> str | None:
    return current_app.config.get("PAYMENT_NOTIFY_ADDRESS")


@bp.app_template_filter("iso_local_datetime")
def _iso_local_datetime(text: str) -> str:
    local = clock.to_local(dt.datetime.fromisoformat(text))
    return f"{local.year}年{local.month}月{local.day}日 {local.hour}時{local.minute:02d}分"


@bp.app_template_global()
def fee_payable(submission) -> bool:
    """Whether to offer paying this application's fee online now (a provider is configured)."""
    return bool(current_app.config.get("PAYMENT_PROVIDER")) and service.payable(submission)


PAYMENT_STATUS_TEXT = {
    "unpaid": "未払い",
    "after_review": "審査のあとでお支払いいただきます（事後決済）",
    "paid": "支払い済み",
    "refunded": "返金済み",
}


@bp.app_template_global()
def payment_status_text(submission) -> str:
    text = PAYMENT_STATUS_TEXT.get(submission.payment_status, "")
    return translate(text) if text else ""


@bp.app_template_global()
def payment_item_text(item) -> str:
    """A payment item's line in the page's language: the stored description is the city's
    Japanese (staff and the provider read it); the resident reads the procedure's title in the
    chosen language and the reference number."""
    from portal.localization import procedure_title
    from portal.submissions.models import Submission

    if current_language() == "ja" or item.submission_id is None:
        return item.description
    submission = db.session.get(Submission, item.submission_id)
    if submission is None:
        return item.description
    title = procedure_title(submissions.procedure_of(submission))
    return title + translate("（受付番号 %(number)s）", number=submission.reference)


def _user() -> dict | None:
    return session.get("user")


def _token(payment: Payment) -> str:
    return service.access_token(current_app.config["SECRET_KEY"], payment.public_id)


def page_url(payment: Payment, endpoint: str = "payments.page", **kwargs) -> str:
    return url_for(endpoint, public_id=payment.public_id, token=_token(payment), **kwargs)


def _payment_or_404(public_id: str, token: str) -> Payment:
    payment = db.session.scalar(select(Payment).where(Payment.public_id == public_id))
    if payment is None or not hmac.compare_digest(_token(payment), token):
        abort(404)
    return payment


def _no_referrer(response) -> Response:
    response = current_app.make_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _problem(title: str, message: str, status: int) -> Response:
    """The problem page; `title` and `message` come translated (decision 0096)."""
    return _no_referrer(
        (render_template("payments/problem.html", title=title, message=message), status)
    )


def _applications() -> list:
    """The applications named in the form, each checked: a status link's token (anyone holding
    the link, as on the status page), or public ids of the signed-in resident's own."""
    from portal.submissions.access import submission_by_status_token

    found = []
    token = request.form.get("status_token", "")
    if token:
        found.append(submission_by_status_token(token))
    user = _user()
    for public_id in request.form.getlist("application"):
        submission = (
            submissions.visible(db.session, user["sub"], user.get("person_id"), public_id)
            if user
            else None
        )
        if submission is None:
            abort(404)
        found.append(submission)
    return found


UNREACHABLE = (
    "決済サービスにつながりませんでした",
    "いまお支払いの画面を開けません。申請は受け付けられています。時間をおいて、申請の状況のページからもう一度お試しください。",
)


def _send_to_provider(payment: Payment) -> Response:
    """Register the payment at the provider and send the browser to its payment page."""
    return_url = current_app.config["PUBLIC_URL"] + page_url(
        payment, "payments.return_from_provider"
    )
    payment_id = payment.id
    db.session.commit()  # never hold the database while waiting for the provider
    try:
        observed = service.register(provider(), payment, return_url)
    except ProviderError as error:
        log.warning("payment %s: %s", payment.public_id, error)
        return _problem(translate(UNREACHABLE[0]), translate(UNREACHABLE[1]), 503)
    payment = db.session.get(Payment, payment_id)
    try:
        service.registered(db.session, payment, observed, provider().name)
    except service.Tampered:
        db.session.rollback()
        return _problem(
            translate("お支払いを始められませんでした"),
            translate(
                "決済サービスからの応答が正しくありませんでした。お手数ですが担当課にお問い合わせください。"
            ),
            502,
        )
    db.session.commit()
    return redirect(observed.checkout_url, 303)


@bp.post("/start")
def start():
    if not current_app.config.get("PAYMENT_PROVIDER"):
        abort(404)  # online payment is off: fees are paid at the counter
    applications = _applications()
    if len(applications) == 1:
        under_way = service.open_payment_of(db.session, applications[0])
        if under_way is not None and under_way.checkout_url:
            return redirect(page_url(under_way), 303)
    try:
        payment = service.create(
            db.session,
            applications=applications,
            now=clock.now(),
            owner_sub=(_user() or {}).get("sub"),
        )
    except service.NothingToPay:
        db.session.rollback()
        return _problem(
            translate("お支払いが必要な申請はありません"),
            translate("選んだ申請の手数料は、支払い済みか、いまはお支払いいただけないものです。"),
            409,
        )
    return _send_to_provider(payment)


@bp.get("/p/<public_id>/<token>")
def page(public_id: str, token: str):
    payment = _payment_or_404(public_id, token)
    live = None
    if payment.status == "pending" and payment.provider_payment_id:
        db.session.rollback()
        try:  # the payment number of a convenience-store or Pay-easy payment, from the provider
            live = provider().get(payment.provider_payment_id)
        except ProviderError:
            live = None
        payment = _payment_or_404(public_id, token)
    applications = _applications_of(payment)
    return _no_referrer(
        render_template(
            "payments/page.html",
            payment=payment,
            label=translate(states.LABELS[payment.status]),
            live=live,
            token=token,
            applications=applications,
            bundle=_bundle_of(applications),
        )
    )


def _bundle_of(applications: list):
    """The bundle these applications were filed in together, if they were (for the way back)."""
    from portal.bundles.models import Bundle

    bundle_ids = {a.bundle_id for a in applications}
    if len(bundle_ids) != 1 or None in bundle_ids:
        return None
    return db.session.get(Bundle, bundle_ids.pop())


def _applications_of(payment: Payment) -> list:
    from portal.submissions.models import Submission

    ids = [item.submission_id for item in payment.items if item.submission_id]
    if not ids:
        return []
    return list(db.session.scalars(select(Submission).where(Submission.id.in_(ids))))


@bp.get("/p/<public_id>/<token>/return")
def return_from_provider(public_id: str, token: str):
    """The browser is back from the provider. Its query string proves nothing: ask."""
    db.will_write()
    payment = _payment_or_404(public_id, token)
    provider_id, payment_id = payment.provider_payment_id, payment.id
    db.session.rollback()
    if provider_id is None:
        return redirect(page_url(payment), 303)
    try:
        observed = provider().get(provider_id)
    except ProviderError as error:
        log.warning("payment %s: %s", public_id, error)
        return _problem(translate(UNREACHABLE[0]), translate(UNREACHABLE[1]), 503)
    return retrying(db.session, lambda: _apply_return(payment_id, observed))


def _apply_return(payment_id: int, observed) -> ResponseReturnValue:
    """What the provider answered, applied in one unit of work (run again on a deadlock)."""
    payment = db.session.get(Payment, payment_id)
    try:
        service.apply(
            db.session, payment, observed, source="return", now=clock.now(), notify_to=notify_to()
        )
    except service.Tampered:
        db.session.rollback()
        return _problem(
            translate("お支払いを確認できませんでした"),
            translate(
                "決済サービスからの応答が、このお支払いの内容（金額など）と一致しませんでした。"
                "お支払いは完了していません。担当課にお問い合わせください。"
            ),
            409,
        )
    db.session.commit()
    return redirect(page_url(payment), 303)


@bp.post("/p/<public_id>/<token>/retry")
def retry(public_id: str, token: str):
    payment = _payment_or_404(public_id, token)
    if payment.status not in ("failed", "expired"):
        return redirect(page_url(payment), 303)
    applications = _applications_of(payment)
    try:
        again = service.create(
            db.session, applications=applications, now=clock.now(), owner_sub=payment.owner_sub
        )
    except service.NothingToPay:
        db.session.rollback()
        return redirect(page_url(payment), 303)
    return _send_to_provider(again)


@bp.get("/p/<public_id>/<token>/receipt")
def receipt(public_id: str, token: str):
    payment = _payment_or_404(public_id, token)
    if payment.status not in ("paid", "refunded"):
        abort(404)
    return _no_referrer(
        render_template(
            "payments/receipt.html",
            payment=payment,
            label=translate(states.LABELS[payment.status]),
            token=token,
        )
    )


@bp.post("/webhooks/<provider_name>")
@csrf.exempt
def webhook(provider_name: str):
    """Signed events from the provider: 400 if not verified (logged without the body), 200 once
    applied or if already seen (the provider stops retrying)."""
    try:
        chosen = provider()
    except ProviderError:
        abort(404)  # online payment is off
    if provider_name != chosen.name:
        abort(404)
    now = clock.now()
    try:
        event = chosen.parse_webhook(request.get_data(), request.headers, int(now.timestamp()))
    except WebhookRefused as error:
        log.warning("webhook refused (%s) from %s", error, request.remote_addr)
        return Response("refused\n", 400, mimetype="text/plain")

    def unit() -> service.WebhookResult:  # run again on a deadlock
        result = service.handle_webhook(db.session, chosen, event, now=now, notify_to=notify_to())
        if result.status >= 400:
            db.session.rollback()
        else:
            db.session.commit()
        return result

    result = retrying(db.session, unit)
    if result.status >= 400:
        log.warning("webhook %s refused: %s", event.id, result.outcome)
    return Response(result.outcome + "\n", result.status, mimetype="text/plain")
