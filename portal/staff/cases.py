"""Staff case pages beyond the answers (issue 12): the workflow actions a member may take, asking
the resident for what is missing, the case's attachments (downloaded, never rendered inline), its
payment, appointment, bundle siblings, corrections (before and after) and history, and the report
of decisions made electronically per department.

Routes live on the staff blueprint (`bp`, /staff); `access._case` scopes every case to the member's
departments (404 otherwise), and every action is audited.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from portal import clock
from portal.appointments import service as appointment_service
from portal.db import db, retried_view
from portal.payments import states as payment_states
from portal.staff import bp, case_service, counter, workflow
from portal.staff.access import _audit, _case, _catalog
from portal.submissions import corrections, extensions
from portal.submissions import service as submissions
from portal.submissions.models import Submission
from portal.uploads.models import Upload
from portal.urls import public_url_for

NOT_YOURS = "この操作は、あなたの役割（この課での権限）ではできません。"
LOST_RACE = (
    "ほかの職員が先にこの申請を処理したため、操作は行われませんでした。"
    "いまの状況を確認してから、もう一度操作してください。"
)


def _status_url(submission: Submission) -> str:
    """The resident's page for the case (their "my applications" entry; login asks who they are)."""
    return public_url_for("submissions.my_application", public_id=submission.public_id)


def case_context(submission: Submission) -> dict:
    """Everything about a case beyond its answers, for the case page."""
    member = g.current_staff
    ctx = submissions.FormContext(
        db.session, submission, current_app.extensions["submission_services"], clock.now()
    )
    transitions = workflow.available(member, submission)
    procedure = submissions.procedure_of(submission)
    return {
        "actions": [t for t in transitions if not workflow.asks_resident(submission, t)],
        "ask": next((t for t in transitions if workflow.asks_resident(submission, t)), None),
        "askable_fields": [
            f
            for f in procedure.fields()
            if f.name in submission.answers or f.type == "file" or not f.required
        ],
        "corrections": [
            {"request": r, "rows": corrections.changed_rows(submission, r, ctx)}
            for r in workflow.corrections_of(db.session, submission)
        ],
        "history": _history(submission),
        "attachments": case_service.attachments(db.session, submission),
        "payments": case_service.payments(db.session, submission),
        "appointments": case_service.appointments(db.session, submission),
        "siblings": _siblings(submission),
        "entered_by": case_service.member_name(db.session, submission.entered_by),
        # Who helped online (an assisted session's helper, a kiosk), as the channel describes it.
        "helped_by": (
            None
            if (submission.entered_by or "").startswith("staff:")
            else extensions.registry().helped_by(db.session, submission)
        ),
        "counter_confirmation": (
            counter.confirmation_of(submission) if submission.entered_by else None
        ),
        "overdue_on": _due(submission, procedure.processing_days),
        "today": clock.today_local(),
        "payment_labels": payment_states.LABELS,
        "appointment_labels": appointment_service.STATUS_LABELS,
    }


def _due(submission: Submission, days: int) -> dt.date | None:
    """The day a decision is due (the catalog's processing days), while it is staff's turn."""
    state = submissions.workflow_of(submission).states[submission.status]
    if state.final or state.resident_turn or submission.submitted_at is None:
        return None
    return clock.to_local(submission.submitted_at + dt.timedelta(days=days)).date()


def _history(submission: Submission) -> list[dict]:
    workflow_ = submissions.workflow_of(submission)
    names = {t.name: t.label for t in workflow_.transitions if t.label}
    rows = []
    for event in submission.events:
        who = (
            "申請者"
            if event.actor == "resident"
            else case_service.member_name(db.session, event.actor_id) or "職員"
        )
        if event.actor == "system":
            who = "システム"
        rows.append(
            {
                "at": event.at,
                "to": workflow_.states[event.to_status].label
                if event.to_status in workflow_.states
                else event.to_status,
                "what": names.get(event.transition, ""),
                "who": who,
                "comment": event.comment,
            }
        )
    return rows


def _siblings(submission: Submission) -> list[dict]:
    """The other applications filed with it in a bundle (only those the member may open link)."""
    departments = g.current_staff.departments()
    return [
        {
            "submission": s,
            "title": s.snapshot["procedure"]["title"],
            "state": submissions.workflow_of(s).states[s.status].label,
            "open": s.department in departments and s.submitted_at is not None,
        }
        for s in case_service.bundle_siblings(db.session, submission)
    ]


REVEAL_NAMES = {"mynumber": "マイナンバー", "bank_account": "口座番号"}


def revealable(procedure, submission: Submission) -> str | None:
    """What the reveal button shows ("マイナンバー", "マイナンバー・口座番号", ...): the
    sensitive answers of the case; None when it has none."""
    names = [
        REVEAL_NAMES.get(f.type, "ご本人だけの情報")
        for f in procedure.fields()
        if f.sensitive and submission.answers.get(f.name)
    ]
    return "・".join(dict.fromkeys(names)) or None


def _detail(
    submission: Submission,
    revealed: dict | None = None,
    errors=None,
    reason="",
    forms: dict | None = None,
):
    """The case page; `forms` keeps what was typed into a workflow form that had an error."""
    from portal.submissions.access import form_context
    from portal.submissions.signing import verification
    from portal.submissions.summary import answer_groups

    procedure = submissions.procedure_of(submission)
    extra = case_context(submission)
    # After a correction the signature still covers the answers as they were submitted.
    signed = corrections.signed_version(db.session, submission)
    return render_template(
        "staff/submission.html",
        submission=submission,
        procedure=procedure,
        state=submissions.workflow_of(submission).states[submission.status],
        summary=answer_groups(
            submission, form_context(submission), clock.today_local(), staff=True
        ),
        verification=verification(submission, signed),
        signed_before_correction=signed is not None,
        reveal_what=revealable(procedure, submission),
        revealed=revealed,
        reason=reason,
        forms=forms or {},
        **extra,
        errors=errors or {},
        error_links={name: f"f-{name}" for name in errors or {}},
    )


@bp.post("/submissions/<public_id>/act")
@retried_view  # the case's row, then the audit head: run again on a deadlock
def act(public_id: str):
    """Apply one workflow transition (a button of the case page)."""
    case = _case(public_id)
    name, comment = request.form.get("transition", ""), request.form.get("comment", "")
    return _carry_out(
        case,
        name,
        lambda: workflow.apply(
            db.session,
            case,
            g.current_staff,
            name,
            expected=request.form.get("expected", ""),
            comment=comment,
            now=clock.now(),
            status_url=_status_url(case),
        ),
        forms={"transition": name, "comment": comment},
        done_message=lambda: (
            f"状況を「{submissions.workflow_of(case).states[case.status].label}」にしました。"
        ),
    )


@bp.post("/submissions/<public_id>/ask")
@retried_view  # the case's row, then the audit head: run again on a deadlock
def ask(public_id: str):
    """補正依頼: a message to the resident and the fields they may change."""
    case = _case(public_id)
    name = request.form.get("transition", "")
    message, fields = request.form.get("message", ""), request.form.getlist("fields")
    return _carry_out(
        case,
        name,
        lambda: workflow.ask_resident(
            db.session,
            case,
            g.current_staff,
            name,
            expected=request.form.get("expected", ""),
            message=message,
            fields=fields,
            now=clock.now(),
            status_url=_status_url(case),
        ),
        forms={"message": message, "fields": fields},
        done_message=lambda: "申請者に補正を依頼しました。申請者の画面とメールでお知らせします。",
    )


def _carry_out(case: Submission, name: str, change, *, forms: dict, done_message):
    """Run a workflow change and answer: the page again with what was typed (bad input), or back
    to the case with what happened (done, another member was first, or not this member's role)."""
    back = redirect(url_for("staff.submission", public_id=case.public_id), 303)
    try:
        done = change()
    except workflow.Invalid as invalid:
        db.session.rollback()
        return _detail(case, errors=invalid.errors, forms=forms), 422
    except submissions.TransitionRefused:
        db.session.rollback()
        flash(NOT_YOURS)
        return back
    if not done:
        db.session.rollback()
        flash(LOST_RACE)
        return back
    _audit(case, "change", f"workflow: {name}")
    db.session.commit()
    flash(done_message())
    return back


@bp.get("/submissions/<public_id>/files/<upload_token>")
def case_file(public_id: str, upload_token: str):
    """An attachment of the case, always downloaded (never shown inline: a sandbox CSP, nosniff)."""
    from portal.submissions.access import upload_response

    case = _case(public_id)
    upload = db.session.scalar(
        select(Upload).where(Upload.submission_id == case.id, Upload.token == upload_token)
    )
    if upload is None:
        abort(404)
    _audit(case, "view", f"添付ファイル: {upload.field_name}")
    db.session.commit()
    response = upload_response(upload)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reports/decisions")
def decisions():
    """電子決裁率: per department, decisions made electronically vs recorded from paper."""
    member = g.current_staff
    today = clock.today_local()
    fiscal_start = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    periods = {
        "month": ("今月", today.replace(day=1)),
        "fiscal": (f"{fiscal_start.year}年度", fiscal_start),
    }
    chosen = request.args.get("period", "fiscal")
    if chosen not in periods:
        chosen = "fiscal"
    label, first = periods[chosen]
    since = dt.datetime.combine(first, dt.time(), tzinfo=clock.TOKYO)
    names = {d.id: d.name for d in _catalog().departments}
    shares = workflow.decision_shares(
        db.session, _catalog(), member.departments(), since, clock.now() + dt.timedelta(seconds=1)
    )
    return render_template(
        "staff/decisions.html",
        shares=shares,
        names=names,
        periods=periods,
        chosen=chosen,
        label=label,
        first=first,
    )
