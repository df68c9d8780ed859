"""The concurrency pattern on the real database: ten submits of one draft released together
produce exactly one submission with one reference (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.submissions import service
from portal.submissions.models import Submission, SubmissionEvent
from tests.factories import complete_draft

pytestmark = pytest.mark.db


def test_ten_simultaneous_submits_make_one_submission(app, engine):
    submission_id = complete_draft(app, "juminhyo-copy", engine=engine)
    barrier = threading.Barrier(10, timeout=30)
    references: list[str] = []
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                submission = session.get(Submission, submission_id)
                session.commit()  # release the read transaction before the race starts
                barrier.wait()
                service.submit(
                    session, submission, True, "k" * 32, clock.today_local(), clock.now()
                )
                session.commit()
                references.append(submission.reference)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=racer) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(references) == 10
    assert len(set(references)) == 1 and references[0].startswith("ISM-")
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(SubmissionEvent)) == 1
        assert session.scalar(select(Submission.status)) == "submitted"


def test_a_guarded_transition_refuses_the_wrong_actor(app, engine):
    submission_id = complete_draft(app, "juminhyo-copy", engine=engine)
    with Session(engine) as session:
        submission = session.get(Submission, submission_id)
        with pytest.raises(service.TransitionRefused):
            service.transition(session, submission, "submit", "staff", clock.now())
