"""The "who is this application for" page (代理): the resident themself, a member of their
household (the records show the relationship), or someone else with a letter of delegation
(委任状). Its fields are read by the usual field types."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from portal.catalog.fields import html_id
from portal.catalog.schema import Field, Option, Procedure
from portal.db import db
from portal.i18n import translate
from portal.records.base import RecordNotFound
from portal.submissions import access, bp, prefill, service
from portal.submissions.access import form_context, limit, prefill_signed_in
from portal.submissions.models import Submission
from portal.submissions.summary import WHO_LETTER
from portal.submissions.views import draft_or_redirect

WHO_SUBJECT = Field(name="subject", type="person", label="申請の対象となる方")


def _in_language(field: Field) -> Field:
    """A field of this page with its label and hint in the resident's language (decision 0096)."""
    hint = translate(field.hint) if field.hint else field.hint
    return field.model_copy(update={"label": translate(field.label), "hint": hint})


def _who_choice_field(procedure: Procedure, user: dict, members: list) -> Field:
    options = [
        Option(value="self", label=translate("ご本人（%(name)s さん）の申請", name=user["name"]))
    ]
    options += [
        Option(
            value=f"member-{m.person_id}",
            label=translate("%(name)s さん（同じ世帯の方）", name=m.name),
        )
        for m in members
    ]
    if _letter_relationships(procedure):
        options.append(
            Option(
                value="other",
                label=translate("ほかの方の代わりに申請する"),
                hint=translate("別の世帯のご家族、ケアマネジャーなど。委任状が必要です。"),
            )
        )
    return Field(
        name="who", type="radio", label=translate("どなたについての申請ですか"), options=options
    )


def _letter_relationships(procedure: Procedure) -> list[str]:
    relationships = procedure.on_behalf.relationships if procedure.on_behalf else []
    return [r for r in relationships if r != "household"]


def _relationship_field(procedure: Procedure) -> Field:
    return Field(
        name="relationship",
        type="select",
        label=translate("その方とのご関係"),
        options=[
            Option(value=r, label=translate(service.RELATIONSHIPS[r]))
            for r in _letter_relationships(procedure)
        ],
    )


def _household_members(submission: Submission, procedure: Procedure, user: dict) -> list:
    """The applicant's household in the records, but themself (they may act for these)."""
    records = current_app.extensions.get("resident_records")
    person_id = user.get("person_id")
    relationships = procedure.on_behalf.relationships if procedure.on_behalf else []
    if "household" not in relationships or not records or not person_id:
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
@limit("RATELIMIT_SAVE")
def who(procedure_id: str) -> ResponseReturnValue:
    """Whom the application is about: the resident, a member of their household (the records
    show the relationship), or someone else with a letter of delegation (委任状)."""
    submission = draft_or_redirect(procedure_id)
    if not isinstance(submission, Submission):
        return submission  # where to go instead
    procedure = service.procedure_of(submission)
    user = access.user()
    if not procedure.on_behalf or user is None or submission.owner_sub != user["sub"]:
        abort(404)
    members = _household_members(submission, procedure, user)
    choice_field = _who_choice_field(procedure, user, members)
    other_fields = (
        [_in_language(WHO_SUBJECT), _relationship_field(procedure), _in_language(WHO_LETTER)]
        if _letter_relationships(procedure)
        else []
    )
    ctx = form_context(submission, with_form=request.method == "POST")
    acting = submission.acting_for or {}
    raw: dict[str, Any] = {"who": _who_raw(acting, submission)}
    errors: dict[str, str] = {}
    if request.method == "POST":
        parsed = {
            f.name: f.field_type.read_input(f, ctx, f.name) for f in [choice_field, *other_fields]
        }
        raw = {name: p.raw for name, p in parsed.items()}
        choice = parsed["who"].value
        errors.update(parsed["who"].errors)
        if choice == "self":
            service.set_subject(db.session, submission, relationship="self", subject_person_id=None)
            prefill_signed_in(submission, prefill.Subject(user.get("person_id"), readable=True))
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
            prefill_signed_in(submission, prefill.Subject(member.person_id, readable=True))
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
                prefill_signed_in(
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
