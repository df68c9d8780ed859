"""What the clerk's pages and the visitor's screen share: the one-time confirmation link, the
texts of the audit entries, and how a counter application was confirmed."""

from __future__ import annotations

import datetime as dt
import hmac

from flask import current_app
from sqlalchemy import select

from portal import audit, clock
from portal.db import db
from portal.identity import signature as signatures
from portal.security import derived_token
from portal.submissions import service
from portal.submissions.models import Submission

CONFIRM_MINUTES = 15
CONFIRM_LIFETIME = dt.timedelta(minutes=CONFIRM_MINUTES)

# The helper kind of a counter clerk in `Submission.entered_by` ("staff:<id>").
HELPER_KIND = "staff"

# The texts of the audit entries (`change` on the submission; ids only besides these).
START_REASON = "窓口：マイナンバーカードでご本人を確認し、職員が申請の入力を開始"
PRINTED_REASON = "窓口：ご本人が印刷した申請書を確認・署名し、職員が申請を受付"
SCREEN_REASON = "窓口：職員が入力した申請を、ご本人が確認用の画面で確認して申請"


def record(submission: Submission, actor: str, reason: str) -> None:
    audit.record(
        db.session,
        actor=actor,
        action="change",
        target=f"submission:{submission.public_id}",
        department=submission.department,
        reason=reason,
        at=clock.now(),
    )


def version(submission: Submission) -> str:
    """What the visitor is shown, as a digest: a change by the clerk meanwhile is noticed."""
    return signatures.document_digest(service.signed_content(db.session, submission))


def confirmation_of(submission: Submission) -> str | None:
    """How the visitor confirmed a counter application, from the audit log (for the check page
    and the staff case page); None for an application not confirmed at the counter."""
    reason = db.session.scalar(
        select(audit.AuditEntry.reason)
        .where(
            audit.AuditEntry.target == f"submission:{submission.public_id}",
            audit.AuditEntry.reason.in_([PRINTED_REASON, SCREEN_REASON]),
        )
        .order_by(audit.AuditEntry.id.desc())
        .limit(1)
    )
    if reason == PRINTED_REASON:
        return "印刷した申請書（ご本人の署名）"
    if reason == SCREEN_REASON:
        if submission.signature:
            return "確認用の画面（マイナンバーカードによる電子署名）"
        return "確認用の画面"
    return None


def link_token(nonce: str, expires: dt.datetime) -> str:
    """`<expiry, unix seconds>.<nonce>.<HMAC of both>`: random, nothing personal."""
    payload = f"{int(expires.timestamp())}.{nonce}"
    return f"{payload}.{mac(payload)}"


def mac(payload: str) -> str:
    return derived_token(current_app.config["SECRET_KEY"], "counter-confirm", payload)


def nonce_of(token: str, now: dt.datetime) -> str | None:
    """The nonce of a link that is authentic and not expired; None otherwise."""
    payload, _, given = token.rpartition(".")
    expires, _, nonce = payload.partition(".")
    if not (payload and given and nonce and expires.isdigit()):
        return None
    if not hmac.compare_digest(given, mac(payload)):
        return None
    if int(expires) <= now.timestamp():
        return None
    return nonce
