"""書かない窓口 (no writing at the counter), the clerk's side: a clerk enters an application for
a visitor, who confirms it on a second screen (portal.counter, a channel of its own) or on a
printout (docs/decisions/0035-counter-entry.md).

Routes on the staff blueprint, so its sign-in and 404-for-everyone-else apply; only a member
with the clerk role, and only for procedures of their clerk departments: choose a procedure and
read the visitor's card through the identity provider — the visitor types their own PIN on the
card-reader page, which returns to /staff/counter/card. The visitor's identity is never put into
the staff session: it becomes the owner of a draft (`owner_sub`, the record id as
`applicant_person_id`), prefilled from the card and the records as for a resident, marked as
entered by the clerk (the engine's helper kind "staff"). The clerk fills the steps with the
engine's step controller (portal.submissions.steps) and reaches a check page, which issues the
one-time link for the visitor's screen (portal.counter.confirmation). Procedures at level "login"
may instead be confirmed on a printout the visitor reads and signs by hand; the clerk then
records that. Start and confirmation are in the audit log (ids only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from portal import audit, clock
from portal.catalog import logic
from portal.catalog.fields import html_id
from portal.catalog.schema import Field, Option, Procedure, Step
from portal.counter.confirmation import (
    CONFIRM_LIFETIME,
    CONFIRM_MINUTES,
    HELPER_KIND,
    PRINTED_REASON,
    START_REASON,
    link_token,
    nonce_of,
    record,
)
from portal.counter.confirmation import confirmation_of as confirmation_of
from portal.db import db
from portal.extensions import limiter
from portal.identity.providers import Identity, ProviderError, current_provider
from portal.qr import qr_svg
from portal.records.base import RecordNotFound
from portal.staff import bp, kiosk_certificates
from portal.staff.access import WRITING_GETS
from portal.staff.models import StaffMember
from portal.submissions import access, extensions, prefill, service, steps
from portal.submissions.models import Submission
from portal.submissions.summary import CheckSummary, check_summary
from portal.urls import public_url_for

CLERK = "clerk"
LEVELS = ("login", "signature")  # the card is read, so the visitor is identified
RECENT_VISITS = 20

# A GET that writes (the print view is audited; see WRITING_GETS in portal.staff.access). The
# card's return writes too, but only after calling the provider: it takes the lock itself.
WRITING_GETS.update({"staff.counter_print"})

CARD_FAILURES = {
    "access_denied": (
        "カードの読み取りを取りやめました",
        "本人確認が取りやめられたため、申請は始めていません。",
    ),
    "card_locked": (
        "カードがロックされています",
        "暗証番号を続けて間違えたため、カードがロックされています。"
        "暗証番号の初期化の手続をご案内してください。",
    ),
    "certificate_expired": (
        "電子証明書の有効期限が切れています",
        "電子証明書の更新の手続をご案内してください。更新すると、カードを読み取れます。",
    ),
    "state": (
        "カードの読み取りの有効期限が切れました",
        "読み取りに時間がかかったか、別の画面で読み取りを始めたため、続けられませんでした。"
        "手続を選んで、もう一度カードを読み取ってください。",
    ),
    "unreachable": (
        "本人確認サービスにつながりません",
        "マイナンバーカードの本人確認サービスに接続できませんでした。"
        "時間をおいてもう一度お試しください。",
    ),
    "invalid": (
        "カードを読み取れませんでした",
        "本人確認の結果を確かめられませんでした。もう一度カードを読み取ってください。",
    ),
}

PRINTED_LABEL = (
    "お客様が、印刷した申請書の内容を確認して署名したことを確かめました"
    "（署名した申請書は担当課で保管します）"
)
PRINTED_ERROR = "お客様が内容を確認して署名したことを確かめて、チェックを入れてください"


def _catalog():
    return current_app.extensions["catalog"]


def _actor(member: StaffMember | None = None) -> str:
    return f"staff:{(member or g.current_staff).id}"


def _clerk_departments() -> set[str]:
    """The member's clerk departments; 404 for a member who is no clerk anywhere."""
    departments = g.current_staff.departments(CLERK)
    if not departments:
        abort(404)
    return departments


def counter_procedures(catalog, departments: set[str]) -> list[Procedure]:
    """Procedures a clerk of `departments` may enter at the counter: filed online (not counter
    only, not bundles), with the card read (identity level login or signature)."""
    return [
        p
        for p in catalog.procedures
        if p.department in departments
        and p.channel != "counter"
        and p.identity_level in LEVELS
        and p.steps
    ]


def _procedure_field(procedures: list[Procedure]) -> Field:
    return Field(
        name="procedure",
        type="select",
        label="手続",
        hint="担当課の手続のうち、オンラインで申請できるものです。",
        options=[Option(value=p.id, label=p.title) for p in procedures],
    )


def _visitor_name(submission: Submission) -> str:
    """The name the application gives first (the applicant in every procedure's first step)."""
    if submission.purged_at is not None:
        return ""
    for f in service.procedure_of(submission).fields():
        value = submission.answers.get(f.name)
        if f.type == "person" and isinstance(value, dict) and value.get("name"):
            return value["name"]
    return ""


def _state_label(submission: Submission) -> str:
    return service.workflow_of(submission).states[submission.status].label


def _counter_case(public_id: str) -> Submission:
    """An application this member entered at the counter, of one of their clerk departments;
    404 for anything else (another clerk's, another department's, a resident's own)."""
    departments = _clerk_departments()
    submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
    if (
        submission is None
        or submission.entered_by != _actor()
        or submission.department not in departments
        or submission.purged_at is not None
    ):
        abort(404)
    return submission


# --- staff: choose the procedure, read the card ------------------------------------------------


@bp.get("/counter")
def counter():
    """Start a counter application, and the member's recent counter visits."""
    return _start_page(request.args.get("procedure", ""))


def _start_page(chosen: str, errors: dict | None = None, status: int = 200):
    departments = _clerk_departments()
    procedures = counter_procedures(_catalog(), departments)
    visits = db.session.scalars(
        select(Submission)
        .where(Submission.entered_by == _actor(), Submission.purged_at.is_(None))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(RECENT_VISITS)
    ).all()
    return (
        render_template(
            "staff/counter.html",
            procedure_field=_procedure_field(procedures),
            chosen=chosen,
            errors=errors or {},
            **kiosk_certificates.counter_context(departments),
            visits=[
                {
                    "submission": s,
                    "title": s.snapshot["procedure"]["title"],
                    "name": _visitor_name(s),
                    "draft": service.is_draft(s),
                    "state": _state_label(s),
                }
                for s in visits
            ],
        ),
        status,
    )


@bp.post("/counter/start")
def counter_start():
    """Remember the chosen procedure (nothing about the visitor) and go to the card reader."""
    departments = _clerk_departments()
    chosen = request.form.get("procedure", "")
    allowed = {p.id for p in counter_procedures(_catalog(), departments)}
    if chosen not in allowed:
        return _start_page(chosen, {"procedure": "手続を選んでください"}, 400)
    session["counter_pending"] = {"procedure_id": chosen}
    # No transaction stays open while the provider is called (SQLite: the mock provider runs on
    # the same database and may need the write lock this POST took).
    db.session.commit()
    try:
        return current_provider().begin_login(public_url_for("staff.counter_card"))
    except ProviderError as error:
        return _card_failure(error.kind, chosen, 503)


def _card_failure(kind: str, procedure_id: str | None, status: int = 400):
    heading, message = CARD_FAILURES.get(kind, CARD_FAILURES["invalid"])
    return (
        render_template(
            "staff/counter_failed.html",
            heading=heading,
            message=message,
            retry_url=url_for("staff.counter", procedure=procedure_id or None),
        ),
        status,
    )


@bp.get("/counter/card")
def counter_card():
    """Back from the card reader: start the visitor's draft, prefilled from the card."""
    pending = session.pop("counter_pending", None)
    departments = _clerk_departments()
    if not pending:
        return _card_failure("state", None)
    procedure_id = pending["procedure_id"]
    try:
        identity = current_provider().finish_login()
    except ProviderError as error:
        return _card_failure(error.kind, procedure_id, 503 if error.kind == "unreachable" else 400)
    procedure = _catalog().procedure(procedure_id)
    allowed = {p.id for p in counter_procedures(_catalog(), departments)}
    if procedure is None or procedure.id not in allowed:
        return _card_failure("state", None)
    # The provider was called with the staff lookup's read transaction open: end it, and take
    # the write lock for what follows (SQLite).
    member_id = g.current_staff.id
    db.session.rollback()
    db.will_write()
    member = db.session.get(StaffMember, member_id)
    g.current_staff = member
    person_id = _record_id(identity, member)
    submission, _token = service.start_draft(
        db.session,
        _catalog(),
        procedure,
        clock.now(),
        owner_sub=identity.sub,
        applicant_person_id=person_id,
    )
    extensions.mark_helped(submission, HELPER_KIND, str(member.id))
    if procedure.on_behalf:
        # At the counter the visitor applies for themself (a proxy applies with their own card).
        service.set_subject(db.session, submission, relationship="self", subject_person_id=None)
    answers, sources = prefill.prefill_answers(
        procedure,
        prefill.Applicant(
            card={
                "name": identity.name,
                "address": identity.address,
                "birthdate": identity.birthdate,
                "gender": identity.gender,
            },
            person_id=person_id,
        ),
        prefill.Subject(person_id, readable=True),
        current_app.extensions.get("resident_records"),
        reader=f"submission:{submission.public_id}",
        today=clock.today_local(),
        my_number_key=current_app.extensions["submission_services"].my_number_key,
    )
    service.apply_prefill(db.session, submission, answers, sources)
    record(submission, _actor(member), START_REASON)
    db.session.commit()
    return redirect(
        url_for("staff.counter_step", public_id=submission.public_id, step_id=procedure.steps[0].id)
    )


def _record_id(identity: Identity, member: StaffMember) -> str | None:
    """The resident record the card's basic items match (None: not a resident we know)."""
    records = current_app.extensions.get("resident_records")
    if records is None or not identity.name or not identity.birthdate:
        return None
    try:
        return records.find_person(
            identity.name,
            dt.date.fromisoformat(identity.birthdate),
            reader=_actor(member),
            purpose="窓口で読み取ったマイナンバーカードの方の住民記録の特定",
        )
    except (RecordNotFound, ValueError):
        return None


# --- staff: the steps and the check page --------------------------------------------------------


def _step_url(submission: Submission, step_id: str, returning: bool = False) -> str:
    extra = {"return": "check"} if returning else {}
    return url_for("staff.counter_step", public_id=submission.public_id, step_id=step_id, **extra)


def _check_url(submission: Submission) -> str:
    return url_for("staff.counter_check", public_id=submission.public_id)


def _refreshed(submission: Submission):
    """Move the draft to the catalog's current procedure, as the resident's pages do; a redirect
    to the first step to go through again when it changed."""
    today = clock.today_local()
    changed = service.refresh_snapshot(db.session, _catalog(), submission, today)
    if not changed:
        return None
    db.session.commit()
    titles = "、".join(f"「{step.title}」" for step in changed)
    flash(f"入力の途中で、この手続の内容が変わりました。{titles}をもう一度確認してください。")
    first = service.first_incomplete_step(submission, today)
    return redirect(_step_url(submission, first.id) if first else _check_url(submission))


@bp.route("/counter/<public_id>/apply/<step_id>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SAVE"], methods=["POST"])
def counter_step(public_id: str, step_id: str):
    """One step of the form, filled in by the clerk with the engine's step controller."""
    submission = _counter_case(public_id)
    if not service.is_draft(submission):
        return redirect(_check_url(submission))
    elsewhere = _refreshed(submission)
    if elsewhere:
        return elsewhere
    procedure = service.procedure_of(submission)
    today = clock.today_local()
    current = procedure.step(step_id)
    if current is None:
        abort(404)
    detour = steps.out_of_order(submission, current, today)
    if detour is not False:
        return redirect(_step_or_check(submission, detour if isinstance(detour, Step) else None))

    returning = request.args.get("return") == "check"
    result = steps.handle(submission, current, today, languages=False)
    if result.not_editable:
        return redirect(_check_url(submission))
    if result.saved:
        following = steps.next_step(submission, current.id, returning, today)
        return redirect(_step_or_check(submission, following))

    position, total = service.step_position(procedure, submission.answers, current, today)
    back = service.previous_step(procedure, submission.answers, current, today)
    return render_template(
        "staff/counter_step.html",
        **steps.page_values(submission, current, result.ctx, result.raw, result.outcome, today),
        submission=submission,
        file_url=lambda token: url_for(
            "staff.counter_file", public_id=submission.public_id, upload_token=token
        ),
        position=position,
        total=total,
        back_url=(
            _check_url(submission)
            if returning
            else _step_url(submission, back.id)
            if back
            else url_for("staff.counter")
        ),
        returning=returning,
    )


def _step_or_check(submission: Submission, step: Step | None) -> str:
    return _step_url(submission, step.id) if step is not None else _check_url(submission)


@bp.get("/counter/<public_id>/files/<upload_token>")
def counter_file(public_id: str, upload_token: str):
    """A file attached to a counter draft (scanned at the counter, say)."""
    submission = _counter_case(public_id)
    return access.upload_response(access.upload_of(submission, upload_token))


def _answers(submission: Submission, draft: bool) -> CheckSummary:
    """The answers (with links to change them while a draft), the fee and the last day."""
    return check_summary(
        submission,
        access.form_context(submission),
        clock.today_local(),
        change_url=(lambda step: _step_url(submission, step.id, returning=True)) if draft else None,
    )


def _live_link(submission: Submission) -> dict | None:
    """The confirmation link this member issued for the draft, while it is valid: its URL, QR
    code, expiry, and whether the visitor's screen has opened it."""
    links = session.get("counter_links", {})
    issued = links.get(submission.public_id)
    if not issued or not service.is_draft(submission):
        return None
    expires = dt.datetime.fromisoformat(issued["expires"])
    nonce = nonce_of(issued["token"], clock.now())
    if nonce is None:
        return {"expired": True, "expires": expires}
    opened = service.find_by_draft_token(db.session, nonce) is None
    url = public_url_for("counter.open_link", token=issued["token"])
    return {
        "expired": False,
        "url": url,
        "qr": qr_svg(url, "お客様用の確認画面を開くQRコード"),
        "expires": expires,
        "opened": opened,
    }


def _check_page(submission: Submission, errors: dict | None = None, status: int = 200):
    procedure = service.procedure_of(submission)
    draft = service.is_draft(submission)
    answers = _answers(submission, draft)
    return (
        render_template(
            "staff/counter_check.html",
            submission=submission,
            procedure=procedure,
            draft=draft,
            state=_state_label(submission),
            # The fee and the last day while a draft; after the confirmation, the answers only.
            summary=answers if draft else replace(answers, fee=None, deadline=None),
            link=_live_link(submission) if draft else None,
            printable=procedure.identity_level != "signature",
            printed_field=Field(name="printed", type="declaration", label=PRINTED_LABEL),
            confirmation=confirmation_of(submission) if not draft else None,
            errors=errors or {},
            error_links={name: html_id(name) for name in errors or {}},
            minutes=CONFIRM_MINUTES,
        ),
        status,
    )


@bp.get("/counter/<public_id>/check")
def counter_check(public_id: str):
    """The answers, and how the visitor confirms them; after the confirmation, the reference
    (the clerk reloads this page to see it)."""
    submission = _counter_case(public_id)
    if service.is_draft(submission):
        elsewhere = _refreshed(submission)
        if elsewhere:
            return elsewhere
        first = service.first_incomplete_step(submission, clock.today_local())
        if first is not None:
            return redirect(_step_url(submission, first.id))
    return _check_page(submission)


@bp.post("/counter/<public_id>/link")
def counter_link(public_id: str):
    """Issue the confirmation link for the visitor's screen (any earlier one stops working)."""
    submission = _counter_case(public_id)
    if not service.is_draft(submission):
        return redirect(_check_url(submission))
    if service.first_incomplete_step(submission, clock.today_local()) is not None:
        return redirect(_check_url(submission))
    now = clock.now()
    nonce = service.take_over_draft(db.session, submission, now)
    expires = now + CONFIRM_LIFETIME
    links = dict(session.get("counter_links", {}))
    # Only live links are kept: the staff session does not collect old ones.
    links = {
        key: value
        for key, value in links.items()
        if dt.datetime.fromisoformat(value["expires"]) > now
    }
    links[submission.public_id] = {
        "token": link_token(nonce, expires),
        "expires": expires.isoformat(),
    }
    session["counter_links"] = links
    db.session.commit()
    return redirect(_check_url(submission) + "#confirm")


@bp.get("/counter/<public_id>/print")
def counter_print(public_id: str):
    """The application as a printout the visitor reads and signs by hand (an audited view)."""
    submission = _counter_case(public_id)
    procedure = service.procedure_of(submission)
    audit.record(
        db.session,
        actor=_actor(),
        action="view",
        target=f"submission:{submission.public_id}",
        department=submission.department,
        reason="窓口：ご本人の確認用に申請書を印刷",
        at=clock.now(),
    )
    db.session.commit()
    return render_template(
        "staff/counter_print.html",
        submission=submission,
        procedure=procedure,
        department=_catalog().department(submission.department),
        summary=_answers(submission, False).groups,
        fee=logic.fee_amount(procedure, submission.answers, clock.today_local()),
        printed_at=clock.now(),
    )


@bp.post("/counter/<public_id>/printed")
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def counter_printed(public_id: str):
    """The clerk records that the visitor confirmed and signed the printout: submitted."""
    submission = _counter_case(public_id)
    if not service.is_draft(submission):
        return redirect(_check_url(submission))
    procedure = service.procedure_of(submission)
    if procedure.identity_level == "signature":
        abort(404)  # needs the card's electronic signature: the visitor's screen only
    if request.form.get("printed") != "yes":
        return _check_page(submission, {"printed": PRINTED_ERROR}, 400)
    try:
        service.submit(
            db.session,
            submission,
            True,  # the declaration is on the printout the visitor signed
            current_app.config["STATUS_LINK_KEY"],
            clock.today_local(),
            clock.now(),
        )
    except service.IncompleteAnswers as incomplete:
        db.session.rollback()
        return redirect(_step_url(submission, incomplete.step.id))
    record(submission, _actor(), PRINTED_REASON)
    db.session.commit()
    _forget_link(submission)
    return redirect(_check_url(submission))


def _forget_link(submission: Submission) -> None:
    links = dict(session.get("counter_links", {}))
    if links.pop(submission.public_id, None) is not None:
        session["counter_links"] = links


def entered_by(submission: Submission) -> StaffMember | None:
    """The member who entered a counter application (for the staff case page)."""
    if not submission.entered_by or not submission.entered_by.startswith("staff:"):
        return None
    member_id = submission.entered_by.partition(":")[2]
    return db.session.get(StaffMember, int(member_id)) if member_id.isdigit() else None
