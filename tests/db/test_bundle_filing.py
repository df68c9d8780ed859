"""Filing a bundle on the real database (SQLite, and PostgreSQL in CI): all or nothing, since a
member that cannot be submitted leaves, after the caller's rollback, no member submitted and the
bundle a draft with every answer kept; and simultaneous submits of one bundle give one bundle
reference with every member submitted exactly once."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.bundles import service
from portal.bundles.models import Bundle
from portal.catalog import logic
from portal.demo import example_answers
from portal.submissions import service as submissions
from portal.submissions.models import Submission, SubmissionEvent
from tests.concurrency import run_together

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo
TODAY = dt.date(2026, 11, 22)
KEY = "k" * 32
MEMBERS = ["tennyu-yoyaku", "kokuho-kanyu-dattai", "kodomo-iryohi"]
SCREENING = {
    "direction": "into",
    "move_date": "2026-11-20",
    "children": True,
    "insurance": "kokuho",
    "care": False,
}
ADDRESS = {"postal_code": "2980004", "prefecture": "千葉県", "city": "いすみ市", "town": "大原"}
SHARED = {
    "phone": "09012345678",
    "email": "yui@example.jp",
    "previous_address": {
        "postal_code": "2730005",
        "prefecture": "千葉県",
        "city": "船橋市",
        "town": "本町",
        "block": "4丁目8番2号",
        "building": "",
    },
    "new_address": {**ADDRESS, "block": "2000番地", "building": ""},
    "movers": [
        {
            "name": "山本 結衣",
            "kana": "ヤマモト ユイ",
            "birth_date": "1992-09-12",
            "relationship": "head",
            "has_card": True,
        },
        {
            "name": "山本 湊",
            "kana": "ヤマモト ミナト",
            "birth_date": "2021-06-03",
            "relationship": "child",
            "has_card": False,
        },
    ],
}


def make_bundle(app, engine) -> int:
    """A moving bundle of three members, every one complete: the catalog's example answers with
    the shared answers filled in, every step gone through."""
    catalog = app.extensions["catalog"]
    event = next(e for e in catalog.life_events if e.id == "moving")
    with app.app_context(), Session(engine) as session:
        bundle, members = service.start(
            session, catalog, event, SCREENING, MEMBERS, NOW, owner_sub="sub-mover", person_id=None
        )
        bundle.shared = dict(SHARED)
        bundle.shared_done = [step.id for step in event.bundle.shared]
        context = service.context_of(bundle)
        for member in members:
            procedure = submissions.procedure_of(member)
            examples = example_answers(app, session, member, procedure, TODAY)
            filled = service.fill_values(event.bundle, procedure, context, TODAY)
            member.answers = logic.prune(procedure, {**examples, **filled}, TODAY)
            member.steps_done = [step.id for step in procedure.steps]
        session.commit()
        for member in members:
            assert submissions.first_incomplete_step(member, TODAY) is None, member.procedure_id
        assert [m.answers["phone"] for m in members] == ["09012345678"] * 3
        return bundle.id


def snapshot(engine, bundle_id: int) -> tuple[Bundle, list[Submission], int]:
    """The bundle, its members and the number of submission events, as committed."""
    with Session(engine, expire_on_commit=False) as session:
        bundle = session.get(Bundle, bundle_id)
        members = service.members_of(session, bundle)
        events = session.scalar(select(func.count()).select_from(SubmissionEvent))
        return bundle, members, events


def break_member(monkeypatch, broken: str) -> list[str]:
    """Make the engine's submit raise for one member (as any unexpected error would)."""
    called: list[str] = []
    original = submissions.submit

    def submit(session, submission, *args, **kwargs):
        called.append(submission.procedure_id)
        if submission.procedure_id == broken:
            raise RuntimeError("the database said no")
        return original(session, submission, *args, **kwargs)

    monkeypatch.setattr(submissions, "submit", submit)
    return called


def make_incomplete(engine, bundle_id: int, procedure_id: str) -> None:
    """Take an answer away from one member: the engine refuses to submit it."""
    with Session(engine) as session:
        bundle = session.get(Bundle, bundle_id)
        member = next(
            m for m in service.members_of(session, bundle) if m.procedure_id == procedure_id
        )
        member.answers = {k: v for k, v in member.answers.items() if k != "delivery"}
        session.commit()


@pytest.mark.parametrize("how", ["raises", "incomplete"])
def test_a_member_that_cannot_be_submitted_files_no_member(app, engine, monkeypatch, how):
    bundle_id = make_bundle(app, engine)
    if how == "raises":
        called = break_member(monkeypatch, "kodomo-iryohi")
    else:
        make_incomplete(engine, bundle_id, "kodomo-iryohi")
    _, before, _ = snapshot(engine, bundle_id)

    with Session(engine) as session:
        bundle = session.get(Bundle, bundle_id)
        members = service.members_of(session, bundle)
        with pytest.raises(service.MemberFailed) as raised:
            service.submit(session, bundle, members, True, KEY, TODAY, NOW)
        assert raised.value.procedure_id == "kodomo-iryohi"
        assert raised.value.title == "子ども医療費助成の申請"
        expected = RuntimeError if how == "raises" else submissions.IncompleteAnswers
        assert isinstance(raised.value.__cause__, expected)
        # Inside the transaction the first two were filed: only the rollback undoes them.
        assert [m.status for m in members[:2]] == ["submitted", "submitted"]
        session.rollback()
    if how == "raises":
        assert called == MEMBERS

    bundle, after, events = snapshot(engine, bundle_id)
    assert bundle.status == "draft"
    assert bundle.reference is None and bundle.submitted_at is None
    assert bundle.shared == SHARED
    assert events == 0
    for old, new in zip(before, after, strict=True):
        assert new.status == "draft", new.procedure_id
        assert new.reference is None and new.submitted_at is None, new.procedure_id
        assert new.status_token_hash is None, new.procedure_id
        assert new.answers == old.answers and new.steps_done == old.steps_done, new.procedure_id

    # Once the member can be submitted, the same bundle files all three together.
    monkeypatch.undo()
    if how == "incomplete":
        with Session(engine) as session:
            bundle = session.get(Bundle, bundle_id)
            member = service.members_of(session, bundle)[2]
            member.answers = {**member.answers, "delivery": "post"}
            session.commit()
    with Session(engine) as session:
        bundle = session.get(Bundle, bundle_id)
        service.submit(session, bundle, service.members_of(session, bundle), True, KEY, TODAY, NOW)
        session.commit()
    bundle, after, events = snapshot(engine, bundle_id)
    assert bundle.status == "submitted" and bundle.reference.startswith("ISB-")
    assert [m.status for m in after] == ["submitted"] * 3
    assert events == 3


@pytest.mark.parametrize("racers", [2, 8])
def test_simultaneous_submits_file_the_bundle_once(app, engine, racers):
    bundle_id = make_bundle(app, engine)
    references: list[str] = []

    def work(n: int) -> None:
        with Session(engine) as session:
            bundle = session.get(Bundle, bundle_id)
            members = service.members_of(session, bundle)
            service.submit(session, bundle, members, True, KEY, TODAY, NOW)
            session.commit()
            references.append(bundle.reference)

    assert run_together(racers, work) == []
    assert len(references) == racers
    assert len(set(references)) == 1
    assert re.fullmatch(r"ISB-[0-9A-Z]{4}-[0-9A-Z]{4}", references[0])

    bundle, members, _ = snapshot(engine, bundle_id)
    assert bundle.status == "submitted" and bundle.reference == references[0]
    assert [m.status for m in members] == ["submitted"] * 3
    assert len({m.reference for m in members}) == 3
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Bundle)) == 1
        submits = Counter(
            session.scalars(
                select(SubmissionEvent.submission_id).where(SubmissionEvent.transition == "submit")
            )
        )
        assert session.scalar(select(func.count()).select_from(SubmissionEvent)) == 3
    assert submits == Counter({m.id: 1 for m in members})


def test_simultaneous_filings_queue_the_deadline_reminders_once(app, engine):
    """Two requests that both found the bundle a draft (a double click, two tabs) file it
    through the views' file_all: one files it, the other finds it filed. The open deadline
    (転入届: the members include 国民健康保険) is reminded of once, not once per request."""
    from portal import clock
    from portal.bundles.views import file_all
    from portal.db import db
    from portal.outbox.models import OutboxMessage

    clock.set_override(NOW)  # the app fixture resets it
    bundle_id = make_bundle(app, engine)
    racers = 2
    loaded = threading.Barrier(racers, timeout=60)
    failed: list[str | None] = []

    def work(n: int) -> None:
        with app.app_context():
            bundle = db.session.get(Bundle, bundle_id)
            members = service.members_of(db.session, bundle)
            assert bundle.status == "draft"
            db.session.commit()
            loaded.wait()  # both read the draft before either files it
            failed.append(file_all(bundle, members))

    assert run_together(racers, work) == []
    assert failed == [None, None]
    bundle, members, events = snapshot(engine, bundle_id)
    assert bundle.status == "submitted" and events == 3
    with Session(engine) as session:
        reminders = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "bundle_deadline_reminder")
        ).all()
    assert [m.subject for m in reminders] == ["【いすみ市】転入届の期限が近づいています"]
