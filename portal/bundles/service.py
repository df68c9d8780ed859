"""One-stop filing of a life event: answer once, file every chosen procedure together.

A bundle starts from a life event's checklist with the procedures the resident chose; each gets
an ordinary draft of the submission engine (portal.submissions.service), linked to the bundle.
The shared questions of the event (`bundle.shared` in the catalog) are asked once, and only
those a chosen procedure uses; the catalog's `fills` put the answers into every member's fields
(a rule per field, or a group made from a shared group). A member's page then asks only what is
left: fields no fill gave a valid answer. One check page, one signature for every document that
needs one, and one submit that files every member or none (the caller commits once, or rolls
back everything on an exception: the drafts keep their answers).

Functions take the database session and `now`/`today` explicitly and flush; views commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.bundles.models import DRAFT, SUBMITTED, Bundle
from portal.catalog import logic
from portal.catalog.schema import (
    BundleSpec,
    CatalogData,
    Field,
    GroupFill,
    LifeEvent,
    Procedure,
    Step,
)
from portal.db import lock_in_order
from portal.rules import RuleEvaluationError
from portal.security import new_reference
from portal.submissions import service as submissions
from portal.submissions.models import Submission

REFERENCE_PREFIX = "ISB"  # bundle references read ISB-7K3M-Q9TX; applications ISM-...


class NotBundleable(ValueError):
    """The chosen procedures cannot be filed together (none chosen, or one not offered)."""


class MemberFailed(Exception):
    """One member could not be submitted (its error is the cause): the bundle files nothing."""

    def __init__(self, submission: Submission) -> None:
        procedure = submissions.procedure_of(submission)
        super().__init__(f"{procedure.id} could not be submitted")
        self.procedure_id = procedure.id
        self.title = procedure.title


def event_of(bundle: Bundle) -> LifeEvent:
    """The life event as it was when the bundle started."""
    return LifeEvent.model_validate(bundle.definition)


def spec_of(bundle: Bundle) -> BundleSpec:
    spec = event_of(bundle).bundle
    assert spec is not None  # a bundle only starts from an event that has one
    return spec


def bundleable(procedure: Procedure | None) -> bool:
    """Can be filed online as part of a bundle (counter-only procedures are visited instead)."""
    return procedure is not None and procedure.channel != "counter" and procedure.ended is None


def start(
    session: Session,
    catalog: CatalogData,
    event: LifeEvent,
    screening: dict[str, Any],
    procedure_ids: list[str],
    now: dt.datetime,
    *,
    owner_sub: str,
    person_id: str | None,
) -> tuple[Bundle, list[Submission]]:
    """A new bundle with a draft of every chosen procedure (about the resident themself)."""
    if event.bundle is None or not procedure_ids:
        raise NotBundleable("nothing to file together")
    chosen = [catalog.procedure(pid) for pid in dict.fromkeys(procedure_ids)]
    if not all(bundleable(p) for p in chosen):
        raise NotBundleable("a chosen procedure cannot be filed online")
    bundle = Bundle(
        public_id=secrets.token_hex(16),
        life_event=event.id,
        owner_sub=owner_sub,
        applicant_person_id=person_id,
        definition=event.model_dump(mode="json", by_alias=True),
        procedures=[p.id for p in chosen],
        screening=dict(screening),
        shared={},
        shared_prefilled={},
        shared_done=[],
        status=DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(bundle)
    session.flush()
    members = []
    for procedure in chosen:
        submission, _token = submissions.start_draft(
            session, catalog, procedure, now, owner_sub=owner_sub, applicant_person_id=person_id
        )
        submission.bundle_id = bundle.id
        if procedure.on_behalf:
            submissions.set_subject(
                session, submission, relationship="self", subject_person_id=None
            )
        members.append(submission)
    session.flush()
    return bundle, members


def members_of(session: Session, bundle: Bundle) -> list[Submission]:
    """The member applications, in the order the resident chose them."""
    rows = {
        s.procedure_id: s
        for s in session.scalars(select(Submission).where(Submission.bundle_id == bundle.id))
    }
    return [rows[pid] for pid in bundle.procedures if pid in rows]


def owned(session: Session, owner_sub: str, public_id: str) -> Bundle | None:
    """The bundle if this resident started it; None otherwise (shown as 404)."""
    return session.scalar(
        select(Bundle).where(Bundle.public_id == public_id, Bundle.owner_sub == owner_sub)
    )


def bundles_of(session: Session, owner_sub: str) -> list[Bundle]:
    return list(
        session.scalars(
            select(Bundle)
            .where(Bundle.owner_sub == owner_sub)
            .order_by(Bundle.updated_at.desc(), Bundle.id.desc())
        )
    )


# --- the shared questions -----------------------------------------------------------------------


def used_names(spec: BundleSpec, procedure_ids: list[str]) -> set[str]:
    """The screening and shared answers the fills of these procedures read, and the address
    the bundle's reminders go to."""
    names: set[str] = {spec.notify} if spec.notify else set()
    for fill in spec.fills:
        if fill.procedure not in procedure_ids:
            continue
        for source in fill.answers.values():
            if isinstance(source, GroupFill):
                names.add(source.source)
            else:
                names.update(n.partition(".")[0] for n in logic.rule(source).names)
    return names


def context_of(bundle: Bundle) -> dict[str, Any]:
    """The answers fills and shared conditions read: the screening's, then the shared ones."""
    return {**bundle.screening, **bundle.shared}


def shared_steps(bundle: Bundle, today: dt.date) -> list[Step]:
    """The shared steps to ask, each with only the fields some chosen procedure uses."""
    spec = spec_of(bundle)
    used = used_names(spec, bundle.procedures)
    context = context_of(bundle)
    steps = []
    for step in spec.shared:
        if not logic.step_applies(step, context, today):
            continue
        fields = [f for f in step.fields if f.name in used]
        if fields:
            steps.append(step.model_copy(update={"fields": fields}))
    return steps


def shared_step(bundle: Bundle, step_id: str, today: dt.date) -> Step | None:
    return next((s for s in shared_steps(bundle, today) if s.id == step_id), None)


def shared_fields(bundle: Bundle) -> list[Field]:
    return [f for step in spec_of(bundle).shared for f in step.fields]


def shared_complete(bundle: Bundle, step: Step, today: dt.date) -> bool:
    return step.id in bundle.shared_done and submissions.fields_complete(
        step, context_of(bundle), today
    )


def apply_shared_prefill(
    session: Session, bundle: Bundle, answers: dict[str, Any], sources: dict[str, str]
) -> None:
    bundle.shared = {**bundle.shared, **answers}
    bundle.shared_prefilled = dict(sources)
    session.flush()


def save_shared(
    session: Session,
    bundle: Bundle,
    step: Step,
    values: dict[str, Any],
    members: list[Submission],
    today: dt.date,
    now: dt.datetime,
) -> None:
    """Keep a shared step's answers (guarded: only while the bundle is a draft) and put them
    into every member at once."""
    shared = {k: v for k, v in bundle.shared.items() if k not in {f.name for f in step.fields}}
    shared.update({k: v for k, v in values.items() if v is not None})
    done = [*bundle.shared_done] + ([step.id] if step.id not in bundle.shared_done else [])
    result = session.execute(
        update(Bundle)
        .where(Bundle.id == bundle.id, Bundle.status == DRAFT)
        .values(shared=shared, shared_done=done, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise submissions.DraftNotEditable(bundle.public_id)
    for name, value in (("shared", shared), ("shared_done", done), ("updated_at", now)):
        set_committed_value(bundle, name, value)
    apply_fills(session, bundle, members, today, now)


# --- filling the members ------------------------------------------------------------------------


def fill_values(
    spec: BundleSpec, procedure: Procedure, context: dict[str, Any], today: dt.date
) -> dict[str, Any]:
    """What the shared answers say for this procedure's fields (pure). A rule that cannot be
    evaluated yet, or gives nothing, fills nothing."""
    fill = spec.fill(procedure.id)
    if fill is None:
        return {}
    values: dict[str, Any] = {}
    for name, source in fill.answers.items():
        try:
            if isinstance(source, GroupFill):
                value: Any = []
                for item in context.get(source.source) or []:
                    item_context = logic.context({**context, **item}, today)
                    if source.where and not logic.rule(source.where).is_true(item_context):
                        continue
                    value.append(
                        {k: logic.rule(v).evaluate(item_context) for k, v in source.map.items()}
                    )
            else:
                value = logic.rule(source).evaluate(logic.context(context, today))
        except RuleEvaluationError:
            continue
        if value is not None and value != [] and value != "":
            values[name] = value
    return values


def filled_names(
    bundle: Bundle, submission: Submission, today: dt.date, *, expected: bool = False
) -> set[str]:
    """The member's fields the bundle answers validly: not asked again on its pages. A fill
    that does not fit (a group item still missing an answer, say) is put in but still asked.
    `expected`: also the fields whose shared answers are not given yet (to count the pages
    ahead before the shared questions are answered)."""
    procedure = submissions.procedure_of(submission)
    spec = spec_of(bundle)
    values = fill_values(spec, procedure, context_of(bundle), today)
    names = set()
    for name, value in values.items():
        f = procedure.field(name)
        if f is not None and not f.field_type.check_value(f, value):
            names.add(name)
    fill = spec.fill(procedure.id)
    if expected and fill is not None:
        names.update(name for name in fill.answers if name not in values)
    return names


def apply_fills(
    session: Session,
    bundle: Bundle,
    members: list[Submission],
    today: dt.date,
    now: dt.datetime,
) -> None:
    """Put the shared answers into every member draft (a changed shared answer changes them
    all). A filled field's value now comes from the bundle, not from the card or records."""
    spec, context = spec_of(bundle), context_of(bundle)
    # The caller changed the bundle first (its row is locked); the members by id, then filled in
    # the resident's order (docs/decisions/0046-lock-order-and-retries.md).
    lock_in_order(session, Submission.id, [m.id for m in members if submissions.is_draft(m)])
    for submission in members:
        if not submissions.is_draft(submission):
            continue
        procedure = submissions.procedure_of(submission)
        values = fill_values(spec, procedure, context, today)
        if not values:
            continue
        fill = spec.fill(procedure.id)
        for name, source in fill.answers.items():
            if isinstance(source, GroupFill) and name in values:
                values[name] = _keep_item_answers(values[name], submission.answers.get(name))
        answers = logic.prune(procedure, {**submission.answers, **values}, today)
        prefilled = {k: v for k, v in submission.prefilled.items() if k not in values}
        result = session.execute(
            update(Submission)
            .where(
                Submission.id == submission.id,
                Submission.status == submissions.workflow_of(submission).initial,
            )
            .values(answers=answers, prefilled=prefilled, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise submissions.DraftNotEditable(submission.public_id)
        for name, value in (("answers", answers), ("prefilled", prefilled), ("updated_at", now)):
            set_committed_value(submission, name, value)


def _keep_item_answers(items: list[dict], existing: Any) -> list[dict]:
    """A group filled anew keeps what the resident answered on the member's own page for the
    same person (an item whose filled sub-answers are all the same), never another's."""
    if not isinstance(existing, list):
        return items
    kept = []
    for item in items:
        same = next(
            (
                old
                for old in existing
                if isinstance(old, dict) and all(old.get(k) == v for k, v in item.items())
            ),
            None,
        )
        kept.append({**same, **item} if same else item)
    return kept


def asked_fields(bundle: Bundle, submission: Submission, step: Step, today: dt.date) -> list[Field]:
    """The fields of a member's step its page shows: all but those the bundle filled."""
    filled = filled_names(bundle, submission, today)
    return [f for f in step.fields if f.name not in filled]


def _needs_page(
    bundle: Bundle, submission: Submission, step: Step, today: dt.date, expected: bool = False
) -> bool:
    """Something on the step is the resident's to answer (not filled, not a fixed prefill)."""
    filled = filled_names(bundle, submission, today, expected=expected)
    locked = submissions.locked_fields(submission)
    return any(
        f.name not in filled and f.name not in locked
        for f in logic.applicable_fields(step, submission.answers, today)
    )


@dataclass(frozen=True)
class Page:
    """Where the resident goes next: a shared step, a member's step, or the check page.
    `whole` asks every field of a member's step (a filled answer there needs correcting)."""

    kind: Literal["shared", "member", "check"]
    step: Step | None = None
    submission: Submission | None = None
    whole: bool = False


def next_page(
    session: Session, bundle: Bundle, members: list[Submission], today: dt.date, now: dt.datetime
) -> Page:
    """The first page still to answer. Member steps whose every field came from the shared
    answers are counted as done without a page."""
    for step in shared_steps(bundle, today):
        if not shared_complete(bundle, step, today):
            return Page("shared", step=step)
    for submission in members:
        if not submissions.is_draft(submission):
            continue
        procedure = submissions.procedure_of(submission)
        for step in logic.applicable_steps(procedure, submission.answers, today):
            if submissions.step_complete(step, submission, today):
                continue
            if _needs_page(bundle, submission, step, today):
                return Page("member", step=step, submission=submission)
            submissions.mark_step_done(session, submission, step.id, now)
            if not submissions.step_complete(step, submission, today):
                return Page("member", step=step, submission=submission, whole=True)
    return Page("check")


def member_pages(bundle: Bundle, submission: Submission, today: dt.date) -> list[Step]:
    """The member's steps that have a page in the bundle (for positions and back links),
    counting fields the shared questions not answered yet will fill as filled."""
    procedure = submissions.procedure_of(submission)
    return [
        step
        for step in logic.applicable_steps(procedure, submission.answers, today)
        if _needs_page(bundle, submission, step, today, expected=True)
    ]


# --- submitting ---------------------------------------------------------------------------------


def needs_signature(members: list[Submission]) -> list[Submission]:
    return [m for m in members if submissions.procedure_of(m).identity_level == "signature"]


def submit(
    session: Session,
    bundle: Bundle,
    members: list[Submission],
    declared: bool,
    status_link_key: str,
    today: dt.date,
    now: dt.datetime,
    on_submitted: Callable[[Session, Submission, dt.datetime], None] | None = None,
) -> bool:
    """File every member under one bundle reference, or none: any member that cannot be
    submitted raises MemberFailed and the caller rolls the whole transaction back, so no
    member is left submitted and every draft keeps its answers. True when this call filed the
    bundle; False when it was already filed (a double click, another tab)."""
    if bundle.status != DRAFT:
        return False
    reference = new_reference(REFERENCE_PREFIX)
    while session.scalar(select(Bundle.id).where(Bundle.reference == reference)):
        reference = new_reference(REFERENCE_PREFIX)
    result = session.execute(
        update(Bundle)
        .where(Bundle.id == bundle.id, Bundle.status == DRAFT)
        .values(status=SUBMITTED, reference=reference, submitted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(bundle)  # another request filed it: nothing more to do here
        return False
    for name, value in (
        ("status", SUBMITTED),
        ("reference", reference),
        ("submitted_at", now),
        ("updated_at", now),
    ):
        set_committed_value(bundle, name, value)
    # The bundle's row is locked (the UPDATE above); its members next, by id (lock order:
    # docs/decisions/0046-lock-order-and-retries.md), then filed in the resident's order.
    lock_in_order(session, Submission.id, [m.id for m in members])
    for submission in members:
        try:
            submissions.submit(
                session, submission, declared, status_link_key, today, now, on_submitted
            )
        except Exception as error:  # any failure of a member files nothing at all
            raise MemberFailed(submission) from error
    return True
