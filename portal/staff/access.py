"""Who may see what on the staff pages: the signed-in member (the gate in front of every page
of the blueprint), a case scoped to the member's departments, and the audit entry of each
access to a case.

Every page but the two sign-in pages answers 404 to anyone not signed in as staff — the same 404
as for a case of another department, so the pages do not even confirm they exist. The route
modules import the helpers from here (never from one another), so they form no circle.
"""

from __future__ import annotations

from flask import abort, current_app, g, request, session

from portal import audit, clock
from portal.db import db
from portal.staff import bp, case_service
from portal.staff.models import StaffMember
from portal.submissions.models import Submission

SIGN_IN_ENDPOINTS = {"staff.login", "staff.code"}


def _load_staff() -> StaffMember | None:
    data = session.get("staff")
    if not data:
        return None
    member = db.session.get(StaffMember, data["id"])
    if member is None or not member.active or member.session_generation != data["generation"]:
        return None
    return member


# GET pages that write (the audit entry of a view): on SQLite they take the write lock when their
# transaction begins rather than failing to upgrade a read later.
WRITING_GETS = {"staff.submission", "staff.case_file"}


@bp.before_request
def _require_staff():
    if request.endpoint in WRITING_GETS:
        db.will_write()
    g.current_staff = _load_staff()
    if g.current_staff is None and request.endpoint not in SIGN_IN_ENDPOINTS:
        abort(404)


@bp.app_context_processor
def _staff_context() -> dict:
    return {"current_staff": g.get("current_staff")}


def _catalog():
    return current_app.extensions["catalog"]


def _case(public_id: str) -> Submission:
    """A submitted application of one of the member's departments; 404 for anything else."""
    submission = case_service.submitted_case(db.session, public_id)
    if submission is None or submission.department not in g.current_staff.departments():
        abort(404)
    return submission


def _audit(submission: Submission, action: str, reason: str | None = None) -> None:
    audit.record(
        db.session,
        actor=f"staff:{g.current_staff.id}",
        action=action,
        target=f"submission:{submission.public_id}",
        department=submission.department,
        reason=reason,
        at=clock.now(),
    )
