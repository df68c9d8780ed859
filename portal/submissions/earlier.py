"""Answers from the resident's earlier application of the same kind (issue 22: "everything ...
an earlier application of the same resident already holds is shown, not asked").

A field opts in with `prefill: {source: applicant.earlier}` (optionally `procedures:`, the
procedures whose application counts as the same kind; by default the field's own procedure).
It is filled with that field's answer in the signed-in resident's latest *sent* application of
those procedures that was their own (not filed for someone else), not purged. Every such value
is shown as from the earlier application and stays editable: a 現況届 repeats last year's
employer, a change of a 申出 starts from what was asked for before. Secrets (a 個人番号, an
account) are never carried over (`flask catalog check` refuses the source on them), and no
other resident's application is ever read: the owner's pairwise `sub` selects them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog.schema import Procedure
from portal.submissions.models import Submission

SOURCE = "applicant.earlier"


def earlier_values(session: Session, owner_sub: str | None, procedure: Procedure) -> dict[str, Any]:
    """{field name: answer} for this procedure's applicant.earlier fields, from the resident's
    latest sent own application of the kind each field names; {} when there is none."""
    fields = [f for f in procedure.fields() if f.prefill is not None and f.prefill.source == SOURCE]
    if not owner_sub or not fields:
        return {}
    values: dict[str, Any] = {}
    latest: dict[tuple[str, ...], dict[str, Any] | None] = {}
    for field in fields:
        assert field.prefill is not None
        kinds = tuple(field.prefill.procedures or [procedure.id])
        if kinds not in latest:
            latest[kinds] = _latest_answers(session, owner_sub, kinds)
        answers = latest[kinds]
        if answers is not None and answers.get(field.name) not in (None, "", [], {}):
            values[field.name] = answers[field.name]
    return values


def _latest_answers(
    session: Session, owner_sub: str, procedure_ids: tuple[str, ...]
) -> dict[str, Any] | None:
    row = session.scalar(
        select(Submission)
        .where(
            Submission.owner_sub == owner_sub,
            Submission.procedure_id.in_(procedure_ids),
            Submission.submitted_at.is_not(None),
            Submission.purged_at.is_(None),
            Submission.acting_for.is_(None),
        )
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(1)
    )
    return dict(row.answers) if row is not None else None
