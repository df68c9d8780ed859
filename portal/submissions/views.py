"""Views of the submission engine. Thin: find the draft, call one service, commit, redirect.

The resident's browser holds each draft's bearer token in the signed session cookie
(`session["drafts"][procedure_id]`); no personal data or token ever goes into a URL, except the
status page's secret link, which access logs redact.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal import audit, clock, deadlines
from portal.catalog import logic
from portal.catalog.fields import html_id
from portal.catalog.schema import CatalogData, Field, Option, Procedure, Step
from portal.db import db
from portal.extensions import limiter
from portal.i18n import LANGUAGES
from portal.qr import qr_svg
from portal.records.base import RecordNotFound
from portal.submissions import bp, corrections, prefill, service, signing
from portal.submissions.models import Submission
from portal.uploads.models import Upload


def _catalog() -> CatalogData:
    return current_app.extensions["catalog"]


def _services() -> service.Services:
    return current_app.extensions["submission_services"]


def _context(submission: Submission, with_form: bool = False) -> service.FormContext:
    ctx = service.FormContext(db.session, submission, _services(), clock.now())
    if with_form:
        ctx.form, ctx.files = request.form, request.files
    return ctx


def _limit(setting: str):
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"])


def _procedure_or_404(procedure_id: str) -> Procedure:
    procedure = _catalog().procedure(procedure_id)
    if procedure is None:
        abort(404)
    return procedure


def _user() -> dict | None:
    return session.get("user")


def _draft_for(procedure_id: str) -> Submission | None:
    """This browser's draft of the procedure; for a signed-in resident whose session has ended
    and begun again, their latest draft of it (nothing typed and saved is lost to a timeout)."""
    token = session.get("drafts", {}).get(procedure_id)
    submission = service.find_by_draft_token(db.session, token)
    user = _user()
    anonymous = submission is not None and submission.owner_sub is None
    if anonymous and user and service.is_draft(submission):
        # Started before logging in, in this browser: it becomes the resident's.
        service.adopt_draft(db.session, submission, user["sub"], user.get("person_id"))
        db.session.commit()
    if submission is None and user:
        submission = service.owned_draft(db.session, user["sub"], procedure_id)
        if submission is not None:
            token = service.take_over_draft(db.session, submission, clock.now())
            _remember_draft(procedure_id, token)
            db.session.commit()
    return submission


def _remember_draft(procedure_id: str, token: str) -> None:
    drafts = dict(session.get("drafts", {}))
    drafts[procedure_id] = token
    session["drafts"] = drafts


def _status_token(submission: Submission) -> str:
    return service.status_token(current_app.config["STATUS_LINK_KEY"], submission)


def _summary(submission: Submission) -> list[dict]:
    """Answers grouped by step, as label/value rows, for check-answers and status pages."""
    procedure = service.procedure_of(submission)
    ctx = _context(submission)
    today = clock.today_local()
    groups = []
    if service.acting_for_someone(submission):
        groups.append(
            {
                "step": {"id": "acting-for", "title": "代理人"},
                "rows": _acting_rows(submission, ctx),
                "change_url": url_for("submissions.who", procedure_id=submission.procedure_id),
            }
        )
    for step in logic.applicable_steps(procedure, submission.answers, today):
        rows = []
        for field in logic.applicable_fields(step, submission.answers, today):
            value = submission.answers.get(field.name)
            text = field.field_type.display(field, value, ctx) if value is not None else "未入力"
            rows.append({"label": field.label, "value": text})
        groups.append({"step": step, "rows": rows})
    return groups


def _acting_rows(submission: Submission, ctx) -> list[dict]:
    acting = submission.acting_for
    if acting["delegation"] == "household_record":
        delegation = "住民記録で同じ世帯であることを確認"
    else:
        delegation = WHO_LETTER.field_type.display(WHO_LETTER, acting.get("letter"), ctx)
        delegation = f"委任状：{delegation}"
    return [
        {"label": "代理で申請した方", "value": acting["applicant_name"]},
        {"label": "申請の対象となる方", "value": acting["subject_name"]},
        {"label": "関係", "value": service.RELATIONSHIPS[acting["relationship"]]},
        {"label": "代理の確認", "value": delegation},
    ]


def _status_qr(url: str, submission: Submission):
    return qr_svg(url, f"申請状況のページを開くQRコード（受付番号 {submission.reference}）")


def _department(submission: Submission):
    return _catalog().department(submission.snapshot["procedure"]["department"])


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
    user = _user()
    if procedure.identity_level != "none" and user is None:
        return redirect(
            url_for("identity.login", next=url_for(".start", procedure_id=procedure_id))
        )
    submission, token = service.start_draft(
        db.session,
        _catalog(),
        procedure,
        clock.now(),
        owner_sub=user["sub"] if user else None,
        applicant_person_id=user.get("person_id") if user else None,
    )
    _remember_draft(procedure_id, token)
    if user and procedure.on_behalf:
        db.session.commit()
        return redirect(url_for(".who", procedure_id=procedure_id))
    if user:
        _prefill(submission, prefill.Subject(user.get("person_id"), readable=True))
    db.session.commit()
    return redirect(url_for(".step", procedure_id=procedure_id, step_id=procedure.steps[0].id))


def _prefill(submission: Submission, subject: prefill.Subject) -> None:
    """Fill in what the card and the city's records already say (signed-in residents only)."""
    user = _user()
    answers, sources = prefill.prefill_answers(
        service.procedure_of(submission),
        prefill.Applicant(card=user.get("card", {}), person_id=user.get("person_id")),
        subject,
        current_app.extensions.get("resident_records"),
        reader=f"submission:{submission.public_id}",
        today=clock.today_local(),
    )
    service.apply_prefill(db.session, submission, answers, sources)


# The "who is this application for" page (代理): its fields, read by the usual field types.
WHO_SUBJECT = Field(name="subject", type="person", label="申請の対象となる方")
WHO_LETTER = Field(
    name="letter",
    type="file",
    label="委任状",
    hint="ご本人が署名した委任状を、写真またはPDFで添付してください（3つまで）。",
    max_files=3,
)


def _who_choice_field(procedure: Procedure, user: dict, members: list) -> Field:
    options = [Option(value="self", label=f"ご本人（{user['name']} さん）の申請")]
    options += [
        Option(value=f"member-{m.person_id}", label=f"{m.name} さん（同じ世帯の方）")
        for m in members
    ]
    if _letter_relationships(procedure):
        options.append(
            Option(
                value="other",
                label="ほかの方の代わりに申請する",
                hint="別の世帯のご家族、ケアマネジャーなど。委任状が必要です。",
            )
        )
    return Field(name="who", type="radio", label="どなたについての申請ですか", options=options)


def _letter_relationships(procedure: Procedure) -> list[str]:
    return [r for r in procedure.on_behalf.relationships if r != "household"]


def _relationship_field(procedure: Procedure) -> Field:
    return Field(
        name="relationship",
        type="select",
        label="その方とのご関係",
        options=[
            Option(value=r, label=service.RELATIONSHIPS[r])
            for r in _letter_relationships(procedure)
        ],
    )


def _household_members(submission: Submission, procedure: Procedure, user: dict) -> list:
    """The applicant's household in the records, but themself (they may act for these)."""
    records = current_app.extensions.get("resident_records")
    person_id = user.get("person_id")
    if "household" not in procedure.on_behalf.relationships or not records or not person_id:
        return []
    try:
        household = records.household(
            person_id,
            reader=f"submission:{submission.public_id}",
            purpose=f"{procedure.title}：代理で申請できる同じ世帯の方の確認",
        )
    except RecordNotFound:
        return []
    return [m for m in household.members if m.person_id != person_id]


@bp.route("/procedures/<procedure_id>/who", methods=["GET", "POST"])
@_limit("RATELIMIT_SAVE")
def who(procedure_id: str):
    """Whom the application is about: the resident, a member of their household (the records
    show the relationship), or someone else with a letter of delegation (委任状)."""
    submission, elsewhere = _draft_or_redirect(procedure_id)
    if elsewhere:
        return elsewhere
    procedure = service.procedure_of(submission)
    user = _user()
    if not procedure.on_behalf or user is None or submission.owner_sub != user["sub"]:
        abort(404)
    members = _household_members(submission, procedure, user)
    choice_field = _who_choice_field(procedure, user, members)
    other_fields = (
        [WHO_SUBJECT, _relationship_field(procedure), WHO_LETTER]
        if _letter_relationships(procedure)
        else []
    )
    ctx = _context(submission, with_form=request.method == "POST")
    acting = submission.acting_for or {}
    raw = {"who": _who_raw(acting, submission)}
    errors: dict[str, str] = {}
    if request.method == "POST":
        parsed = {f.name: f.field_type.read(f, ctx, f.name) for f in [choice_field, *other_fields]}
        raw = {name: p.raw for name, p in parsed.items()}
        choice = parsed["who"].value
        errors.update(parsed["who"].errors)
        if choice == "self":
            service.set_subject(db.session, submission, relationship="self", subject_person_id=None)
            _prefill(submission, prefill.Subject(user.get("person_id"), readable=True))
        elif choice and choice.startswith("member-"):
            member = next(m for m in members if f"member-{m.person_id}" == choice)
            service.set_subject(
                db.session,
                submission,
                relationship="household",
                subject_person_id=member.person_id,
                applicant_name=user["name"],
                subject_name=member.name,
                subject_birth_date=member.birth_date.isoformat(),
                delegation="household_record",
            )
            _prefill(submission, prefill.Subject(member.person_id, readable=True))
        elif choice == "other":
            for f in other_fields:
                errors.update(parsed[f.name].errors)
            if not errors:
                person = parsed["subject"].value
                service.set_subject(
                    db.session,
                    submission,
                    relationship=parsed["relationship"].value,
                    subject_person_id=_find_subject(submission, procedure, person),
                    applicant_name=user["name"],
                    subject_name=person["name"],
                    subject_birth_date=person["birth_date"],
                    delegation="letter",
                    letter=parsed["letter"].value,
                )
                _prefill(
                    submission,
                    prefill.Subject(submission.subject_person_id, readable=False, typed=person),
                )
        if not errors:
            db.session.commit()
            return redirect(
                url_for(".step", procedure_id=procedure_id, step_id=procedure.steps[0].id)
            )
        db.session.commit()  # a letter uploaded with this POST is kept for the next try
    else:
        raw.update({f.name: f.field_type.raw_from_value(f, None, ctx) for f in other_fields})
        if acting.get("delegation") == "letter":
            raw.update(
                subject={"name": acting["subject_name"]},
                relationship=acting["relationship"],
                letter=WHO_LETTER.field_type.raw_from_value(WHO_LETTER, acting["letter"], ctx),
            )
    return render_template(
        "submissions/who.html",
        procedure=procedure,
        choice_field=choice_field,
        other_fields=other_fields,
        raw=raw,
        errors=errors,
        error_links={path: html_id(path) for path in errors},
        file_url=lambda token: url_for(
            ".draft_file", procedure_id=procedure_id, upload_token=token
        ),
        back_url=url_for(".start", procedure_id=procedure_id),
    )


def _who_raw(acting: dict, submission: Submission) -> str:
    if not acting:
        return ""
    if acting["relationship"] == "self":
        return "self"
    if acting["delegation"] == "household_record":
        return f"member-{submission.subject_person_id}"
    return "other"


def _find_subject(submission: Submission, procedure: Procedure, person: dict) -> str | None:
    """The record of the person a proxy named, if exactly one resident matches. Nothing of
    the record is shown to the proxy: it only lets that person see the application later."""
    records = current_app.extensions.get("resident_records")
    if records is None:
        return None
    try:
        return records.find_person(
            person["name"],
            dt.date.fromisoformat(person["birth_date"]),
            reader=f"submission:{submission.public_id}",
            purpose=f"{procedure.title}：代理申請の対象となる方の特定",
        )
    except RecordNotFound:
        return None


def _draft_or_redirect(procedure_id: str):
    """The session's draft for this procedure, or a redirect response to where to go instead.

    A draft started before the catalog changed this procedure moves to the new version here, and
    the resident is taken through the steps that changed."""
    _procedure_or_404(procedure_id)
    submission = _draft_for(procedure_id)
    if submission is None:
        flash(
            "入力中の申請が見つかりませんでした。最初から入力するか、再開コードをお使いください。"
        )
        return None, redirect(url_for(".start", procedure_id=procedure_id))
    if not service.is_draft(submission):
        return None, redirect(url_for(".done", procedure_id=procedure_id))
    today = clock.today_local()
    changed = service.refresh_snapshot(db.session, _catalog(), submission, today)
    if changed:
        db.session.commit()
        titles = "、".join(f"「{step.title}」" for step in changed)
        flash(f"入力の途中で、この手続の内容が変わりました。{titles}をもう一度確認してください。")
        first = service.first_incomplete_step(submission, today)
        if first is None:
            return None, redirect(url_for(".check", procedure_id=procedure_id))
        return None, redirect(url_for(".step", procedure_id=procedure_id, step_id=first.id))
    return submission, None


@bp.route("/procedures/<procedure_id>/apply/<step_id>", methods=["GET", "POST"])
@_limit("RATELIMIT_SAVE")
def step(procedure_id: str, step_id: str):
    submission, elsewhere = _draft_or_redirect(procedure_id)
    if elsewhere:
        return elsewhere
    procedure = service.procedure_of(submission)
    today = clock.today_local()
    current = procedure.step(step_id)
    if current is None:
        abort(404)
    if _needs_who(submission, procedure):
        return redirect(url_for(".who", procedure_id=procedure_id))
    applicable = logic.applicable_steps(procedure, submission.answers, today)
    first_incomplete = service.first_incomplete_step(submission, today)
    ids = [s.id for s in applicable]
    # Skipping ahead by URL (or opening a step that no longer applies) leads back to the first
    # step that still needs an answer.
    if current.id not in ids or (
        first_incomplete is not None and ids.index(current.id) > ids.index(first_incomplete.id)
    ):
        if first_incomplete is None:
            return redirect(url_for(".check", procedure_id=procedure_id))
        return redirect(url_for(".step", procedure_id=procedure_id, step_id=first_incomplete.id))

    returning = request.args.get("return") == "check"
    unsent = _unsent_step(procedure_id, current.id) if request.method == "GET" else None
    ctx = _context(submission, with_form=request.method == "POST")
    raw = {
        f.name: f.field_type.raw_from_value(f, submission.answers.get(f.name), ctx)
        for f in current.fields
    }
    outcome = service.StepOutcome()
    if request.method == "POST":
        action = request.form.get("_action")
        if action and action.startswith("lang:"):
            # The language menu of a form page: switch, and show the page again as typed.
            if action[5:] in LANGUAGES:
                session["lang"] = action[5:]
            outcome = service.apply_action(procedure, current, ctx, action, today)
        elif action:
            outcome = service.apply_action(procedure, current, ctx, action, today)
        else:
            outcome = service.read_step(procedure, current, ctx, today)
            if outcome.ok:
                try:
                    service.save_step(db.session, submission, current, outcome, today, clock.now())
                except service.DraftNotEditable:
                    db.session.rollback()
                    return redirect(url_for(".done", procedure_id=procedure_id))
                db.session.commit()
                return redirect(_after_step(procedure_id, submission, current.id, returning, today))
        db.session.commit()  # files uploaded with this POST are kept for the next try
        raw.update(outcome.raw)
    elif unsent is not None:
        # What was typed when the login ran out, shown again as typed (not saved yet).
        ctx.form = MultiDict(unsent)
        raw.update(service.read_step(procedure, current, ctx, today).raw)
        outcome.notice = (
            "ログインの有効期限が切れる前に入力していた内容を戻しました。"
            "確認して「次へ進む」を押してください。"
        )

    position, total = service.step_position(procedure, submission.answers, current, today)
    back = service.previous_step(procedure, submission.answers, current, today)
    return render_template(
        "submissions/step.html",
        **step_page(submission, current, ctx, raw, outcome, today),
        file_url=lambda token: url_for(
            ".draft_file", procedure_id=procedure_id, upload_token=token
        ),
        position=position,
        total=total,
        back_url=(
            url_for(".check", procedure_id=procedure_id)
            if returning
            else url_for(".step", procedure_id=procedure_id, step_id=back.id)
            if back
            else url_for(".who", procedure_id=procedure_id)
            if procedure.on_behalf and submission.acting_for
            else url_for(".start", procedure_id=procedure_id)
        ),
        returning=returning,
    )


def step_page(
    submission: Submission,
    current: Step,
    ctx: service.FormContext,
    raw: dict,
    outcome: service.StepOutcome,
    today: dt.date,
) -> dict:
    """What a step page shows of its fields (also the member pages of a bundle, whose `current`
    holds only the fields still to ask)."""
    procedure = service.procedure_of(submission)
    same_step = {f.name for f in current.fields}
    locked = service.locked_fields(submission)
    return dict(
        procedure=procedure,
        step=current,
        department=_department(submission),
        locked=locked,
        prefill_notes={
            name: PREFILL_NOTES[source]
            for name, source in submission.prefilled.items()
            if name in same_step
        },
        shown={
            name: procedure.field(name).field_type.display(
                procedure.field(name), submission.answers.get(name), ctx
            )
            for name in locked & same_step
        },
        fields=[
            _with_prefill_hint(f, submission)
            for f in current.fields
            # Fields whose condition depends on what may change on this same page are always
            # shown (no JavaScript needed); the others only when they apply.
            if f.when is None
            or logic.rule(f.when).names & (same_step - locked)
            or logic.field_applies(f, submission.answers, today)
        ],
        raw=raw,
        errors=outcome.errors,
        error_links={path: html_id(path) for path in outcome.errors},
        notice=outcome.notice,
        focus=outcome.focus,
        masks={
            f.name: f.field_type.display(f, submission.answers.get(f.name), ctx)
            for f in current.fields
            if f.type == "mynumber" and submission.answers.get(f.name)
        },
        multipart=any(f.type == "file" for f in current.fields),
    )


PREFILL_NOTES = {
    prefill.CARD: "マイナンバーカードの情報から入力しました。",
    prefill.RECORDS: "市の住民記録から入力しました。",
}


def _with_prefill_hint(f: Field, submission: Submission) -> Field:
    """An editable prefilled field says where its value came from, in its hint (read out with
    the input)."""
    source = submission.prefilled.get(f.name)
    if source is None:
        return f
    note = f"{PREFILL_NOTES[source]}違っている場合は直してください。"
    return f.model_copy(update={"hint": f"{note}{f.hint or ''}"})


def _needs_who(submission: Submission, procedure: Procedure) -> bool:
    """A signed-in resident must first say whom an application that allows 代理 is for."""
    user = _user()
    return bool(
        procedure.on_behalf
        and user
        and submission.owner_sub == user["sub"]
        and submission.acting_for is None
    )


def keep_unsent_step():
    """A step posted after the login ran out (the CSRF check failed with the session): keep the
    typed values in the new session for the same person, and ask them to log in again."""
    procedure_id = request.view_args["procedure_id"]
    step_url = url_for(".step", procedure_id=procedure_id, step_id=request.view_args["step_id"])
    form = {k: v for k, v in request.form.lists() if k not in ("csrf_token", "_action")}
    session["unsent_step"] = {
        "sub": session.expired_sub,
        "procedure_id": procedure_id,
        "step_id": request.view_args["step_id"],
        "form": form,
    }
    return (
        render_template(
            "submissions/session_expired.html", login_url=url_for("identity.login", next=step_url)
        ),
        401,
    )


def _unsent_step(procedure_id: str, step_id: str) -> dict | None:
    """The values kept by keep_unsent_step, once, for the same person and page."""
    kept = session.get("unsent_step")
    user = _user()
    if not kept or not user:
        return None
    if kept["procedure_id"] != procedure_id or kept["step_id"] != step_id:
        return None
    session.pop("unsent_step")
    return kept["form"] if kept["sub"] == user["sub"] else None


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
@_limit("RATELIMIT_SUBMIT")
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
    signing_needed = procedure.identity_level == "signature"
    if request.method == "POST":
        declared = request.form.get("declaration") == "yes"
        if signing_needed:
            user = _user()
            if user is None or submission.owner_sub != user["sub"]:
                return redirect(url_for("identity.login", next=request.path))
            if procedure.declaration and not declared:
                errors["declaration"] = "申請内容の確認にチェックを入れてください"
            else:
                db.session.commit()
                return signing.begin(submission, declared)
        else:
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
        deadline=_deadline_of(procedure, submission.answers),
        signing_needed=signing_needed,
        errors=errors,
        error_links={path: html_id(path) for path in errors},
    )


def _deadline_of(procedure: Procedure, answers: dict):
    """The last day to file, when the procedure's deadline counts from a date answered here."""
    counting = procedure.deadline.counting if procedure.deadline else None
    if counting is None or not counting.event_field or not answers.get(counting.event_field):
        return None
    return deadlines.deadline(dt.date.fromisoformat(answers[counting.event_field]), counting)


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
        status_token=token,
        suggestions=_suggestions(submission),
        receipt_url=url_for(".receipt", token=token),
        qr=_status_qr(status_url, submission),
        department=_department(submission),
    )


def _suggestions(submission: Submission) -> list:
    from portal.life_events.checklist import suggestions

    return suggestions(
        _catalog(), service.procedure_of(submission), submission.answers, clock.today_local()
    )


@bp.route("/procedures/<procedure_id>/save", methods=["GET", "POST"])
@_limit("RATELIMIT_RESUME")
def save_for_later(procedure_id: str):
    """あとで続ける: a resume code (and its QR code) to continue on another day or device."""
    submission, elsewhere = _draft_or_redirect(procedure_id)
    if elsewhere:
        return elsewhere
    procedure = service.procedure_of(submission)
    code = None
    qr = None
    if request.method == "POST":
        code = service.issue_resume_code(db.session, submission, clock.now())
        db.session.commit()
        qr = qr_svg(
            url_for(".resume", _external=True) + f"?code={code}",
            f"入力の続きを開くQRコード（再開コード {code}）",
        )
    return render_template(
        "submissions/save.html",
        procedure=procedure,
        submission=submission,
        code=code,
        qr=qr,
        days=service.RESUME_DAYS,
    )


@bp.route("/resume", methods=["GET", "POST"])
@_limit("RATELIMIT_RESUME")
def resume():
    """Enter a resume code (or arrive from its QR code) to continue a draft."""
    errors: dict[str, str] = {}
    code = request.values.get("code", "")
    if request.method == "POST":
        found = service.resume_draft(db.session, code, clock.now())
        if found is None:
            errors["code"] = (
                "再開コードが正しくないか、有効期限が切れています。コードを確かめてください"
            )
        else:
            submission, token = found
            db.session.commit()
            _remember_draft(submission.procedure_id, token)
            flash("保存した内容から入力を再開します。")
            first = service.first_incomplete_step(submission, clock.today_local())
            if first is None:
                return redirect(url_for(".check", procedure_id=submission.procedure_id))
            return redirect(
                url_for(".step", procedure_id=submission.procedure_id, step_id=first.id)
            )
    response = current_app.make_response(
        render_template(
            "submissions/resume.html",
            code=code,
            errors=errors,
            error_links={path: html_id(path) for path in errors},
        )
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _upload_of(submission: Submission, upload_token: str) -> Upload:
    """An attachment of this submission, or 404 (a token of another submission opens nothing)."""
    upload = db.session.scalar(
        select(Upload).where(Upload.token == upload_token, Upload.submission_id == submission.id)
    )
    if upload is None:
        abort(404)
    return upload


def _upload_response(upload: Upload):
    data = _services().files.read(upload.storage_name)
    response = send_file(
        io.BytesIO(data),
        mimetype=upload.content_type,
        as_attachment=True,
        download_name=upload.filename,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/procedures/<procedure_id>/files/<upload_token>")
def draft_file(procedure_id: str, upload_token: str):
    """A file attached to the resident's own draft (only through their session)."""
    submission = _draft_for(procedure_id)
    if submission is None:
        abort(404)
    return _upload_response(_upload_of(submission, upload_token))


def _submission_by_status_token(token: str) -> Submission:
    """The submission of a secret status link. One made while signed in opens only for its
    applicant and the person it concerns: anyone else signed in gets 404, and a visitor who is
    not signed in is asked to log in first."""
    submission = service.find_by_status_token(db.session, token)
    if submission is None:
        abort(404)
    if submission.owner_sub is not None:
        user = _user()
        if user is None:
            abort(redirect(url_for("identity.login", next=request.path)))
        if service.role_of(submission, user["sub"], user.get("person_id")) is None:
            abort(404)
    return submission


def _no_referrer(response):
    # The secret link must not leak as a referrer, even to our own pages.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/status/<token>")
def status(token: str):
    submission = _submission_by_status_token(token)
    workflow = service.workflow_of(submission)
    return _no_referrer(
        current_app.make_response(
            render_template(
                "submissions/status.html",
                procedure=service.procedure_of(submission),
                submission=submission,
                state=workflow.states[submission.status],
                states=workflow.states,
                summary=_summary(submission),
                token=token,
                verification=signing.verification(
                    submission, corrections.signed_version(db.session, submission)
                ),
                corrected=corrections.signed_version(db.session, submission) is not None,
                looked_at=_looked_at(submission),
                can_withdraw=service.can_withdraw(submission)
                and submission.owner_sub == (_user() or {}).get("sub", submission.owner_sub),
                department=_department(submission),
                correction=corrections.open_request(db.session, submission),
                can_correct=_may_change(submission),
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
    return submission.owner_sub in (None, (_user() or {}).get("sub"))


@bp.route("/status/<token>/correct", methods=["GET", "POST"])
@_limit("RATELIMIT_SAVE")
def correct(token: str):
    """補正: change what the department asked for (only those fields) and resubmit."""
    submission = _submission_by_status_token(token)
    if not _may_change(submission):
        abort(404)
    request_ = corrections.open_request(db.session, submission)
    if request_ is None:
        flash("いまは直していただく項目はありません。")
        return redirect(url_for(".status", token=token))
    today = clock.today_local()
    current = corrections.correction_step(submission, request_)
    ctx = _context(submission, with_form=request.method == "POST")
    raw = {
        f.name: f.field_type.raw_from_value(f, submission.answers.get(f.name), ctx)
        for f in current.fields
    }
    outcome = service.StepOutcome()
    note = request.form.get("note", "")
    if request.method == "POST":
        action = request.form.get("_action")
        if action:
            procedure = service.procedure_of(submission)
            outcome = service.apply_action(procedure, current, ctx, action, today)
        else:
            outcome = service.read_fields(current, ctx, today)
            if outcome.ok:
                if corrections.resubmit(
                    db.session, submission, request_, outcome.values, note, today, clock.now()
                ):
                    db.session.commit()
                    flash("直した内容を再提出しました。担当課が確認します。")
                else:
                    db.session.rollback()
                    flash("この申請の状況が変わったため、再提出できませんでした。")
                return redirect(url_for(".status", token=token), 303)
        db.session.commit()  # files uploaded with this POST are kept for the next try
        raw.update(outcome.raw)
    page = step_page(submission, current, ctx, raw, outcome, today)
    page["locked"] = set()  # what the department asks for is changed here, prefilled or not
    return _no_referrer(
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
    names = {d.id: d.name for d in _catalog().departments}
    return [
        {"department": names.get(department, department), "at": at}
        for department, at in audit.views_of(db.session, f"submission:{submission.public_id}")
    ]


@bp.get("/status/<token>/files/<upload_token>")
def status_file(token: str, upload_token: str):
    submission = _submission_by_status_token(token)
    return _no_referrer(_upload_response(_upload_of(submission, upload_token)))


@bp.route("/status/<token>/withdraw", methods=["GET", "POST"])
@_limit("RATELIMIT_SUBMIT")
def withdraw(token: str):
    """取下げ: the resident withdraws the application while no decision has been made."""
    submission = _submission_by_status_token(token)
    if not _may_change(submission):
        abort(404)  # the person concerned sees an application made for them; its maker withdraws
    if not service.can_withdraw(submission):
        flash("この申請は取り下げられません。担当課にお問い合わせください。")
        return redirect(url_for(".status", token=token))
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            errors["confirm"] = "取り下げる場合は、確認のチェックを入れてください"
        else:
            service.withdraw(db.session, submission, clock.now())
            db.session.commit()
            flash("申請を取り下げました。")
            return redirect(url_for(".status", token=token))
    return _no_referrer(
        current_app.make_response(
            render_template(
                "submissions/withdraw.html",
                procedure=service.procedure_of(submission),
                submission=submission,
                token=token,
                errors=errors,
                error_links={path: html_id(path) for path in errors},
            )
        )
    )


@bp.get("/status/<token>/receipt")
def receipt(token: str):
    submission = _submission_by_status_token(token)
    status_url = url_for(".status", token=token, _external=True)
    return _no_referrer(
        current_app.make_response(
            render_template(
                "submissions/receipt.html",
                procedure=service.procedure_of(submission),
                submission=submission,
                summary=_summary(submission),
                qr=_status_qr(status_url, submission),
                department=_department(submission),
            )
        )
    )


def _signed_in_sub():
    user = _user()
    return user["sub"] if user else None


@bp.get("/my/applications")
def my_applications():
    """申請一覧: the signed-in resident's drafts and submissions, and those made for them."""
    user = _user()
    if user is None:
        return redirect(url_for("identity.login", next=request.path))
    rows = []
    for submission, role in service.applications_of(db.session, user["sub"], user.get("person_id")):
        if submission.bundle_id is not None and service.is_draft(submission):
            continue  # shown with its bundle below
        workflow = service.workflow_of(submission)
        rows.append(
            {
                "submission": submission,
                "title": submission.snapshot["procedure"]["title"],
                "state": workflow.states[submission.status],
                "draft": service.is_draft(submission),
                "role": _role_text(submission, role),
                "payable": _payable(submission),
            }
        )
    return render_template(
        "submissions/my_applications.html", rows=rows, bundles=_bundles_of(user["sub"])
    )


def _bundles_of(owner_sub: str) -> list[dict]:
    """The resident's bundles (one-stop filings of a life event) with their progress."""
    from portal.bundles import plan
    from portal.bundles import service as bundles

    catalog, today = _catalog(), clock.today_local()
    found = []
    for bundle in bundles.bundles_of(db.session, owner_sub):
        parts = plan.progress(db.session, catalog, bundle, today) if bundle.reference else []
        found.append(
            {
                "bundle": bundle,
                "label": bundles.event_of(bundle).label,
                "titles": [
                    member.snapshot["procedure"]["title"]
                    for member in bundles.members_of(db.session, bundle)
                ],
                "counts": {
                    state: sum(1 for p in parts if p.state == state)
                    for state in ("done", "waiting", "todo")
                },
            }
        )
    return found


def _payable(submission: Submission) -> bool:
    from portal.payments import service as payments

    return payments.payable(submission)


def _role_text(submission: Submission, role: str) -> str:
    acting = submission.acting_for if service.acting_for_someone(submission) else None
    if role == service.ROLE_SUBJECT:
        if not acting:
            return "あなたについての申請"
        relationship = service.RELATIONSHIPS[acting["relationship"]]
        return f"あなたについての申請（代理人：{acting['applicant_name']} さん・{relationship}）"
    if acting:
        return f"{acting['subject_name']} さんの代理で申請"
    return "ご本人の申請"


@bp.get("/my/applications/<public_id>")
def my_application(public_id: str):
    user = _user()
    if user is None:
        return redirect(url_for("identity.login", next=request.path))
    submission = service.visible(db.session, user["sub"], user.get("person_id"), public_id)
    if submission is None or service.is_draft(submission):
        abort(404)
    return redirect(url_for(".status", token=_status_token(submission)))


@bp.post("/my/applications/<public_id>/continue")
def continue_draft(public_id: str):
    sub = _signed_in_sub()
    submission = service.owned(db.session, sub, public_id) if sub else None
    if submission is None or not service.is_draft(submission):
        abort(404)
    if submission.bundle_id is not None:  # filed with its bundle: continue there
        from portal.bundles.models import Bundle

        bundle = db.session.get(Bundle, submission.bundle_id)
        return redirect(url_for("bundles.overview", public_id=bundle.public_id), 303)
    token = service.take_over_draft(db.session, submission, clock.now())
    db.session.commit()
    _remember_draft(submission.procedure_id, token)
    first = service.first_incomplete_step(submission, clock.today_local())
    if first is None:
        return redirect(url_for(".check", procedure_id=submission.procedure_id))
    return redirect(url_for(".step", procedure_id=submission.procedure_id, step_id=first.id))
