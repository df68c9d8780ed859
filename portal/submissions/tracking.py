"""The pages after submitting: the status page of the secret link (with what channels show
there), correcting (補正), withdrawing (取下げ), the receipt, and the signed-in resident's
"my applications"."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from portal import audit, clock
from portal.catalog.fields import html_id
from portal.db import db
from portal.i18n import LANGUAGES, translate
from portal.localization import catalog_item_text, localized, localized_states
from portal.submissions import bp, contacts, corrections, extensions, service, signing, steps
from portal.submissions.access import (
    catalog,
    department_of,
    form_context,
    limit,
    no_referrer,
    remember_draft,
    status_token,
    submission_by_status_token,
    upload_of,
    upload_response,
    user,
)
from portal.submissions.models import Submission
from portal.submissions.summary import answer_groups
from portal.submissions.views import status_qr
from portal.urls import public_url_for


def _summary(submission: Submission) -> list:
    return answer_groups(submission, form_context(submission), clock.today_local(), localize=True)


@bp.get("/status/<token>")
def status(token: str) -> ResponseReturnValue:
    submission = submission_by_status_token(token)
    workflow = service.workflow_of(submission)
    procedure = service.procedure_of(submission)
    states = localized_states(procedure.workflow, workflow.states)
    registry = extensions.registry()
    items = registry.status_page_items(submission, token)
    signed = corrections.signed_version(db.session, submission)
    return no_referrer(
        current_app.make_response(
            render_template(
                "submissions/status.html",
                procedure=localized(procedure),
                submission=submission,
                state=states[submission.status],
                states=states,
                summary=_summary(submission),
                token=token,
                verification=signing.verification(submission, signed),
                corrected=signed is not None,
                looked_at=_looked_at(submission),
                can_withdraw=service.can_withdraw(submission)
                and submission.owner_sub == (user() or {}).get("sub", submission.owner_sub),
                department=department_of(submission),
                correction=corrections.open_request(db.session, submission),
                can_correct=_may_change(submission),
                helped_by=registry.helped_by(db.session, submission),
                item_facts=[fact for item in items for fact in item.facts],
                item_bodies=[item.body for item in items if item.body is not None],
                # What staff wrote for the resident (not internal notes such as a send-back).
                decision_notes=[
                    e
                    for e in submission.events
                    if e.comment
                    and e.transition in {t.name for t in workflow.transitions if t.notify}
                    and not workflow.states[e.to_status].resident_turn
                ],
            )
        )
    )


def _may_change(submission: Submission) -> bool:
    """Withdrawing and correcting are for who made the application (not the person it is about
    when someone acted for them); an application made without signing in, for its link's holder."""
    return submission.owner_sub in (None, (user() or {}).get("sub"))


@bp.route("/status/<token>/correct", methods=["GET", "POST"])
@limit("RATELIMIT_SAVE")
def correct(token: str) -> ResponseReturnValue:
    """補正: change what the department asked for (only those fields) and resubmit."""
    submission = submission_by_status_token(token)
    if not _may_change(submission):
        abort(404)
    request_ = corrections.open_request(db.session, submission)
    if request_ is None:
        flash(translate("いまは直していただく項目はありません。"))
        return redirect(url_for(".status", token=token))
    today = clock.today_local()
    current = corrections.correction_step(submission, request_)
    ctx = form_context(submission, with_form=request.method == "POST")
    raw = steps.raw_values(submission, current, ctx)
    outcome = service.StepOutcome()
    note = request.form.get("note", "")
    if request.method == "POST":
        action = request.form.get("_action")
        if action:
            if action.startswith("lang:") and action[5:] in LANGUAGES:
                session["lang"] = action[5:]  # the language menu, or the translation notice
            procedure = service.procedure_of(submission)
            outcome = service.apply_action(procedure, current, ctx, action, today)
        else:
            outcome = service.read_fields(current, ctx, today)
            if outcome.ok:
                if corrections.resubmit(
                    db.session, submission, request_, outcome.values, note, today, clock.now()
                ):
                    db.session.commit()
                    flash(translate("直した内容を再提出しました。担当課が確認します。"))
                else:
                    db.session.rollback()
                    flash(translate("この申請の状況が変わったため、再提出できませんでした。"))
                return redirect(url_for(".status", token=token), 303)
        db.session.commit()  # files uploaded with this POST are kept for the next try
        raw.update(outcome.raw)
    page = steps.page_values(submission, current, ctx, raw, outcome, today)
    page["locked"] = set()  # what the department asks for is changed here, prefilled or not
    return no_referrer(
        current_app.make_response(
            render_template(
                "submissions/correct.html",
                **page,
                submission=submission,
                correction=request_,
                token=token,
                note=note,
                back_url=url_for(".status", token=token),
                file_url=lambda upload: url_for(".status_file", token=token, upload_token=upload),
            )
        )
    )


def _looked_at(submission: Submission) -> list[dict]:
    """Which departments looked at this application and when (from the audit log)."""
    names = {d.id: catalog_item_text(d, "name") for d in catalog().departments}
    return [
        {"department": names.get(department, department), "at": at}
        for department, at in audit.views_of(db.session, f"submission:{submission.public_id}")
    ]


@bp.get("/status/<token>/files/<upload_token>")
def status_file(token: str, upload_token: str) -> ResponseReturnValue:
    submission = submission_by_status_token(token)
    return no_referrer(upload_response(upload_of(submission, upload_token)))


@bp.route("/status/<token>/withdraw", methods=["GET", "POST"])
@limit("RATELIMIT_SUBMIT")
def withdraw(token: str) -> ResponseReturnValue:
    """取下げ: the resident withdraws the application while no decision has been made."""
    submission = submission_by_status_token(token)
    if not _may_change(submission):
        abort(404)  # the person concerned sees an application made for them; its maker withdraws
    if not service.can_withdraw(submission):
        flash(translate("この申請は取り下げられません。担当課にお問い合わせください。"))
        return redirect(url_for(".status", token=token))
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            errors["confirm"] = translate("取り下げる場合は、確認のチェックを入れてください")
        else:
            service.withdraw(db.session, submission, clock.now())
            db.session.commit()
            flash(translate("申請を取り下げました。"))
            return redirect(url_for(".status", token=token))
    return no_referrer(
        current_app.make_response(
            render_template(
                "submissions/withdraw.html",
                procedure=localized(service.procedure_of(submission)),
                submission=submission,
                token=token,
                errors=errors,
                error_links={path: html_id(path) for path in errors},
            )
        )
    )


@bp.get("/status/<token>/receipt")
def receipt(token: str) -> ResponseReturnValue:
    submission = submission_by_status_token(token)
    status_url = public_url_for(".status", token=token)
    return no_referrer(
        current_app.make_response(
            render_template(
                "submissions/receipt.html",
                procedure=localized(service.procedure_of(submission)),
                submission=submission,
                summary=_summary(submission),
                qr=status_qr(status_url, submission),
                department=department_of(submission),
            )
        )
    )


@bp.get("/my/applications")
def my_applications() -> ResponseReturnValue:
    """申請一覧: the signed-in resident's drafts and submissions, and those made for them, and
    what channels show above them (unpaid fees, bundles)."""
    resident = user()
    if resident is None:
        return redirect(url_for("identity.login", next=request.path))
    registry = extensions.registry()
    rows = []
    listed = []
    for submission, role in service.applications_of(
        db.session, resident["sub"], resident.get("person_id")
    ):
        listed.append(submission)
        if service.is_draft(submission) and registry.draft_home(submission) is not None:
            continue  # a channel keeps this draft (a bundle's member): shown by its item
        workflow = service.workflow_of(submission)
        procedure = service.procedure_of(submission)
        rows.append(
            {
                "submission": submission,
                "title": localized(procedure).title,
                "state": localized_states(procedure.workflow, workflow.states)[submission.status],
                "draft": service.is_draft(submission),
                "role": _role_text(submission, role),
                # Who entered or helped with it (a counter clerk, an assisted session's helper).
                "helped_by": registry.helped_by(db.session, submission),
            }
        )
    return render_template(
        "submissions/my_applications.html",
        rows=rows,
        items=registry.application_page_items(resident["sub"], listed),
        contact=contacts.remembered(db.session, resident["sub"]),
    )


@bp.post("/my/contact/forget")
def forget_contact() -> ResponseReturnValue:
    """Delete the phone and e-mail the resident asked to remember (issue 22)."""
    resident = user()
    if resident is None:
        return redirect(url_for("identity.login", next=url_for(".my_applications")))
    if contacts.forget(db.session, resident["sub"]):
        flash(translate("記憶していた電話番号とメールアドレスを削除しました。"))
    db.session.commit()
    return redirect(url_for(".my_applications"))


def _role_text(submission: Submission, role: str) -> str:
    acting = submission.acting_for if service.acting_for_someone(submission) else None
    if role == service.ROLE_SUBJECT:
        if not acting:
            return translate("あなたについての申請")
        relationship = translate(service.RELATIONSHIPS[acting["relationship"]])
        return translate(
            "あなたについての申請（代理人：%(name)s さん・%(relationship)s）",
            name=acting["applicant_name"],
            relationship=relationship,
        )
    if acting:
        return translate("%(name)s さんの代理で申請", name=acting["subject_name"])
    return translate("ご本人の申請")


@bp.get("/my/applications/<public_id>")
def my_application(public_id: str) -> ResponseReturnValue:
    resident = user()
    if resident is None:
        return redirect(url_for("identity.login", next=request.path))
    submission = service.visible(db.session, resident["sub"], resident.get("person_id"), public_id)
    if submission is None or service.is_draft(submission):
        abort(404)
    return redirect(url_for(".status", token=status_token(submission)))


@bp.post("/my/applications/<public_id>/continue")
def continue_draft(public_id: str) -> ResponseReturnValue:
    resident = user()
    submission = service.owned(db.session, resident["sub"], public_id) if resident else None
    if submission is None or not service.is_draft(submission):
        abort(404)
    home = extensions.registry().draft_home(submission)
    if home is not None:  # kept by a channel (filed with its bundle): continue there
        return redirect(home, 303)
    token = service.take_over_draft(db.session, submission, clock.now())
    db.session.commit()
    remember_draft(submission.procedure_id, token)
    first = service.first_incomplete_step(submission, clock.today_local())
    if first is None:
        return redirect(url_for(".check", procedure_id=submission.procedure_id))
    return redirect(url_for(".step", procedure_id=submission.procedure_id, step_id=first.id))
