"""Signing an application with the My Number card (identity level "signature").

At "submit" on the check-answers page the portal builds the canonical document of the draft
(service.signed_content), registers its digest with the identity provider and sends the resident
to sign it with the signature certificate's password. Back on /sign/callback it checks that the
signer is the signed-in resident, that the draft did not change meanwhile and that the signature
verifies against the CA root and revocation list, stores signature and certificate with the
submission, and submits it. The status page verifies it again every time it is shown
(`verification`), so a stored answer changed afterwards shows as 無効.

Every failure ends on a Japanese page that keeps the draft and offers to sign again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue

from portal import clock
from portal.db import db
from portal.extensions import limiter
from portal.identity import signature as signatures
from portal.identity.providers import ProviderError, SignedDocuments, current_provider
from portal.submissions import bp, extensions, service
from portal.submissions.models import Submission
from portal.urls import public_url_for

# Heading and message of each failure: Japanese message ids, translated by identity/failed.html
# (their translations are in the .po files).
FAILURES = {
    "access_denied": (
        "署名を取りやめました",
        "電子署名が取りやめられたため、申請はまだ送信されていません。",
    ),
    "signature_locked": (
        "署名用電子証明書のパスワードがロックされています",
        "パスワードを続けて間違えたため、ロックされています。市区町村の窓口でパスワードを初期化してください。",
    ),
    "signature_certificate_revoked": (
        "署名用電子証明書が失効しています",
        "署名用電子証明書は、引っ越しなどで住所や氏名が変わると失効します。引っ越しをした場合は、市区町村の窓口で電子証明書を発行し直してください。",
    ),
    "no_signature_certificate": (
        "署名用電子証明書がありません",
        "このカードには署名用電子証明書が入っていません（15歳未満の方には発行されません）。署名用電子証明書のあるカードで署名するか、窓口で申請してください。",
    ),
    "certificate_expired": (
        "電子証明書の有効期限が切れています",
        "市区町村の窓口で電子証明書を更新すると、署名できるようになります。",
    ),
    "card_locked": (
        "カードがロックされています",
        "暗証番号を続けて間違えたため、カードがロックされています。市区町村の窓口で暗証番号を初期化してください。",
    ),
    "invalid_sign_transaction": (
        "署名の受付期限が切れました",
        "署名の画面を開いてから時間がたったため、続けられませんでした。もう一度署名してください。",
    ),
    "state": (
        "署名の有効期限が切れました",
        "署名の手続に時間がかかったか、別の画面で署名を始めたため、続けられませんでした。もう一度署名してください。",
    ),
    "unreachable": (
        "本人確認サービスにつながりません",
        "マイナンバーカードの本人確認サービスに接続できませんでした。時間をおいてもう一度お試しください。",
    ),
    "invalid": (
        "署名を確認できませんでした",
        "電子署名の結果を確かめられませんでした。もう一度署名してください。",
    ),
    "other_card": (
        "ログインした方とは別のカードで署名されました",
        "申請は、ログインしている方ご本人のマイナンバーカードで署名してください。",
    ),
    "changed": (
        "署名の間に申請内容が変わりました",
        "署名をしている間に、別の画面などで申請内容が変更されました。内容を確認して、もう一度署名してください。",
    ),
    "bundle_failed": (
        "申請をまとめて送信できませんでした",
        "一部の手続で問題が起きたため、どの申請も送信していません。入力した内容はすべて保存されています。時間をおいて、もう一度お試しください。",
    ),
    "not_valid": (
        "電子署名を確認できませんでした",
        "電子署名を検証できなかったため、申請は送信されていません。もう一度署名してください。",
    ),
}


def failure(kind: str, procedure_id: str | None, status: int = 400) -> ResponseReturnValue:
    retry = (
        url_for("submissions.check", procedure_id=procedure_id)
        if procedure_id
        else url_for("pages.home")
    )
    return failure_page(kind, retry, status)


def failure_page(kind: str, retry: str, status: int = 400) -> ResponseReturnValue:
    """The page of a signing failure, with the way back to the check page (its texts are
    message ids, translated by the template)."""
    heading, message = FAILURES.get(kind, FAILURES["invalid"])
    revoked = kind == "signature_certificate_revoked"
    moving = url_for("pages.home", event="moving") if revoked else None
    return (
        render_template(
            "identity/failed.html",
            heading=heading,
            message=message,
            locked=kind in ("card_locked", "signature_locked"),
            retry_url=retry,
            retry_label="申請内容の確認に戻る",
            moving_url=moving,
        ),
        status,
    )


@dataclass(frozen=True)
class Document:
    """One document to sign: its title on the card service's page and its digest."""

    title: str
    digest: str


def begin_signing(
    documents: list[Document], state: dict[str, Any], retry: str, *, flow: str | None = None
) -> ResponseReturnValue:
    """Register the digests of `documents` with the card service in one transaction and send
    the resident to sign them all with one password. `state` is kept in the session for the
    callback; `flow` names a registered signing flow (extension point "sign several documents
    at once") whose callback takes over on the way back. No transaction may be open."""
    try:
        transaction_id, response = current_provider().begin_signature(
            [{"title": d.title, "digest": d.digest} for d in documents],
            public_url_for("submissions.sign_callback"),
        )
    except ProviderError as error:
        return failure_page(error.kind, retry, 503 if error.kind == "unreachable" else 400)
    session["signing"] = {**state, "flow": flow, "transaction_id": transaction_id}
    return response


def begin(submission: Submission, declared: bool) -> ResponseReturnValue:
    """Register the draft's digest with the provider and send the resident to sign it."""
    procedure = service.procedure_of(submission)
    digest = signatures.document_digest(service.signed_content(db.session, submission))
    # No transaction stays open across calls to the provider (SQLite: the mock provider in the
    # same database needs the write lock this POST would hold).
    db.session.commit()
    state = {
        "public_id": submission.public_id,
        "procedure_id": procedure.id,
        "digest": digest,
        "declared": declared,
    }
    retry = url_for("submissions.check", procedure_id=procedure.id)
    return begin_signing([Document(f"{procedure.title}（申請書）", digest)], state, retry)


@bp.get("/sign/callback")
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def sign_callback() -> ResponseReturnValue:
    pending = session.pop("signing", None)
    user = session.get("user")
    flow = extensions.registry().signing_flows.get(pending.get("flow") or "") if pending else None
    if pending and user and flow is not None:
        return flow(pending, user)
    if not pending or not user or pending.get("flow"):
        return failure("state", pending.get("procedure_id") if pending else None)
    procedure_id = pending["procedure_id"]
    # The provider first (network), the database after: no transaction spans the calls.
    provider = current_provider()
    try:
        signed = provider.finish_signature(pending["transaction_id"])
        anchors = provider.trust_anchors()
    except ProviderError as error:
        return failure(error.kind, procedure_id, 503 if error.kind == "unreachable" else 400)
    db.will_write()
    token = session.get("drafts", {}).get(procedure_id)
    submission = service.find_by_draft_token(db.session, token)
    if submission is None or submission.public_id != pending["public_id"]:
        return failure("state", procedure_id)
    if not service.is_draft(submission):
        return redirect(url_for("submissions.done", procedure_id=procedure_id))
    if submission.owner_sub != user["sub"]:
        abort(404)
    if signed.sub != user["sub"]:
        return failure("other_card", procedure_id)
    now = clock.now()
    problem = keep_signature(submission, pending["digest"], signed, anchors, now)
    if problem:
        return failure(problem, procedure_id)
    service.submit(
        db.session,
        submission,
        pending["declared"],
        current_app.config["STATUS_LINK_KEY"],
        clock.today_local(),
        now,
        on_submitted=extensions.registry().submitted,
    )
    db.session.commit()
    return redirect(url_for("submissions.done", procedure_id=procedure_id))


def keep_signature(
    submission: Submission,
    digest: str,
    signed: SignedDocuments,
    anchors: signatures.TrustAnchors,
    now: dt.datetime,
    **extra: str,
) -> str | None:
    """Check the signature the card service made over `digest` against the draft's document
    as it is now, and keep it with the draft. None when kept, else the failure kind: the draft
    "changed" since, the digest was not signed ("invalid"), or it does not verify."""
    content = service.signed_content(db.session, submission)
    if signatures.document_digest(content) != digest:
        return "changed"
    document = next((d for d in signed.signatures if d.get("digest") == digest), None)
    if document is None:
        return "invalid"
    result = signatures.verify(
        content, document["signature"], signed.certificate_pem, now, anchors, digest=digest
    )
    if not result.valid:
        return "not_valid"
    service.attach_signature(
        db.session,
        submission,
        {
            "digest": digest,
            "signature": document["signature"],
            "certificate": signed.certificate_pem,
            "signed_at": now.isoformat(),
            **extra,
        },
        now,
    )
    return None


# A message id: the status page shows the verdict translated (`_(verification.reason)`).
CA_UNREACHABLE = "電子証明書の確認先に接続できないため、いまは検証できません"


def verification(
    submission: Submission, answers: dict | None = None
) -> signatures.Verification | None:
    """Check the stored signature against the stored answers now (None: nothing was signed), or
    against `answers` (the version that was signed, when staff asked for a correction since).
    When the CA cannot be reached the result says so instead of guessing."""
    stored = submission.signature
    if not stored:
        return None
    try:
        anchors = current_provider().trust_anchors()
    except ProviderError:
        return signatures.Verification(
            valid=False,
            reason_code=None,
            reason=CA_UNREACHABLE,
        )
    return signatures.verify(
        service.signed_content(db.session, submission, answers),
        stored["signature"],
        stored["certificate"],
        dt.datetime.fromisoformat(stored["signed_at"]),
        anchors,
        digest=stored["digest"],
    )
