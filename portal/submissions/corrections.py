"""補正 (correction) from the resident's side: when staff asked for what is missing
(portal.staff.workflow.ask_resident), the resident changes only the named fields, or adds an
attachment to a named file field, and resubmits. The answers before and after are both kept on
the request, so staff see the difference; the change and the status move happen in one UPDATE.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog import logic
from portal.catalog.schema import Field, Step
from portal.i18n import shown, translate
from portal.submissions import service
from portal.submissions.models import CorrectionRequest, Submission

NOTE_MAX = 1000


def open_request(session: Session, submission: Submission) -> CorrectionRequest | None:
    """The request the resident is asked to answer now (None when it is not their turn)."""
    state = service.workflow_of(submission).states.get(submission.status)
    if state is None or not state.resident_turn:
        return None
    return session.scalar(
        select(CorrectionRequest)
        .where(
            CorrectionRequest.submission_id == submission.id,
            CorrectionRequest.answered_at.is_(None),
        )
        .order_by(CorrectionRequest.id.desc())
        .limit(1)
    )


def signed_version(session: Session, submission: Submission) -> dict[str, Any] | None:
    """The answers as first submitted, when a correction changed them since (what a signature
    made at submit covers); None when never corrected."""
    return session.scalar(
        select(CorrectionRequest.answers_before)
        .where(CorrectionRequest.submission_id == submission.id)
        .order_by(CorrectionRequest.id)
        .limit(1)
    )


def named_fields(submission: Submission, request: CorrectionRequest) -> list[Field]:
    procedure = service.procedure_of(submission)
    return [f for f in procedure.fields() if f.name in request.fields]


def correction_step(submission: Submission, request: CorrectionRequest) -> Step:
    """One page with the named fields (the steps' cross-field checks still run at review)."""
    procedure = service.procedure_of(submission)
    first = next(s for s in procedure.steps if any(f.name in request.fields for f in s.fields))
    return first.model_copy(
        update={
            "id": "correction",
            "title": translate("お願いされた項目を直す"),
            "description": None,
            "fields": named_fields(submission, request),
            "checks": [],
        }
    )


def _answer_transition(submission: Submission) -> str:
    workflow = service.workflow_of(submission)
    return next(
        t.name
        for t in workflow.transitions
        if t.source == submission.status and t.by == "resident" and t.name != "withdraw"
    )


def resubmit(
    session: Session,
    submission: Submission,
    request: CorrectionRequest,
    values: dict[str, Any],
    note: str,
    today: dt.date,
    now: dt.datetime,
) -> bool:
    """Keep the new values of the named fields and move the case back to staff; False when the
    case left the resident's turn meanwhile (e.g. withdrawn in another tab)."""
    answers = dict(submission.answers)
    for name in request.fields:
        if name in values:
            answers[name] = values[name]
        else:
            answers.pop(name, None)  # no longer applies with the new answers
    answers = logic.prune(service.procedure_of(submission), answers, today)
    done = service.transition(
        session,
        submission,
        _answer_transition(submission),
        "resident",
        now,
        expected=submission.status,
        answers=answers,
    )
    if not done:
        return False
    submission.applicant_search = service.search_text(submission)
    request.answers_after = answers
    request.resident_note = note.strip()[:NOTE_MAX] or None
    request.answered_at = now
    session.flush()
    return True


def changed_rows(
    submission: Submission, request: CorrectionRequest, ctx: service.FormContext
) -> list[dict[str, Any]]:
    """The named fields before and after, as the forms show them (for staff and the resident)."""
    rows = []
    for f in named_fields(submission, request):
        before = (request.answers_before or {}).get(f.name)
        after = (request.answers_after or {}).get(f.name) if request.answered_at else None
        rows.append(
            {
                "label": f.label,
                "before": f.field_type.display(f, before, ctx)
                if before is not None
                else shown("未入力"),
                "after": (
                    (f.field_type.display(f, after, ctx) if after is not None else shown("未入力"))
                    if request.answered_at
                    else ""
                ),
                "changed": request.answered_at is not None and before != after,
            }
        )
    return rows
