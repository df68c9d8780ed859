"""What the staff pages read about cases: the newest cases of some departments, one submitted
case by its reference, and what the case page shows beside the answers (attachments, payments,
appointments, the other applications of its bundle, who a staff actor is).

The route modules call these and never query themselves; scoping to the member's departments
stays in portal.staff.access (it needs the signed-in member).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.appointments.models import Appointment
from portal.payments.models import Payment, PaymentItem
from portal.staff.models import StaffMember
from portal.submissions.models import Submission
from portal.uploads.models import Upload

NEWEST = 50  # cases on the staff home page


def newest_cases(session: Session, departments: set[str], limit: int = NEWEST) -> list[Submission]:
    """The latest submitted applications of the departments, newest first."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.department.in_(departments), Submission.submitted_at.is_not(None))
            .order_by(Submission.submitted_at.desc(), Submission.id.desc())
            .limit(limit)
        )
    )


def submitted_case(session: Session, public_id: str) -> Submission | None:
    """A submitted application by its reference (drafts are not cases), else None."""
    submission = session.scalar(select(Submission).where(Submission.public_id == public_id))
    if submission is None or submission.submitted_at is None:
        return None
    return submission


def attachments(session: Session, submission: Submission) -> list[Upload]:
    return list(
        session.scalars(
            select(Upload).where(Upload.submission_id == submission.id).order_by(Upload.id)
        )
    )


def payments(session: Session, submission: Submission) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment)
            .join(PaymentItem, PaymentItem.payment_id == Payment.id)
            .where(PaymentItem.submission_id == submission.id)
            .order_by(Payment.id)
        )
    )


def appointments(session: Session, submission: Submission) -> list[Appointment]:
    """The case's appointments, and those of its bundle."""
    conditions = [Appointment.submission_id == submission.id]
    if submission.bundle_id is not None:
        conditions.append(Appointment.bundle_id == submission.bundle_id)
    return list(
        session.scalars(select(Appointment).where(or_(*conditions)).order_by(Appointment.starts_at))
    )


def bundle_siblings(session: Session, submission: Submission) -> list[Submission]:
    """The other applications filed with it in a bundle, in filing order."""
    if submission.bundle_id is None:
        return []
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.bundle_id == submission.bundle_id, Submission.id != submission.id)
            .order_by(Submission.id)
        )
    )


def member_name(session: Session, actor_id: str | None) -> str | None:
    """The display name of a `staff:<id>` actor; None for anyone else."""
    if not actor_id or not actor_id.startswith("staff:"):
        return None
    member = session.get(StaffMember, int(actor_id.removeprefix("staff:")))
    return member.display_name if member else actor_id


def members_seen_by(session: Session, admin: StaffMember) -> list[StaffMember]:
    """The members an administrator manages: those of their departments, and themselves."""
    return [
        m
        for m in session.scalars(select(StaffMember).order_by(StaffMember.login_id))
        if m.departments() & admin.departments("admin") or m.id == admin.id
    ]
