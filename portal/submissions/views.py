"""Views of the submission engine. Thin: find the draft, call one service, commit, redirect.

The resident's browser holds each draft's bearer token in the signed session cookie
(`session["drafts"][procedure_id]`); no personal data or token ever goes into a URL, except the
status page's secret link, which access logs redact.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from portal import clock
from portal.catalog import logic
from portal.catalog.schema import CatalogData, Procedure
from portal.db import db
from portal.qr import qr_svg
from portal.submissions import bp, service
from portal.submissions.models import Submission


def _catalog() -> CatalogData:
    return current_app.extensions["catalog"]


def _procedure_or_404(procedure_id: str) -> Procedure:
    procedure = _catalog().procedure(procedure_id)
    if procedure is None:
        abort(404)
    return procedure


def _draft_for(procedure_id: str) -> Submission | None:
    token = session.get("drafts", {}).get(procedure_id)
    return service.find_by_draft_token(db.session, token)


def _remember_draft(procedure_id: str, token: str) -> None:
    drafts = dict(session.get("drafts", {}))
    drafts[procedure_id] = token
    session["drafts"] = drafts


def _status_token(submission: Submission) -> str:
    return service.status_token(current_app.config["STATUS_LINK_KEY"], submission)


def _summary(submission: Submission) -> list[dict]:
    """Answers grouped by step, as label/value rows, for check-answers and status pages."""
    procedure = service.procedure_of(submission)
    today = clock.today_local()
    groups = []
    for step in logic.applicable_steps(procedure, submission.answers, today):
        rows = []
        for field in logic.applicable_fields(step, submission.answers, today):
            value = submission.answers.get(field.name)
            text = field.field_type.display(field, value) if value is not None else "未入力"
            if field.suffix and value is not None:
                text = f"{text}{field.suffix}"
            rows.append({"label": field.label, "value": text, "sensitive": field.sensitive})
        groups.append({"step": step, "rows": rows})
    return groups


@bp.get("/procedures/<procedure_id>")
def start(procedure_id: str):
    procedure = _procedure_or_404(procedure_id)
    draft = _draft_for(procedure_id)
    if draft is not None and not service.is_draft(draft):
        draft = None
    return render_template(
        "submissions/start.html",
        procedure=procedure,
        department=_catalog().department(procedure.department),
        draft=draft,
    )


@bp.post("/procedures/<procedure_id>/start")
def begin(procedure_id: str):
    procedure = _procedure_or_404(procedure_id)
    if procedure.channel == "counter":
        abort(404)
    submission, token = service.start_draft(db.session, _catalog(), procedure, clock.now())
    db.session.commit()
    _remember_draft(procedure_id, token)
    return redirect(url_for(".step", procedure_id=procedure_id, step_id=procedure.steps[0].id))


def _draft_or_redirect(procedure_id: str):
    """The session's draft for this procedure, or a redirect response to where to go instead."""
    _procedure_or_404(procedure_id)
    submission = _draft_for(procedure_id)
    if submission is None:
        return None, redirect(url_for(".start", procedure_id=procedure_id))
    if not service.is_draft(submission):
        return None, redirect(url_for(".done", procedure_id=procedure_id))
    return submission, None


@bp.route("/procedures/<procedure_id>/apply/<step_id>", methods=["GET", "POST"])
def step(procedure_id: str, step_id: str):
    submission, elsewhere = _draft_or_redirect(procedure_id)
    if elsewhere:
        return elsewhere
    procedure = service.procedure_of(submission)
    today = clock.today_local()
    current = procedure.step(step_id)
    if current is None:
        abort(404)
    applicable = logic.applicable_steps(procedure, submission.answers, today)
    first_incomplete = service.first_incomplete_step(submission, today)
    ids = [s.id for s in applicable]
    # Skipping ahead by URL (or opening a step that no longer applies) leads back to the first
    # step that still needs an answer.
    if current.id not in ids or (
        first_incomplete is not None and ids.index(current.id) > ids.index(first_incomplete.id)
    ):
        target = first_incomplete.id if first_incomplete else None
        if target is None:
            return redirect(url_for(".check", procedure_id=procedure_id))
        return redirect(url_for(".step", procedure_id=procedure_id, step_id=target))

    returning = request.args.get("return") == "check"
    values = dict(submission.answers)
    errors: dict[str, str] = {}
    if request.method == "POST":
        outcome = service.read_step(procedure, current, submission.answers, request.form, today)
        if outcome.ok:
            try:
                service.save_step(db.session, submission, current, outcome, today, clock.now())
            except service.DraftNotEditable:
                db.session.rollback()
                return redirect(url_for(".done", procedure_id=procedure_id))
            db.session.commit()
            return redirect(_after_step(procedure_id, submission, current.id, returning, today))
        values.update(outcome.raw)
        errors = outcome.errors

    position, total = service.step_position(procedure, values, current, today)
    back = service.previous_step(procedure, submission.answers, current, today)
    same_step = {f.name for f in current.fields}
    return render_template(
        "submissions/step.html",
        procedure=procedure,
        step=current,
        fields=[
            f
            for f in current.fields
            # Fields whose condition depends on this same page are always shown (no JavaScript
            # needed); the others only when they apply.
            if f.when is None
            or logic.rule(f.when).names & same_step
            or logic.field_applies(f, submission.answers, today)
        ],
        values=values,
        errors=errors,
        position=position,
        total=total,
        back_url=(
            url_for(".check", procedure_id=procedure_id)
            if returning
            else url_for(".step", procedure_id=procedure_id, step_id=back.id)
            if back
            else url_for(".start", procedure_id=procedure_id)
        ),
        returning=returning,
    )


def _after_step(
    procedure_id: str, submission: Submission, step_id: str, returning: bool, today
) -> str:
    procedure = service.procedure_of(submission)
    first_incomplete = service.first_incomplete_step(submission, today)
    if returning or first_incomplete is None:
        if first_incomplete is None:
            return url_for(".check", procedure_id=procedure_id)
        return url_for(".step", procedure_id=procedure_id, step_id=first_incomplete.id)
    steps = logic.applicable_steps(procedure, submission.answers, today)
    ids = [s.id for s in steps]
    following = steps[ids.index(step_id) + 1] if step_id in ids[:-1] else first_incomplete
    return url_for(".step", procedure_id=procedure_id, step_id=following.id)


@bp.route("/procedures/<procedure_id>/check", methods=["GET", "POST"])
def check(procedure_id: str):
    submission, elsewhere = _draft_or_redirect(procedure_id)
    if elsewhere:
        return elsewhere
    procedure = service.procedure_of(submission)
    today = clock.today_local()
    first_incomplete = service.first_incomplete_step(submission, today)
    if first_incomplete is not None:
        return redirect(url_for(".step", procedure_id=procedure_id, step_id=first_incomplete.id))

    errors: dict[str, str] = {}
    if request.method == "POST":
        declared = request.form.get("declaration") == "yes"
        try:
            service.submit(
                db.session,
                submission,
                declared,
                current_app.config["STATUS_LINK_KEY"],
                today,
                clock.now(),
            )
        except service.DeclarationMissing:
            errors["declaration"] = "申請内容の確認にチェックを入れてください"
        else:
            db.session.commit()
            return redirect(url_for(".done", procedure_id=procedure_id))

    return render_template(
        "submissions/check.html",
        procedure=procedure,
        summary=_summary(submission),
        fee=logic.fee_amount(procedure, submission.answers, today),
        errors=errors,
    )


@bp.get("/procedures/<procedure_id>/done")
def done(procedure_id: str):
    _procedure_or_404(procedure_id)
    submission = _draft_for(procedure_id)
    if submission is None:
        return redirect(url_for(".start", procedure_id=procedure_id))
    if service.is_draft(submission):
        return redirect(url_for(".check", procedure_id=procedure_id))
    token = _status_token(submission)
    status_url = url_for(".status", token=token, _external=True)
    return render_template(
        "submissions/done.html",
        procedure=service.procedure_of(submission),
        submission=submission,
        status_url=status_url,
        receipt_url=url_for(".receipt", token=token),
        qr=_status_qr(status_url, submission),
        department=_catalog().department(submission.snapshot["procedure"]["department"]),
    )


def _status_qr(status_url: str, submission: Submission):
    return qr_svg(status_url, f"申請状況のページを開くQRコード（受付番号 {submission.reference}）")


def _submission_by_status_token(token: str) -> Submission:
    submission = service.find_by_status_token(db.session, token)
    if submission is None:
        abort(404)
    return submission


@bp.get("/status/<token>")
def status(token: str):
    submission = _submission_by_status_token(token)
    workflow = service.workflow_of(submission)
    response = current_app.make_response(
        render_template(
            "submissions/status.html",
            procedure=service.procedure_of(submission),
            submission=submission,
            state=workflow.states[submission.status],
            states=workflow.states,
            summary=_summary(submission),
            receipt_url=url_for(".receipt", token=token),
            department=_catalog().department(submission.snapshot["procedure"]["department"]),
        )
    )
    # The secret link must not leak as a referrer, even to our own pages.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/status/<token>/receipt")
def receipt(token: str):
    submission = _submission_by_status_token(token)
    status_url = url_for(".status", token=token, _external=True)
    response = current_app.make_response(
        render_template(
            "submissions/receipt.html",
            procedure=service.procedure_of(submission),
            submission=submission,
            summary=_summary(submission),
            qr=_status_qr(status_url, submission),
            department=_catalog().department(submission.snapshot["procedure"]["department"]),
        )
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
