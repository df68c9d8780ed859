"""The visitor's screen of a counter application (`/counter/...`): opened once from the clerk's
link, it shows the answers the clerk entered (the engine's check-answers component), the
declaration, and submits through the engine, signing with the card first for procedures at
identity level "signature". Confirmations are in the audit log (ids only)."""

from __future__ import annotations

import datetime as dt

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from portal import clock
from portal.catalog.fields import html_id
from portal.counter import bp
from portal.counter.confirmation import (
    CONFIRM_LIFETIME,
    CONFIRM_MINUTES,
    SCREEN_REASON,
    nonce_of,
    record,
    version,
)
from portal.db import db
from portal.extensions import limiter
from portal.i18n import translate
from portal.identity.providers import ProviderError, current_provider
from portal.submissions import access, extensions, service, signing
from portal.submissions.models import Submission
from portal.submissions.summary import check_summary
from portal.urls import public_url_for

# The visitor's screen is resident-facing: these Japanese message ids are translated where shown.
DECLARATION_ERROR = "申請内容の確認にチェックを入れてください"
CHANGED_NOTICE = "職員が申請内容を変更しました。変更後の内容を確認してください。"

# Failures on the visitor's screen that differ from the resident's signing (portal.submissions
# .signing.FAILURES has the rest); Japanese message ids, translated by identity/failed.html.
SIGN_FAILURES = {
    "other_card": (
        "窓口で読み取ったカードとは別のカードで署名されました",
        "申請は、窓口で読み取ったご本人のマイナンバーカードで署名してください。",
    ),
}


def _no_store(response: Response) -> Response:
    # The visitor's answers on a shared counter screen: never cached, no referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.after_request
def _private(response: Response) -> Response:
    return _no_store(response)


def _unavailable(status: int = 404, busy: bool = False) -> ResponseReturnValue:
    page = render_template("counter/unavailable.html", minutes=CONFIRM_MINUTES, busy=busy)
    return page, status


# Not rate-limited: the token is 256 random bits under an HMAC (nothing to guess), and the
# screens of a whole city hall may reach the portal from one address.
@bp.get("/confirm/<token>")
def open_link(token: str) -> ResponseReturnValue:
    """The link from the clerk's screen: opened once, it hands this screen its own bearer token
    (kept in this browser's session) and stops working."""
    db.will_write()
    now = clock.now()
    nonce = nonce_of(token, now)
    submission = service.find_by_draft_token(db.session, nonce) if nonce else None
    if submission is None or not submission.entered_by or not service.is_draft(submission):
        return _unavailable()
    bearer = service.take_over_draft(db.session, submission, now)
    db.session.commit()
    session.pop("counter_done", None)
    session["counter_confirm"] = {
        "token": bearer,
        "until": (now + CONFIRM_LIFETIME).isoformat(),
    }
    return redirect(url_for(".confirm"))


def _visit() -> Submission | None:
    """The counter draft this screen was handed, while the handing is valid."""
    entry = session.get("counter_confirm")
    if not entry or dt.datetime.fromisoformat(entry["until"]) <= clock.now():
        return None
    submission = service.find_by_draft_token(db.session, entry["token"])
    if submission is None or not submission.entered_by:
        return None
    return submission


def _confirm_page(
    submission: Submission, errors: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    procedure = service.procedure_of(submission)
    today = clock.today_local()
    entry = session["counter_confirm"]
    return (
        render_template(
            "counter/confirm.html",
            procedure=procedure,
            department=access.catalog().department(submission.department),
            summary=check_summary(submission, access.form_context(submission), today),
            signing_needed=procedure.identity_level == "signature",
            version=version(submission),
            until=dt.datetime.fromisoformat(entry["until"]),
            declared=request.form.get("declaration") == "yes",
            errors=errors or {},
            error_links={name: html_id(name) for name in errors or {}},
        ),
        status,
    )


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"], methods=["POST"])
def confirm() -> ResponseReturnValue:
    """The visitor checks the answers the clerk entered and applies (signing first if needed)."""
    submission = _visit()
    if submission is None:
        return _unavailable()
    if not service.is_draft(submission):
        return _done_redirect(submission)
    if service.first_incomplete_step(submission, clock.today_local()) is not None:
        return _unavailable(409, busy=True)  # the clerk changed an answer: not complete now
    if request.method == "GET":
        return _confirm_page(submission)

    procedure = service.procedure_of(submission)
    declared = request.form.get("declaration") == "yes"
    if request.form.get("version") != version(submission):
        flash(translate(CHANGED_NOTICE))
        return redirect(url_for(".confirm"))
    if procedure.declaration and not declared:
        return _confirm_page(submission, {"declaration": translate(DECLARATION_ERROR)}, 400)
    if procedure.identity_level == "signature":
        return _begin_signing(submission, declared)
    service.submit(
        db.session,
        submission,
        declared,
        current_app.config["STATUS_LINK_KEY"],
        clock.today_local(),
        clock.now(),
        on_submitted=extensions.registry().submitted,
    )
    record(submission, f"resident:{submission.owner_sub}", SCREEN_REASON)
    db.session.commit()
    return _done_redirect(submission)


def _done_redirect(submission: Submission) -> ResponseReturnValue:
    session.pop("counter_confirm", None)
    session["counter_done"] = {"public_id": submission.public_id}
    return redirect(url_for(".done"))


def _begin_signing(submission: Submission, declared: bool) -> ResponseReturnValue:
    """Register the draft's digest with the provider and send the visitor to sign it."""
    procedure = service.procedure_of(submission)
    digest = version(submission)
    db.session.commit()  # no transaction open across calls to the provider (see signing.begin)
    try:
        transaction_id, response = current_provider().begin_signature(
            [{"title": f"{procedure.title}（申請書）", "digest": digest}],
            public_url_for(".sign_callback"),
        )
    except ProviderError as error:
        return _sign_failure(error.kind, 503 if error.kind == "unreachable" else 400)
    session["counter_signing"] = {
        "public_id": submission.public_id,
        "transaction_id": transaction_id,
        "digest": digest,
        "declared": declared,
    }
    return response


def _sign_failure(kind: str, status: int = 400) -> ResponseReturnValue:
    heading, message = SIGN_FAILURES.get(kind) or signing.FAILURES.get(
        kind, signing.FAILURES["invalid"]
    )
    return (
        render_template(
            "identity/failed.html",
            heading=heading,
            message=message,
            retry_url=url_for(".confirm"),
            retry_label="申請内容の確認に戻る",
        ),
        status,
    )


@bp.get("/sign/callback")
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def sign_callback() -> ResponseReturnValue:
    """Back from signing: check the signer is the visitor whose card was read, keep the
    signature, submit."""
    pending = session.pop("counter_signing", None)
    if not pending or not session.get("counter_confirm"):
        return _sign_failure("state")
    # The provider first (network), the database after: no transaction spans the calls.
    provider = current_provider()
    try:
        signed = provider.finish_signature(pending["transaction_id"])
        anchors = provider.trust_anchors()
    except ProviderError as error:
        return _sign_failure(error.kind, 503 if error.kind == "unreachable" else 400)
    db.will_write()
    submission = _visit()
    if submission is None or submission.public_id != pending["public_id"]:
        return _unavailable()
    if not service.is_draft(submission):
        return _done_redirect(submission)
    if signed.sub != submission.owner_sub:
        return _sign_failure("other_card")
    now = clock.now()
    problem = signing.keep_signature(submission, pending["digest"], signed, anchors, now)
    if problem:
        return _sign_failure(problem)
    service.submit(
        db.session,
        submission,
        pending["declared"],
        current_app.config["STATUS_LINK_KEY"],
        clock.today_local(),
        now,
        on_submitted=extensions.registry().submitted,
    )
    record(submission, f"resident:{submission.owner_sub}", SCREEN_REASON)
    db.session.commit()
    return _done_redirect(submission)


@bp.get("/done")
def done() -> ResponseReturnValue:
    """The reference, shown once on the counter screen (the next visitor must not see it)."""
    entry = session.pop("counter_done", None)
    submission = (
        db.session.scalar(select(Submission).where(Submission.public_id == entry["public_id"]))
        if entry
        else None
    )
    if submission is None or service.is_draft(submission):
        return _unavailable()
    return render_template(
        "counter/done.html",
        submission=submission,
        procedure=service.procedure_of(submission),
        department=access.catalog().department(submission.department),
    )
