"""Two staff members deciding the same case at the same moment (issue 12): one approves while the
other rejects. Exactly one decision is made and recorded, the other is told it lost (False), on
SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.staff import service as staff_service
from portal.staff import workflow
from portal.staff.models import StaffMember
from portal.submissions import service
from portal.submissions.models import Submission, SubmissionEvent
from tests.factories import complete_draft

pytestmark = pytest.mark.db


def approval_requested_case(app, engine) -> int:
    """A submitted 住民票 request of 市民課, reviewed and waiting for approval."""
    submission_id = complete_draft(app, "juminhyo-copy", engine=engine)
    with Session(engine) as session:
        submission = session.get(Submission, submission_id)
        service.submit(session, submission, True, "k" * 32, clock.today_local(), clock.now())
        for name in ("start_review", "request_approval"):
            assert service.transition(
                session, submission, name, "staff", clock.now(), roles={"clerk", "reviewer"}
            )
        session.commit()
    return submission_id


def make_members(app, engine, count: int) -> list[int]:
    ids = []
    with Session(engine) as session:
        for i in range(count):
            member, _ = staff_service.create_member(
                session,
                login_id=f"approver-{i}",
                display_name=f"決裁者{i}",
                password="correct horse battery",
                roles=[("approver", "shimin")],
                key=app.extensions["submission_services"].my_number_key,
                now=clock.now(),
            )
            session.flush()
            ids.append(member.id)
        session.commit()
    return ids


def test_approve_and_reject_at_once_one_decision_is_made(app, engine):
    submission_id = approval_requested_case(app, engine)
    member_ids = make_members(app, engine, 2)
    choices = [("approve", ""), ("reject", "要件を満たしません")]
    barrier = threading.Barrier(2, timeout=30)
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def racer(member_id: int, name: str, comment: str) -> None:
        try:
            with app.app_context(), Session(engine, expire_on_commit=False) as session:
                submission = session.get(Submission, submission_id)
                member = session.get(StaffMember, member_id)
                _ = member.roles
                session.commit()  # release the read transaction before the race starts
                barrier.wait()
                results[name] = workflow.apply(
                    session,
                    submission,
                    member,
                    name,
                    expected="approval_requested",
                    comment=comment,
                    now=clock.now(),
                )
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=racer, args=(member_id, name, comment))
        for member_id, (name, comment) in zip(member_ids, choices, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results.values()) == [False, True]
    [winner] = [name for name, won in results.items() if won]
    with Session(engine) as session:
        decisions = session.scalars(
            select(SubmissionEvent.transition).where(
                SubmissionEvent.submission_id == submission_id,
                SubmissionEvent.from_status == "approval_requested",
            )
        ).all()
        status = session.scalar(select(Submission.status).where(Submission.id == submission_id))
    assert decisions == [winner]
    assert status == {"approve": "approved", "reject": "rejected"}[winner]


def test_a_member_without_the_role_cannot_decide(app, engine):
    submission_id = approval_requested_case(app, engine)
    with Session(engine) as session:
        member, _ = staff_service.create_member(
            session,
            login_id="clerk-only",
            display_name="窓口",
            password="correct horse battery",
            roles=[("clerk", "shimin")],
            key=app.extensions["submission_services"].my_number_key,
            now=clock.now(),
        )
        submission = session.get(Submission, submission_id)
        with app.app_context(), pytest.raises(service.TransitionRefused):
            workflow.apply(
                session,
                submission,
                member,
                "approve",
                expected="approval_requested",
                now=clock.now(),
            )
        assert submission.status == "approval_requested"
