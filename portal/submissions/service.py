"""The submission engine: draft → steps → check answers → submit → reference.

One engine for every channel (the resident's phone now; kiosk and volunteer-assisted modes later
reuse it). Functions take the database session and `now` explicitly, never touch the request, and
flush; the calling view commits once. Status changes are conditional UPDATEs on the row's current
status (docs/decisions/0004-concurrency.md), so racing requests — a double click, ten replayed
POSTs — produce exactly one submission.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import unicodedata
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal import japanese, procedures
from portal.catalog import logic
from portal.catalog.fields import AddressType, Parsed
from portal.catalog.schema import CatalogData, Field, Procedure, Step
from portal.i18n import current_language, translate
from portal.security import (
    new_reference,
    new_token,
    token_hash,
)
from portal.submissions import conditions, shortcuts

# Re-exported: callers use the engine's service as one facade.
from portal.submissions.drafts import (  # noqa: F401
    RELATIONSHIPS,
    RESUME_DAYS,
    ROLE_APPLICANT,
    ROLE_SUBJECT,
    acting_for_someone,
    adopt_draft,
    applications_of,
    dumped,
    find_by_draft_token,
    find_by_status_token,
    is_draft,
    issue_resume_code,
    matches,
    owned,
    owned_draft,
    procedure_of,
    resume_draft,
    role_of,
    set_subject,
    status_token,
    take_over_draft,
    visible,
    workflow_of,
)
from portal.submissions.forms import (  # noqa: F401
    DeclarationMissing,
    DraftNotEditable,
    FormContext,
    IncompleteAnswers,
    Services,
    SignatureMissing,
    StepOutcome,
    SubmissionError,
    TransitionRefused,
)
from portal.submissions.models import (
    PAYMENT_AFTER_REVIEW,
    PAYMENT_NONE,
    PAYMENT_UNPAID,
    Submission,
    SubmissionEvent,
)
from portal.uploads.models import Upload


def _payment_status(procedure: Procedure, fee: int | None) -> str:
    if not fee:
        return PAYMENT_NONE  # no fee, or nothing to pay for these answers (exempt)
    after_review = procedure.fee is not None and procedure.fee.timing == "after_review"
    return PAYMENT_AFTER_REVIEW if after_review else PAYMENT_UNPAID


def start_draft(
    session: Session,
    catalog: CatalogData,
    procedure: Procedure,
    now: dt.datetime,
    owner_sub: str | None = None,
    applicant_person_id: str | None = None,
) -> tuple[Submission, str]:
    """Create a draft and return it with its bearer token (kept by the resident's browser).
    A signed-in resident owns it (`owner_sub`); until they say otherwise (acting for someone,
    see `set_subject`) it is about themself."""
    workflow = catalog.workflows[procedure.workflow]
    token = new_token()
    submission = Submission(
        public_id=secrets.token_hex(16),
        procedure_id=procedure.id,
        department=procedure.department,
        owner_sub=owner_sub,
        applicant_person_id=applicant_person_id,
        subject_person_id=applicant_person_id,
        prefilled={},
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


def read_step(procedure: Procedure, step: Step, ctx: FormContext, today: dt.date) -> StepOutcome:
    """Parse and check one step's POST. Fields hidden by a condition are ignored.

    Conditions may depend on other fields of the same page (「その他」 → details), so they are
    evaluated on the stored answers merged with this page's new values.
    """
    outcome = read_fields(step, ctx, today, locked_fields(ctx.submission))
    if outcome.ok:
        merged = {**ctx.previous, **outcome.values}
        outcome.errors.update(procedures.validate_step(procedure.id, step.id, merged))
    return outcome


def read_fields(
    step: Step, ctx: FormContext, today: dt.date, locked: set[str] | frozenset[str] = frozenset()
) -> StepOutcome:
    """Parse a step's fields and its `checks:` (no procedure hooks): `read_step` for a
    procedure, and the shared questions of a bundle (portal.bundles) as they are."""
    parsed: dict[str, Parsed] = {
        f.name: (_stored(f, ctx) if f.name in locked else f.field_type.read_input(f, ctx, f.name))
        for f in step.fields
    }
    # A question hidden on the page (its condition false) takes the ones behind it along.
    merged = conditions.without_hidden(
        step.fields, {**ctx.previous, **{name: p.value for name, p in parsed.items()}}, today
    )
    outcome = StepOutcome()
    for f in step.fields:
        result = parsed[f.name]
        outcome.raw[f.name] = result.raw
        if not logic.field_applies(f, merged, today):
            continue
        if conditions.newly_asked(ctx.form, f.name):
            outcome.newly_asked.append(f.name)  # shown now, checked on the next 次へ進む
            continue
        outcome.errors.update(result.errors)
        if result.ok:
            outcome.values[f.name] = result.value
    if outcome.newly_asked:
        outcome.notice = translate(conditions.NEWLY_ASKED_NOTICE)
        if not outcome.errors:
            first = next(f for f in step.fields if f.name == outcome.newly_asked[0])
            outcome.focus = _first_input(first, first.name)
    if outcome.ok:
        outcome.errors.update(logic.check_errors(step, merged, today))
    return outcome


def _stored(f: Field, ctx: FormContext) -> Parsed:
    """A field the resident may not change here: its stored answer, whatever was posted."""
    value = ctx.previous.get(f.name)
    return Parsed(value, {}, f.field_type.raw_from_value(f, value, ctx))


def locked_fields(submission: Submission) -> set[str]:
    """Prefilled answers the procedure does not let the resident change (shown, not asked).
    A prefilled value that is incomplete stays editable, so nobody is stuck."""
    procedure = procedure_of(submission)
    locked = set()
    for name in submission.prefilled or {}:
        f = procedure.field(name)
        value = submission.answers.get(name)
        if (
            f is not None
            and f.prefill is not None
            and not f.prefill.editable
            and value is not None
            and not f.field_type.check_value(f, value)
        ):
            locked.add(name)
    return locked


def apply_prefill(
    session: Session, submission: Submission, answers: dict[str, Any], sources: dict[str, str]
) -> None:
    """Put prefilled answers on a draft; the resident still goes through every step. Answers
    an earlier prefill gave (the resident has changed whom the application is about) go."""
    procedure = procedure_of(submission)
    fillable = {f.name for f in procedure.fields() if f.prefill is not None}
    if submission.prefilled or submission.acting_for:
        submission.steps_done = []
    kept = {k: v for k, v in submission.answers.items() if k not in fillable}
    submission.answers = {**kept, **answers}
    submission.prefilled = dict(sources)
    session.flush()


def apply_action(
    procedure: Procedure | None,
    step: Step,
    ctx: FormContext,
    action: str,
    today: dt.date,
    read: StepOutcome | None = None,
) -> StepOutcome:
    """A no-JavaScript button on a step page: add or remove a group item, look up an address
    from its postal code, or remove an uploaded file. Answers are kept as typed, not saved.
    `read`: the page as already read (a bundle's shared step has no procedure to read it)."""
    if read is None:
        if procedure is None:
            raise ValueError("a step without a procedure must be read by the caller")
        read = read_step(procedure, step, ctx, today)
    outcome = read
    outcome.errors = {}
    outcome.newly_asked, outcome.notice, outcome.focus = [], None, None
    kind, _, target = action.partition(":")
    fields = {f.name: f for f in step.fields}
    if kind == "add" and target in fields and fields[target].type == "group":
        items = outcome.raw[target]
        if len(items) < fields[target].max_items:
            items.append({})
            outcome.notice = translate(
                "%(item)sの入力欄を追加しました",
                item=translate(
                    "%(label)s%(index)s", label=fields[target].item_label, index=len(items)
                ),
            )
            first = fields[target].fields[0]
            outcome.focus = _first_input(first, f"{target}.{len(items) - 1}.{first.name}")
    elif kind == "remove" and target.rpartition(":")[0] in fields:
        name, _, index = target.rpartition(":")
        items = outcome.raw[name]
        if index.isdigit() and int(index) < len(items):
            del items[int(index)]
            outcome.notice = translate(
                "%(item)sを削除しました",
                item=translate(
                    "%(label)s%(index)s", label=fields[name].item_label, index=int(index) + 1
                ),
            )
            outcome.focus = f"{name}.add"
    elif kind == "lookup" and target in fields and fields[target].type == "address":
        raw = outcome.raw[target]
        error = AddressType().fill_from_postal_code(raw)
        if error:
            outcome.errors[f"{target}.postal_code"] = translate(
                "%(label)sの%(error)s", label=fields[target].label, error=error
            )
        else:
            outcome.notice = translate(
                "郵便番号から住所を入力しました。番地と建物名を入力してください"
            )
            outcome.focus = f"{target}.block"
    elif kind == "date" and target.partition(":")[0] in fields:
        name, _, value = target.partition(":")
        if fields[name].type == "date":
            notice = shortcuts.fill(fields[name], outcome.raw, value)
            if notice is not None:
                outcome.notice, outcome.focus = notice, name
    elif kind == "remove-file":
        name, _, token = target.partition(":")
        if name in fields:
            outcome.raw[name] = [i for i in outcome.raw[name] if i["token"] != token]
            outcome.notice = translate("ファイルを取り消しました")
            outcome.focus = name
    return outcome


def _first_input(field: Field, path: str) -> str:
    """The path of the first input a field renders (for focus after adding an item)."""
    first_part = {"address": "postal_code", "person": "name", "bank_account": "kind"}
    part = first_part.get(field.type)
    return f"{path}.{part}" if part else path


# The guarded UPDATE of every step saved, built once (a statement object keeps its cache key, so
# running it again costs no SQL construction; decision 0055). A Core UPDATE of the table: the
# loaded object is brought up to date below, as the ORM's synchronize_session=False left it.
_SUBMISSIONS = cast(Table, Submission.__table__)
_SAVE_STEP = (
    update(_SUBMISSIONS)
    .where(
        _SUBMISSIONS.c.id == bindparam("row_id"),
        _SUBMISSIONS.c.status == bindparam("draft_status"),
    )
    .values(
        answers=bindparam("new_answers", type_=_SUBMISSIONS.c.answers.type),
        steps_done=bindparam("new_steps_done", type_=_SUBMISSIONS.c.steps_done.type),
        updated_at=bindparam("new_updated_at", type_=_SUBMISSIONS.c.updated_at.type),
    )
)


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
    # A prefilled answer of a step not reached yet stays although its condition is not answered
    # yet (the spouse, shown once 配偶者がいますか is answered; a page asked only for 2号・3号
    # before 認定の区分 is answered): that step's own save, or the answer that rules the step
    # out, prunes it.
    for later in procedure.steps:
        if later.id in steps_done:
            continue
        if not (logic.step_applies(later, answers, today) or _undecided(later, answers)):
            continue
        for f in later.fields:
            if f.name in submission.prefilled and f.name in submission.answers:
                answers.setdefault(f.name, submission.answers[f.name])
    session.flush()  # what is pending goes first, as the ORM's UPDATE would have flushed it
    result = session.connection().execute(
        _SAVE_STEP,
        {
            "row_id": submission.id,
            "draft_status": workflow_of(submission).initial,
            "new_answers": answers,
            "new_steps_done": steps_done,
            "new_updated_at": now,
        },
    )
    if _row_count(result) != 1:
        raise DraftNotEditable(submission.public_id)
    # The row now holds exactly these values: update the loaded object without re-reading it.
    for name, value in (("answers", answers), ("steps_done", steps_done), ("updated_at", now)):
        set_committed_value(submission, name, value)


def step_complete(step: Step, submission: Submission, today: dt.date) -> bool:
    if step.id not in submission.steps_done:
        return False
    answers = submission.answers
    if not fields_complete(step, answers, today):
        return False
    return not procedures.validate_step(submission.procedure_id, step.id, answers)


def fields_complete(step: Step, answers: dict[str, Any], today: dt.date) -> bool:
    """Every field of the step that applies has a valid answer (or is optional and empty), and
    its `checks:` hold."""
    for f in logic.applicable_fields(step, answers, today):
        value = answers.get(f.name)
        if value is None or value == [] or (f.type == "declaration" and value is False):
            if f.required:
                return False
            continue
        if f.field_type.check_value(f, value):
            return False
    return not logic.check_errors(step, answers, today)


def mark_step_done(
    session: Session, submission: Submission, step_id: str, now: dt.datetime
) -> None:
    """Count a step as gone through without a page (a bundle filled every field on it)."""
    if step_id in submission.steps_done:
        return
    steps_done = [*submission.steps_done, step_id]
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == workflow_of(submission).initial)
        .values(steps_done=steps_done, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if _row_count(result) != 1:
        raise DraftNotEditable(submission.public_id)
    set_committed_value(submission, "steps_done", steps_done)
    set_committed_value(submission, "updated_at", now)


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
    *,
    roles: set[str] | None = None,
    actor_id: str | None = None,
    comment: str | None = None,
    expected: str | None = None,
    **values: Any,
) -> bool:
    """Apply a workflow transition with a conditional UPDATE; False if another request won.

    Staff transitions name the roles that may apply them: `roles` are the member's roles in the
    case's department. `expected` is the status the actor saw (a staff page's form): when the
    case has moved on since, nothing happens and False is returned, as when losing a race."""
    workflow = workflow_of(submission)
    source = submission.status
    if expected is not None and expected != source:
        return False
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
    if actor == "staff" and not (roles or set()) & set(match.roles):
        raise TransitionRefused(f"{name!r} needs one of the roles {match.roles}")
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == source)
        .values(status=match.target, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if _row_count(result) != 1:
        session.refresh(submission)
        return False
    session.add(
        SubmissionEvent(
            submission_id=submission.id,
            transition=name,
            from_status=source,
            to_status=match.target,
            actor=actor,
            actor_id=actor_id,
            comment=comment,
            at=now,
        )
    )
    session.flush()
    session.refresh(submission)
    return True


def search_text(submission: Submission) -> str | None:
    """The applicant's name and kana for the staff inbox's search: the first person answered
    (the applicant in every procedure's first step), NFKC, without spaces, kana in katakana."""
    answers = submission.answers
    for f in procedure_of(submission).fields():
        value = answers.get(f.name)
        if f.type == "person" and isinstance(value, dict):
            text = f"{value.get('name', '')} {value.get('kana', '')}"
            return normalize_search(text)[:300] or None
    # Procedures that ask the name as two text fields (住民票の写し, for one).
    text = f"{answers.get('applicant_name') or ''} {answers.get('applicant_kana') or ''}"
    return normalize_search(text)[:300] or None


def normalize_search(text: str) -> str:
    """Also for what staff type: full-width/half-width alike, hiragana as katakana."""
    return japanese.to_katakana("".join(unicodedata.normalize("NFKC", text).split()))


def submit(
    session: Session,
    submission: Submission,
    declared: bool,
    status_link_key: str,
    today: dt.date,
    now: dt.datetime,
    on_submitted: Callable[[Session, Submission, dt.datetime], None] | None = None,
) -> Submission:
    """Submit a complete draft. Idempotent: a submission already made is returned as it is.

    `on_submitted` (the channels' after-submit hooks, `Extensions.submitted`) runs once, in this
    transaction, when this call made the submission (not when a concurrent request did)."""
    if not is_draft(submission):
        return submission
    procedure = procedure_of(submission)
    incomplete = first_incomplete_step(submission, today)
    if incomplete is not None:
        raise IncompleteAnswers(incomplete)
    if procedure.declaration and not declared:
        raise DeclarationMissing()
    if procedure.identity_level == "signature" and not submission.signature:
        raise SignatureMissing()
    fee = logic.fee_amount(procedure, submission.answers, today)
    reference = new_reference()
    while session.scalar(select(Submission.id).where(Submission.reference == reference)):
        reference = new_reference()
    won = transition(
        session,
        submission,
        "submit",
        "resident",
        now,
        reference=reference,
        submitted_at=now,
        # The resident's language now: later mail about it is written in it (decision 0074).
        lang=current_language(),
        applicant_search=search_text(submission),
        fee_amount=fee,
        payment_status=_payment_status(procedure, fee),
        status_token_hash=token_hash(status_token(status_link_key, submission)),
    )
    if won and on_submitted is not None:
        on_submitted(session, submission, now)
    # Whether this request won or a concurrent one did, the row now holds the one submission.
    return submission


def signed_content(
    session: Session, submission: Submission, answers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The document the resident signs: the stored answers, the attachments by hash, who applies
    and for whom (portal.identity.signature.signed_content, canonicalised with RFC 8785).
    `answers`: another version of the answers (the one signed, when corrected since)."""
    from portal.identity import signature

    answers = dict(submission.answers if answers is None else answers)
    tokens = set(_upload_tokens(procedure_of(submission), answers))
    acting = submission.acting_for if acting_for_someone(submission) else None
    if acting:
        tokens.update(acting.get("letter") or [])
    uploads = session.scalars(
        select(Upload).where(Upload.submission_id == submission.id, Upload.token.in_(tokens))
    )
    procedure = procedure_of(submission)
    if acting:
        answers["_acting_for"] = {k: v for k, v in acting.items() if k != "letter"}
    return signature.signed_content(
        procedure_id=procedure.id,
        procedure_title=procedure.title,
        answers=answers,
        attachments=[
            {"field": u.field_name, "filename": u.filename, "sha256": u.sha256} for u in uploads
        ],
        applicant_sub=submission.owner_sub or "",
        person_concerned=submission.subject_person_id if acting_for_someone(submission) else None,
    )


def _upload_tokens(procedure: Procedure, answers: dict[str, Any]) -> list[str]:
    tokens = []
    for f in procedure.fields():
        if f.type == "file" and answers.get(f.name):
            tokens.extend(answers[f.name])
    return tokens


def attach_signature(
    session: Session, submission: Submission, signature: dict[str, Any], now: dt.datetime
) -> None:
    """Keep the signature with the draft it was made for (guarded: only while a draft)."""
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == workflow_of(submission).initial)
        .values(signature=signature, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if _row_count(result) != 1:
        raise DraftNotEditable(submission.public_id)
    set_committed_value(submission, "signature", signature)


def withdraw(session: Session, submission: Submission, now: dt.datetime) -> bool:
    """The resident withdraws (取下げ) while no staff decision has been made."""
    return transition(session, submission, "withdraw", "resident", now)


def can_withdraw(submission: Submission) -> bool:
    workflow = workflow_of(submission)
    return any(
        t.name == "withdraw" and t.source == submission.status and t.by == "resident"
        for t in workflow.transitions
    )


def refresh_snapshot(
    session: Session, catalog: CatalogData, submission: Submission, today: dt.date
) -> list[Step]:
    """Move a draft to the catalog's current version of its procedure. Returns the steps that
    changed (the resident is taken through those again); answers that no longer fit are dropped."""
    current = catalog.procedure(submission.procedure_id)
    if current is None or not is_draft(submission):
        return []
    if matches(current, submission.snapshot["procedure"]):
        return []
    old = procedure_of(submission)
    old_steps = {s.id: s.model_dump(mode="json") for s in old.steps}
    changed = [s for s in current.steps if old_steps.get(s.id) != s.model_dump(mode="json")]
    changed_ids = {s.id for s in changed}
    answers = {}
    for f in current.fields():
        value = submission.answers.get(f.name)
        if value is not None and not f.field_type.check_value(f, value):
            answers[f.name] = value
    submission.snapshot = {
        "procedure": copy.deepcopy(dumped(current)),  # the cached dump is shared: never stored
        "workflow": catalog.workflows[current.workflow].model_dump(mode="json", by_alias=True),
    }
    submission.answers = logic.prune(current, answers, today)
    submission.steps_done = [s for s in submission.steps_done if s not in changed_ids]
    session.flush()
    return changed


def _undecided(step: Step, answers: dict[str, Any]) -> bool:
    """The step's condition reads an answer not given yet: whether it applies is not known."""
    if step.when is None:
        return False
    return any(name.split(".")[0] not in answers for name in logic.rule(step.when).names)


def _row_count(result: Result[Any]) -> int:
    """The rows an UPDATE changed (its result is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount
