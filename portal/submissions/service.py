"""The submission engine: draft → steps → check answers → submit → reference.

One engine for every channel (the resident's phone now; kiosk and volunteer-assisted modes later
reuse it). Functions take the database session and `now` explicitly, never touch the request, and
flush; the calling view commits once. Status changes are conditional UPDATEs on the row's current
status (docs/decisions/0004-concurrency.md), so racing requests — a double click, ten replayed
POSTs — produce exactly one submission.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from portal.catalog import logic
from portal.catalog.schema import CatalogData, Procedure, Step, Workflow
from portal.security import derived_token, new_reference, new_token, token_hash
from portal.submissions.models import (
    PAYMENT_NONE,
    PAYMENT_UNPAID,
    Submission,
    SubmissionEvent,
)


class SubmissionError(Exception):
    """Base class of the engine's domain errors."""


class DraftNotEditable(SubmissionError):
    """The draft has left the initial state (submitted in another tab, say)."""


class IncompleteAnswers(SubmissionError):
    def __init__(self, step: Step) -> None:
        super().__init__(f"step {step.id!r} is incomplete")
        self.step = step


class DeclarationMissing(SubmissionError):
    pass


class TransitionRefused(SubmissionError):
    pass


@dataclass
class StepOutcome:
    """What a POSTed step produced: the values to keep, and errors by field name."""

    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def procedure_of(submission: Submission) -> Procedure:
    """The procedure as it was when the draft started (not the catalog's current entry)."""
    return Procedure.model_validate(submission.snapshot["procedure"])


def workflow_of(submission: Submission) -> Workflow:
    return Workflow.model_validate(submission.snapshot["workflow"])


def start_draft(
    session: Session, catalog: CatalogData, procedure: Procedure, now: dt.datetime
) -> tuple[Submission, str]:
    """Create a draft and return it with its bearer token (kept by the resident's browser)."""
    workflow = catalog.workflows[procedure.workflow]
    token = new_token()
    submission = Submission(
        public_id=secrets.token_hex(16),
        procedure_id=procedure.id,
        snapshot={
            "procedure": procedure.model_dump(mode="json", by_alias=True),
            "workflow": workflow.model_dump(mode="json", by_alias=True),
        },
        answers={},
        steps_done=[],
        status=workflow.initial,
        payment_status=PAYMENT_NONE,
        draft_token_hash=token_hash(token),
        created_at=now,
        updated_at=now,
    )
    session.add(submission)
    session.flush()
    return submission, token


def find_by_draft_token(session: Session, token: str | None) -> Submission | None:
    if not token:
        return None
    return session.scalar(
        select(Submission).where(Submission.draft_token_hash == token_hash(token))
    )


def find_by_status_token(session: Session, token: str) -> Submission | None:
    submission = session.scalar(
        select(Submission).where(Submission.status_token_hash == token_hash(token))
    )
    return submission


def status_token(key: str, submission: Submission) -> str:
    return derived_token(key, "status", submission.public_id)


def is_draft(submission: Submission) -> bool:
    return submission.status == workflow_of(submission).initial


def read_step(
    procedure: Procedure, step: Step, answers: dict[str, Any], form: MultiDict, today: dt.date
) -> StepOutcome:
    """Parse and check one step's POST. Fields hidden by a condition are ignored.

    Conditions may depend on other fields of the same page (「その他」 → details), so they are
    evaluated on the stored answers merged with this page's new values.
    """
    parsed = {f.name: f.field_type.read(f, form) for f in step.fields}
    merged = {**answers, **{name: p.value for name, p in parsed.items()}}
    outcome = StepOutcome()
    for f in step.fields:
        result = parsed[f.name]
        outcome.raw[f.name] = result.raw
        if not logic.field_applies(f, merged, today):
            continue
        if result.error:
            outcome.errors[f.name] = result.error
        else:
            outcome.values[f.name] = result.value
    return outcome


def save_step(
    session: Session,
    submission: Submission,
    step: Step,
    outcome: StepOutcome,
    today: dt.date,
    now: dt.datetime,
) -> None:
    """Store a valid step's answers on the draft (guarded: only while it is still a draft)."""
    procedure = procedure_of(submission)
    answers = {**submission.answers}
    for f in step.fields:
        answers.pop(f.name, None)
    answers.update({name: value for name, value in outcome.values.items() if value is not None})
    answers = logic.prune(procedure, answers, today)
    steps_done = [*submission.steps_done]
    if step.id not in steps_done:
        steps_done.append(step.id)
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == workflow_of(submission).initial)
        .values(answers=answers, steps_done=steps_done, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DraftNotEditable(submission.public_id)
    session.refresh(submission)


def step_complete(step: Step, submission: Submission, today: dt.date) -> bool:
    if step.id not in submission.steps_done:
        return False
    answers = submission.answers
    for f in logic.applicable_fields(step, answers, today):
        value = answers.get(f.name)
        if value is None or value == [] or value is False:
            if f.required:
                return False
            continue
        if f.field_type.check_value(f, value):
            return False
    return True


def first_incomplete_step(submission: Submission, today: dt.date) -> Step | None:
    procedure = procedure_of(submission)
    for step in logic.applicable_steps(procedure, submission.answers, today):
        if not step_complete(step, submission, today):
            return step
    return None


def step_position(
    procedure: Procedure, answers: dict[str, Any], step: Step, today: dt.date
) -> tuple[int, int]:
    """(n, total) for 「全N項目中n項目目」, counting only steps that apply."""
    steps = logic.applicable_steps(procedure, answers, today)
    ids = [s.id for s in steps]
    index = ids.index(step.id) + 1 if step.id in ids else 1
    return index, len(steps)


def previous_step(
    procedure: Procedure, answers: dict[str, Any], step: Step, today: dt.date
) -> Step | None:
    steps = logic.applicable_steps(procedure, answers, today)
    ids = [s.id for s in steps]
    if step.id not in ids or ids.index(step.id) == 0:
        return None
    return steps[ids.index(step.id) - 1]


def transition(
    session: Session,
    submission: Submission,
    name: str,
    actor: str,
    now: dt.datetime,
    **values: Any,
) -> bool:
    """Apply a workflow transition with a conditional UPDATE; False if another request won."""
    workflow = workflow_of(submission)
    source = submission.status
    match = next(
        (
            t
            for t in workflow.transitions
            if t.name == name and t.source == source and t.by == actor
        ),
        None,
    )
    if match is None:
        raise TransitionRefused(f"{name!r} by {actor} is not allowed from {source!r}")
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == source)
        .values(status=match.target, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(submission)
        return False
    session.add(
        SubmissionEvent(
            submission_id=submission.id,
            transition=name,
            from_status=source,
            to_status=match.target,
            actor=actor,
            at=now,
        )
    )
    session.flush()
    session.refresh(submission)
    return True


def submit(
    session: Session,
    submission: Submission,
    declared: bool,
    status_link_key: str,
    today: dt.date,
    now: dt.datetime,
) -> Submission:
    """Submit a complete draft. Idempotent: a submission already made is returned as it is."""
    if not is_draft(submission):
        return submission
    procedure = procedure_of(submission)
    incomplete = first_incomplete_step(submission, today)
    if incomplete is not None:
        raise IncompleteAnswers(incomplete)
    if procedure.declaration and not declared:
        raise DeclarationMissing()
    fee = logic.fee_amount(procedure, submission.answers, today)
    reference = new_reference()
    while session.scalar(select(Submission.id).where(Submission.reference == reference)):
        reference = new_reference()
    transition(
        session,
        submission,
        "submit",
        "resident",
        now,
        reference=reference,
        submitted_at=now,
        fee_amount=fee,
        payment_status=PAYMENT_UNPAID if fee else PAYMENT_NONE,
        status_token_hash=token_hash(status_token(status_link_key, submission)),
    )
    # Whether this request won or a concurrent one did, the row now holds the one submission.
    return submission
