"""Drafts and who may see an application: the procedure and workflow a draft carries, its
bearer and status tokens, resume codes, and the signed-in resident's own applications and those
made for them."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from portal.catalog.schema import Procedure, Workflow
from portal.security import (
    derived_token,
    new_resume_code,
    new_token,
    normalize_resume_code,
    token_hash,
)
from portal.submissions.models import Submission

T = TypeVar("T")


def procedure_of(submission: Submission) -> Procedure:
    """The procedure as it was when the draft started (not the catalog's current entry).

    Validated once per loaded row and snapshot (a request asks several times), and not at all
    when the snapshot equals the catalog's current entry: the catalog's own frozen model is
    that procedure."""
    data = submission.snapshot["procedure"]
    return _memoized(
        submission, "procedure", data, lambda: _catalog_twin(data) or Procedure.model_validate(data)
    )


def workflow_of(submission: Submission) -> Workflow:
    data = submission.snapshot["workflow"]
    name = submission.snapshot["procedure"].get("workflow", "")
    return _memoized(
        submission,
        "workflow",
        data,
        lambda: _catalog_twin_workflow(name, data) or Workflow.model_validate(data),
    )


# Per loaded row: (the snapshot part it was made from, the model). A row whose snapshot is
# replaced (refresh_snapshot) holds a new dict, so its memo no longer matches.
_MEMO: weakref.WeakKeyDictionary[Submission, dict[str, tuple[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _memoized(submission: Submission, part: str, data: Any, make: Callable[[], T]) -> T:
    memo = _MEMO.setdefault(submission, {})
    cached = memo.get(part)
    if cached is not None and cached[0] is data:
        return cached[1]
    model = make()
    memo[part] = (data, model)
    return model


def _catalog_twin(data: dict[str, Any]) -> Procedure | None:
    """The catalog's entry when the snapshot is exactly it (the usual case)."""
    if not has_app_context():
        return None
    catalog = current_app.extensions.get("catalog")
    current = catalog.procedure(data.get("id", "")) if catalog is not None else None
    if current is not None and matches(current, data):
        return current
    return None


def _catalog_twin_workflow(name: str, data: dict[str, Any]) -> Workflow | None:
    if not has_app_context():
        return None
    catalog = current_app.extensions.get("catalog")
    current = catalog.workflows.get(name) if catalog is not None else None
    if current is not None and matches(current, data):
        return current
    return None


_DUMPS: dict[int, tuple[Any, dict[str, Any]]] = {}


def dumped(procedure: Procedure | Workflow) -> dict[str, Any]:
    """The procedure as a snapshot stores it, computed once per catalog model (the catalog is
    immutable; a reloaded catalog has new models, and the old ones' entries are dropped)."""
    entry = _DUMPS.get(id(procedure))
    if entry is not None and entry[0] is procedure:
        return entry[1]
    if len(_DUMPS) > 1000:
        _DUMPS.clear()
    data = procedure.model_dump(mode="json", by_alias=True)
    _DUMPS[id(procedure)] = (procedure, data)
    return data


# Snapshot parts found equal to a catalog model's dump, by identity: (part, model). The rows of
# one procedure version share one parsed snapshot (portal.db.SharedJSON, never changed in
# place), so after the first request the 20 KB comparison is an identity test (decision 0061).
_MATCHES: dict[int, tuple[Any, Any]] = {}


def matches(model: Procedure | Workflow, data: Any) -> bool:
    """Whether a stored snapshot part is exactly the catalog model as a snapshot stores it."""
    entry = _MATCHES.get(id(data))
    if entry is not None and entry[0] is data and entry[1] is model:
        return True
    if dumped(model) != data:
        return False
    if len(_MATCHES) >= 64:
        _MATCHES.clear()
    _MATCHES[id(data)] = (data, model)
    return True


# Built once: every step page and save looks its draft up, and a statement object keeps its
# cache key, so running it again costs no SQL construction (decision 0055).
_BY_DRAFT_TOKEN = select(Submission).where(Submission.draft_token_hash == bindparam("hash"))
_BY_STATUS_TOKEN = select(Submission).where(Submission.status_token_hash == bindparam("hash"))


def find_by_draft_token(session: Session, token: str | None) -> Submission | None:
    if not token:
        return None
    return session.scalar(_BY_DRAFT_TOKEN, {"hash": token_hash(token)})


def find_by_status_token(session: Session, token: str) -> Submission | None:
    return session.scalar(_BY_STATUS_TOKEN, {"hash": token_hash(token)})


def status_token(key: str, submission: Submission) -> str:
    return derived_token(key, "status", submission.public_id)


def is_draft(submission: Submission) -> bool:
    return submission.status == workflow_of(submission).initial


RESUME_DAYS = 30


def issue_resume_code(session: Session, submission: Submission, now: dt.datetime) -> str:
    """A new resume code for a draft (any earlier one stops working)."""
    code = new_resume_code()
    submission.resume_code_hash = token_hash(normalize_resume_code(code))
    submission.resume_expires_at = now + dt.timedelta(days=RESUME_DAYS)
    session.flush()
    return code


def resume_draft(
    session: Session, code: str, now: dt.datetime, owner_sub: str | None = None
) -> tuple[Submission, str] | None:
    """The draft a resume code opens, with a fresh bearer token for this browser; None when the
    code is unknown, expired or its application was already submitted. A code of an anonymous
    draft is a bearer code (whoever holds it opens the draft); a code of a signed-in resident's
    draft opens it only for that resident (`owner_sub`), and answers None to anyone else, the
    same None as an unknown code (decision 0045)."""
    normalized = normalize_resume_code(code)
    if len(normalized) != 12:
        return None
    submission = session.scalar(
        select(Submission).where(Submission.resume_code_hash == token_hash(normalized))
    )
    if submission is None or not is_draft(submission):
        return None
    if submission.owner_sub is not None and submission.owner_sub != owner_sub:
        return None
    if submission.resume_expires_at is None or submission.resume_expires_at <= now:
        return None
    token = new_token()
    submission.draft_token_hash = token_hash(token)
    submission.updated_at = now
    session.flush()
    return submission, token


# How a signed-in resident is related to an application they may see.
ROLE_APPLICANT = "applicant"  # they made it (for themself or for someone else)
ROLE_SUBJECT = "subject"  # someone else made it for them


def _visible(owner_sub: str, person_id: str | None):
    """Their own applications (drafts included), and submitted ones others made for them."""
    condition = Submission.owner_sub == owner_sub
    if person_id:
        made_for_them = (Submission.subject_person_id == person_id) & (
            Submission.submitted_at.is_not(None)
        )
        condition = condition | made_for_them
    return condition


def role_of(submission: Submission, owner_sub: str, person_id: str | None) -> str | None:
    if submission.owner_sub == owner_sub:
        return ROLE_APPLICANT
    if person_id and submission.subject_person_id == person_id and submission.submitted_at:
        return ROLE_SUBJECT
    return None


def applications_of(
    session: Session, owner_sub: str, person_id: str | None = None
) -> list[tuple[Submission, str]]:
    """A signed-in resident's applications, newest first, each with their role in it."""
    rows = session.scalars(
        select(Submission)
        .where(_visible(owner_sub, person_id))
        .order_by(Submission.updated_at.desc(), Submission.id.desc())
    )
    # Every row is visible to them, so each has a role.
    return [
        (submission, role_of(submission, owner_sub, person_id) or ROLE_APPLICANT)
        for submission in rows
    ]


def visible(
    session: Session, owner_sub: str, person_id: str | None, public_id: str
) -> Submission | None:
    """The submission if this resident may see it; None otherwise (shown as 404, not 403)."""
    return session.scalar(
        select(Submission).where(Submission.public_id == public_id, _visible(owner_sub, person_id))
    )


def owned(session: Session, owner_sub: str, public_id: str) -> Submission | None:
    """The submission if this resident made it; None otherwise (shown as 404, not 403)."""
    return session.scalar(
        select(Submission).where(
            Submission.public_id == public_id, Submission.owner_sub == owner_sub
        )
    )


def owned_draft(session: Session, owner_sub: str, procedure_id: str) -> Submission | None:
    """The resident's latest draft of a procedure (to continue after logging in again)."""
    for submission in session.scalars(
        select(Submission)
        .where(
            Submission.owner_sub == owner_sub,
            Submission.procedure_id == procedure_id,
            Submission.bundle_id.is_(None),  # a bundle's drafts are filled in with the bundle
            Submission.entered_by.is_(None),  # a clerk's counter draft stays at the counter
        )
        .order_by(Submission.updated_at.desc(), Submission.id.desc())
    ):
        if is_draft(submission):
            return submission
    return None


def adopt_draft(
    session: Session, submission: Submission, owner_sub: str, person_id: str | None
) -> None:
    """An anonymous draft of this browser becomes the signed-in resident's (they logged in
    while filling it in)."""
    submission.owner_sub = owner_sub
    submission.applicant_person_id = person_id
    submission.subject_person_id = person_id
    session.flush()


def take_over_draft(session: Session, submission: Submission, now: dt.datetime) -> str:
    """A fresh bearer token for the owner's draft in this browser (continuing elsewhere)."""
    token = new_token()
    submission.draft_token_hash = token_hash(token)
    submission.updated_at = now
    session.flush()
    return token


# Relationships of someone acting for another person (代理), as shown to residents and staff.
RELATIONSHIPS = {
    "household": "同じ世帯の家族",
    "family": "別の世帯の家族・親族",
    "care-manager": "ケアマネジャー（居宅介護支援事業者）",
    "guardian": "成年後見人",
    "other": "その他の代理人",
}


def set_subject(
    session: Session,
    submission: Submission,
    *,
    relationship: str,
    subject_person_id: str | None,
    applicant_name: str = "",
    subject_name: str = "",
    subject_birth_date: str | None = None,
    delegation: str | None = None,
    letter: list[dict] | None = None,
) -> None:
    """Record whom the application is about. `relationship` "self", or one of RELATIONSHIPS
    with the delegation: "household_record" (the records show the same household) or "letter"
    (a 委任状 uploaded, checked by staff)."""
    if relationship == "self":
        submission.acting_for = {"relationship": "self"}
        submission.subject_person_id = submission.applicant_person_id
    else:
        if relationship not in RELATIONSHIPS or delegation not in ("household_record", "letter"):
            raise ValueError("unknown relationship or delegation")
        submission.acting_for = {
            "relationship": relationship,
            "applicant_name": applicant_name,
            "subject_name": subject_name,
            "subject_birth_date": subject_birth_date,
            "delegation": delegation,
            "letter": letter or [],
        }
        submission.subject_person_id = subject_person_id
    session.flush()


def acting_for_someone(submission: Submission) -> bool:
    acting = submission.acting_for
    return acting is not None and bool(acting) and acting["relationship"] != "self"
