"""Login with the My Number card and logout, through the configured identity provider
(portal.identity.providers).

The provider checks the ID token (signature, issuer, audience, expiry, nonce, `acr`); here the
session gets a new token at login and keeps who logged in: the provider's `sub`, the card's four
basic items (for prefilling forms) and the resident-record id they match, if any. At logout the
session is deleted on the server, so a copied cookie no longer works. Every way a login can fail
ends on a Japanese page that says what to do, never a 500, and keeps the draft.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from portal import japanese
from portal.db import db
from portal.extensions import limiter
from portal.identity.providers import Identity, ProviderError, current_provider
from portal.records.base import RecordNotFound
from portal.urls import public_url_for, safe_path

bp = Blueprint("identity", __name__)

# Heading and message of each failure: Japanese message ids, translated by identity/failed.html
# (their translations are in the .po files).
FAILURES = {
    "access_denied": (
        "ログインを取りやめました",
        "本人確認が取りやめられたため、ログインしていません。",
    ),
    "card_locked": (
        "カードがロックされています",
        "暗証番号を続けて間違えたため、カードがロックされています。市区町村の窓口で暗証番号を初期化してください。",
    ),
    "certificate_expired": (
        "電子証明書の有効期限が切れています",
        "市区町村の窓口で電子証明書を更新すると、ログインできるようになります。",
    ),
    "state": (
        "ログインの有効期限が切れました",
        "ログインの手続に時間がかかったか、別の画面でログインしたため、続けられませんでした。もう一度ログインしてください。",
    ),
    "unreachable": (
        "本人確認サービスにつながりません",
        "マイナンバーカードの本人確認サービスに接続できませんでした。時間をおいてもう一度お試しください。",
    ),
    "invalid": (
        "ログインできませんでした",
        "本人確認の結果を確かめられませんでした。もう一度ログインしてください。",
    ),
}


# Where a locked card's PIN is reset (暗証番号の初期化): the counter and its booking service.
PIN_RESET_COUNTER = "shimin-main"
PIN_RESET_SERVICE = "mynumber-pin"
LOCKED = {"card_locked", "signature_locked"}


def locked_card() -> dict[str, str] | None:
    """The counter that resets a locked card's PIN, with the link that books it (None when the
    catalog has no such counter or service)."""
    counter = current_app.extensions["catalog"].counter(PIN_RESET_COUNTER)
    if counter is None or counter.booking is None:
        return None
    if not any(s.id == PIN_RESET_SERVICE for s in counter.booking.services):
        return None
    return {
        "name": counter.name,
        "location": counter.location,
        "hours": counter.hours,
        "booking_url": url_for(
            "appointments.counter", counter_id=counter.id, service=PIN_RESET_SERVICE, people=1
        ),
    }


def _failure(kind: str, status: int = 400, retry_url: str | None = None):
    heading, message = FAILURES.get(kind, FAILURES["invalid"])
    return (
        render_template(
            "identity/failed.html",
            heading=heading,
            message=message,
            locked=kind in LOCKED,
            retry_url=retry_url or url_for("identity.login", next=session.get("login_next")),
        ),
        status,
    )


@bp.get("/login")
def login():
    return render_template("identity/login.html", next_url=_safe_next(request.args.get("next")))


@bp.post("/login")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
# Locked out after repeated failed callbacks: checked here too, never counted here.
@limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN_FAILURES"],
    "login-failures",
    deduct_when=lambda _r: False,
)
def start_login():
    session["login_next"] = _safe_next(request.form.get("next"))
    # What the resident asked for with the login, for the page they come back to: "begin"
    # (ログインして申請を始める: start the application) or "begin-self" (ログインしてご本人の申請を
    # 始める: start it as their own application, without the "who" page, for a procedure that
    # may also be filed for someone else). Read by that page (portal.submissions.views.start).
    intent = request.form.get("then")
    begins = intent in BEGIN_INTENTS and session["login_next"]
    session["login_intent"] = [intent, session["login_next"]] if begins else None
    # The card's 個人番号 is asked for (its own consent on the card page) only to start a
    # procedure that has a field for the resident's own number.
    wanted = {"my_number": True} if begins and _needs_my_number(session["login_next"]) else {}
    try:
        return current_provider().begin_login(public_url_for("identity.callback"), **wanted)
    except ProviderError as error:
        return _failure(error.kind, 503)


BEGIN_INTENTS = ("begin", "begin-self")
MY_NUMBER_SOURCES = ("applicant.my_number", "subject.my_number")


def _needs_my_number(next_url: str) -> bool:
    """Whether the procedure page a login starts (/procedures/<id>) fills a field from the
    card's 個人番号."""
    match = re.fullmatch(r"/procedures/([a-z0-9-]+)", next_url)
    procedure = current_app.extensions["catalog"].procedure(match[1]) if match else None
    return procedure is not None and any(
        f.prefill is not None and f.prefill.source in MY_NUMBER_SOURCES for f in procedure.fields()
    )


def _my_number_token(identity: Identity) -> str | None:
    """The card's 個人番号, encrypted as a mynumber answer is stored (the session holds no My
    Number in clear); None when the card service gave none (or not a valid one)."""
    if not identity.my_number or not japanese.is_valid_my_number(identity.my_number):
        return None
    key = current_app.extensions["submission_services"].my_number_key
    return japanese.encrypt_sensitive(japanese.normalize_my_number(identity.my_number), key)


@bp.get("/login/callback")
# Only failures count (a success is a redirect; 503 is the provider's fault, not an attempt).
@limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN_FAILURES"],
    "login-failures",
    deduct_when=lambda response: 400 <= response.status_code < 500 and response.status_code != 429,
)
def callback():
    try:
        identity = current_provider().finish_login()
    except ProviderError as error:
        return _failure(error.kind, 503 if error.kind == "unreachable" else 400)
    next_url = session.pop("login_next", None) or url_for("pages.home")
    db.will_write()  # the record lookup below is logged
    user = {
        "sub": identity.sub,
        "name": identity.name,
        "provider": identity.provider,
        "card": {
            "name": identity.name,
            "address": identity.address,
            "birthdate": identity.birthdate,
            "gender": identity.gender,
        },
        "person_id": _record_id(identity),
    }
    my_number = _my_number_token(identity)
    if my_number:
        user["my_number"] = my_number
    session["user"] = user
    session.rotate()
    db.session.commit()  # the record-read log of the lookup above
    return redirect(next_url)


def _record_id(identity: Identity) -> str | None:
    """The resident record the card's basic items match (None: not a resident we know)."""
    records = current_app.extensions.get("resident_records")
    if records is None or not identity.name or not identity.birthdate:
        return None
    try:
        return records.find_person(
            identity.name,
            dt.date.fromisoformat(identity.birthdate),
            reader="login",
            purpose="ログインした方の住民記録の特定",
        )
    except (RecordNotFound, ValueError):
        return None


@bp.post("/logout")
def logout():
    session.end()
    return render_template("identity/logged_out.html")


def _safe_next(value: str | None) -> str | None:
    """Only paths on this site (no open redirect; portal.urls.safe_path)."""
    return safe_path(value)


def init_app(app) -> None:
    from portal.identity import providers, timeout

    providers.init_app(app)
    app.add_template_global(locked_card)
    app.register_blueprint(bp)
    app.register_blueprint(timeout.bp)
    # The same endpoints for staff pages, under /staff where the staff session cookie is sent.
    app.register_blueprint(timeout.bp, name="staff_session_timeout", url_prefix="/staff/session")
