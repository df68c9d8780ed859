"""Kiosk races on both databases (issue 20): the kiosk's next request and the worker's duty
wiping the same idle visit at the same moment wipe it once, both see it over, and nothing is
left; one 「続きはスマートフォンで」 code redeemed twice at once opens the draft once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.identity.models import WebSession
from portal.kiosk import service
from portal.kiosk.models import Kiosk, KioskAlert, KioskVisit
from portal.security import token_hash
from portal.submissions import service as engine_service
from portal.submissions.models import Submission
from portal.uploads.service import FileStore
from tests.concurrency import run_together

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 6, 1, 1, 30, tzinfo=dt.UTC)


def visit_with_draft(app, engine) -> tuple[int, int]:
    """An open visit whose session holds a signed-in resident's half-filled draft."""
    catalog = app.extensions["catalog"]
    with app.app_context(), Session(engine) as session:
        kiosk, _token = service.register(
            session, name="1号機", place="本庁舎1階", actor="staff:1", now=NOW
        )
        visit = service.start_visit(session, kiosk, NOW)
        draft, token = engine_service.start_draft(
            session, catalog, catalog.procedure("juminhyo-copy"), NOW, owner_sub="sub-a"
        )
        session.add(
            WebSession(
                token_hash=token_hash("visit-session"),
                data={service.SESSION_KEY: visit.public_id, "drafts": {"juminhyo-copy": token}},
                created_at=NOW,
                last_seen_at=NOW,
                expires_at=NOW + dt.timedelta(hours=12),
            )
        )
        service.record_drafts(session, visit, kiosk, [token])
        session.commit()
        return visit.id, draft.id


def count(engine, model, *where) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_request_and_the_duty_wipe_an_idle_visit_once(app, engine, tmp_path):
    visit_id, draft_id = visit_with_draft(app, engine)
    files = FileStore()
    later = NOW + dt.timedelta(minutes=5)
    claimed: list[bool] = []

    def wipe(n: int) -> None:
        with Session(engine) as session:
            visit = session.get(KioskVisit, visit_id)
            claimed.append(service.wipe(session, files, visit, later, ("left", "idle")[n]))
            session.commit()

    assert run_together(2, wipe) == []
    assert sorted(claimed) == [False, True]
    assert count(engine, Submission, Submission.id == draft_id) == 0
    assert count(engine, WebSession) == 0
    assert count(engine, KioskVisit, KioskVisit.ended_at.is_(None)) == 0
    assert count(engine, KioskAlert) == 0
    assert count(engine, Kiosk, Kiosk.last_wiped_at == later) == 1


def test_a_handoff_code_used_twice_at_once_opens_the_draft_once(app, engine):
    visit_id, draft_id = visit_with_draft(app, engine)
    with Session(engine) as session:
        visit = session.get(KioskVisit, visit_id)
        kiosk = session.get(Kiosk, visit.kiosk_id)
        code, _handoff = service.hand_over(
            session, visit, kiosk, session.get(Submission, draft_id), "sub-a", NOW, 30
        )
        session.commit()
    opened: list[bool] = []

    def redeem(_n: int) -> None:
        with Session(engine) as session:
            found = service.redeem(session, code, "sub-a", NOW + dt.timedelta(minutes=1))
            session.commit()
            opened.append(found is not None)

    assert run_together(2, redeem) == []
    assert sorted(opened) == [False, True]
