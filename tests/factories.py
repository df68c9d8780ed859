"""The test-data layer: named states made through the portal's own service layer, never by
clicking through pages a browser test has already walked.

    draft(app, "juminhyo-copy")                     an empty draft
    complete_draft(app, "juminhyo-copy")            every step answered with the examples
    submitted(app, "juminhyo-copy")                 a submitted case (its Submission)
    paid(app, submission_id)                        its fee paid through a provider
    staff_members(app, {"clerk": [("clerk", "kosodate")]})  members; their TOTP secrets
    staff_sign_in(client, "clerk", secret)          a signed-in staff client
    resident_sign_in(client, "parent")              a signed-in resident (needs a stub provider)
    HOIKU_ANSWERS_BEFORE_EMPLOYMENT                 保育's answers, step by step, posted to reach
                                                    its employment step

Each takes the Flask app of the `app` fixture (or a live server's app: tests/e2e/prepared.py);
the test configuration hashes staff passwords cheaply (PASSWORD_HASH_PROFILE=fast).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
from sqlalchemy.orm import Session

from portal import clock
from portal.catalog import logic
from portal.db import db
from portal.submissions import service
from portal.submissions.models import Submission
from tests.conftest import csrf_token

# 保育施設等の利用申込 (/procedures/hoiku-riyou): the answers of the steps before its employment
# step, step by step (one child, one nursery); a test posts them in order to reach that step.
HOIKU_ANSWERS_BEFORE_EMPLOYMENT: dict[str, dict[str, str]] = {
    "guardian": {
        "guardian.name": "大原 花子",
        "guardian.kana": "オオハラ ハナコ",
        "guardian.birth_date": "1995-06-15",
        "phone": "0470621111",
        "address.postal_code": "2988501",
        "address.block": "1",
    },
    "children": {
        "children.count": "1",
        "children.0.child_name": "大原 一郎",
        "children.0.child_kana": "オオハラ イチロウ",
        "children.0.child_birth_date": "2025-08-01",
        "children.0.allergy": "no",
    },
    "preferences": {"nursery_1": "ohara", "start_date": "2027-04-01"},
}

PASSWORD = "correct horse battery"


def draft(app, procedure_id: str, *, owner_sub: str | None = None) -> Submission:
    """A new, empty draft of the procedure (owned by `owner_sub` when given)."""
    with app.app_context():
        catalog = app.extensions["catalog"]
        row, _token = service.start_draft(
            db.session, catalog, catalog.procedure(procedure_id), clock.now()
        )
        if owner_sub:
            row.owner_sub = owner_sub
        db.session.commit()
        return row


def complete_draft(
    app, procedure_id: str, answers: dict[str, Any] | None = None, *, engine=None
) -> int:
    """A draft with every step answered (the catalog's example answers unless given), ready to
    submit; its id. With `engine`, made in a session of its own (the concurrency tests)."""
    catalog = app.extensions["catalog"]
    procedure = catalog.procedure(procedure_id)
    values = answers if answers is not None else dict(procedure.example_answers)
    if engine is None:
        with app.app_context():
            return _complete(db.session, catalog, procedure, values)
    with Session(engine) as session:
        return _complete(session, catalog, procedure, values)


def _complete(session, catalog, procedure, answers: dict[str, Any]) -> int:
    row, _token = service.start_draft(session, catalog, procedure, clock.now())
    row.answers = logic.prune(procedure, answers, clock.today_local())
    row.steps_done = [step.id for step in procedure.steps]
    session.commit()
    return row.id


def submitted(
    app, procedure_id: str, answers: dict | None = None, *, extra: dict | None = None
) -> Submission:
    """A submitted application (the catalog's example answers unless given, read for the
    applicant the way `flask demo load` does; `extra` answers added to them)."""
    with app.app_context():
        catalog = app.extensions["catalog"]
        procedure = catalog.procedure(procedure_id)
        submission, _token = service.start_draft(db.session, catalog, procedure, clock.now())
        from portal.demo import example_answers

        submission.answers = {
            **(
                answers
                or example_answers(app, db.session, submission, procedure, clock.today_local())
            ),
            **(extra or {}),
        }
        submission.steps_done = [s.id for s in procedure.steps]
        db.session.flush()
        service.submit(
            db.session,
            submission,
            True,
            app.config["STATUS_LINK_KEY"],
            clock.today_local(),
            clock.now(),
        )
        db.session.commit()
        return submission


def paid(app, submission_id: int, provider=None) -> int:
    """The application's fee paid by card through `provider` (a FakeProvider by default), the
    way the provider's webhook would report it; the payment's id."""
    from portal.payments import service as payments
    from tests.payment_fakes import FakeProvider

    provider = provider or FakeProvider()
    with app.app_context():
        application = db.session.get(Submission, submission_id)
        payment = payments.create(
            db.session, applications=[application], now=clock.now(), owner_sub=None
        )
        db.session.commit()
        observed = payments.register(provider, payment, "https://portal.example/return")
        payments.registered(db.session, payment, observed, provider.name)
        db.session.commit()
        done = provider.set(observed.id, status="paid", method="card")
        assert payments.apply(db.session, payment, done, source="webhook", now=clock.now())
        db.session.commit()
        return payment.id


def staff_members(app, members: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """{login_id: [(role, department)]} -> {login_id: TOTP secret}; all with PASSWORD."""
    from portal.staff import service as staff_service

    secrets = {}
    with app.app_context():
        for login_id, roles in members.items():
            _member, secret = staff_service.create_member(
                db.session,
                login_id=login_id,
                display_name=f"{login_id} さん",
                password=PASSWORD,
                roles=roles,
                key=app.extensions["submission_services"].my_number_key,
                now=clock.now(),
            )
            secrets[login_id] = secret
        db.session.commit()
    return secrets


def member_id(app, login_id: str) -> int:
    """The database id of a staff member (what `entered_by` and the audit log name)."""
    from sqlalchemy import select

    from portal.staff.models import StaffMember

    with app.app_context():
        return db.session.scalar(select(StaffMember.id).where(StaffMember.login_id == login_id))


def code_for(secret: str, *, ahead: int = 0) -> str:
    """The member's six-digit code now (or `ahead` 30-second steps later)."""
    return pyotp.TOTP(secret).at(clock.now() + dt.timedelta(seconds=30 * ahead))


def post_form(client, url: str, data: dict):
    """POST to a form page with the CSRF token it hands out."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client.get(url).text)})


def staff_sign_in(client, login_id: str, secret: str, ahead: int = 0):
    """A staff client signed in with PASSWORD and the current code."""
    response = post_form(client, "/staff/login", {"login_id": login_id, "password": PASSWORD})
    assert response.headers["Location"] == "/staff/login/code", response.text
    response = post_form(client, "/staff/login/code", {"code": code_for(secret, ahead=ahead)})
    assert response.headers["Location"] == "/staff/", response.text
    return client


def resident_sign_in(client, persona_id: str):
    """A resident signed in with a demo card, through a stub identity provider installed in the
    app (tests/web/test_identity_features.py: the `stub` fixture)."""
    response = client.get(f"/login/callback?as={persona_id}")
    assert response.status_code == 302
    return client


def booked(
    app,
    start: dt.datetime,
    *,
    name: str = "夷隅 花子",
    counter: str = "shimin-main",
    services: tuple[str, ...] = ("juminhyo",),
) -> dict[str, str]:
    """An appointment at `start` (a bookable time after the clock's now), booked through the
    appointments service: its public id, the ticket's QR token and its short check-in code."""
    from portal.appointments import service as appointments

    with app.app_context():
        secret = app.config["SECRET_KEY"]
        visit = appointments.visit_of(app.extensions["catalog"].counter(counter), list(services), 1)
        row = appointments.make(
            db.session,
            visit=visit,
            start=start,
            now=clock.now(),
            secret=secret,
            holder=appointments.holder_key(secret, sub=None, email=f"{start:%H%M}@example.jp"),
            limit=100,
            owner_sub=None,
            submission_id=None,
            details={"name": name, "email": "", "phone": "0470000000", "note": ""},
        )
        db.session.commit()
        return {
            "public_id": row.public_id,
            "ticket": appointments.ticket_token(secret, row.public_id),
            "code": appointments.checkin_code(secret, row.public_id),
        }
