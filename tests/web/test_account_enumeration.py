"""Nobody learns who has an account (decision 0045): staff sign-in refusals read the same for an
unknown login id, a wrong password and a locked account (the right password included), cost the
same password-hash work, and the lockout still works (tests/web/test_staff.py); resume codes and
status links answer an unknown value and someone else's alike."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from portal import clock
from portal.db import db
from portal.staff import service as staff_service
from portal.staff.models import StaffMember
from portal.submissions import service
from portal.submissions.models import Submission
from tests.factories import PASSWORD, post_form, submitted

MEMBER = "kosodate-clerk"


@pytest.fixture(autouse=True)
def _room_for_attempts(app):
    """These tests make more sign-in attempts than one address may (limits read per request)."""
    app.config["RATELIMIT_LOGIN"] = "1000 per minute"


def answer(app, login_id: str, password: str) -> tuple[int, list[tuple[str, str]], str]:
    """What a fresh browser is told: status, headers (cookie values left out), body (the CSRF
    token and the login id typed left out)."""
    response = post_form(
        app.test_client(), "/staff/login", {"login_id": login_id, "password": password}
    )
    headers = sorted(
        (name, re.sub(r"=[^;]*", "=…", value, count=1) if name == "Set-Cookie" else value)
        for name, value in response.headers.items()
        if name not in {"Content-Length", "X-Request-ID"}  # a new random id every request
    )
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
    return response.status_code, headers, body.replace(login_id, "LOGIN-ID")


def lock(app, login_id: str) -> None:
    for _ in range(staff_service.MAX_FAILURES):
        answer(app, login_id, "wrong password")
    with app.app_context():
        member = db.session.scalar(select(StaffMember).where(StaffMember.login_id == login_id))
        assert member.locked_until is not None and member.locked_until > clock.now()


def test_unknown_and_locked_login_ids_get_the_same_answer(app, staff):
    unknown = answer(app, "nobody-here", "wrong password")
    assert unknown[0] == 200 and "ログインIDまたはパスワードが違うか" in unknown[2]
    wrong_password = answer(app, MEMBER, "wrong password")
    lock(app, MEMBER)
    locked_wrong = answer(app, MEMBER, "wrong password")
    locked_right = answer(app, MEMBER, PASSWORD)
    assert wrong_password == unknown
    assert locked_wrong == unknown
    assert locked_right == unknown
    # An inactive account too.
    with app.app_context():
        db.session.execute(
            update(StaffMember).where(StaffMember.login_id == "shimin-clerk").values(active=False)
        )
        db.session.commit()
    assert answer(app, "shimin-clerk", PASSWORD) == unknown


def test_unknown_ids_cost_the_same_password_hash_work(app, staff, monkeypatch):
    hashes: list[str] = []
    real_verify = PasswordHasher.verify

    def counting(self, hash_: str, password: str) -> bool:
        hashes.append(hash_)
        return real_verify(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    answer(app, "nobody-here", "wrong password")
    answer(app, MEMBER, "wrong password")
    lock(app, MEMBER)
    hashes.clear()
    answer(app, MEMBER, PASSWORD)  # locked: still verified
    answer(app, "nobody-here", PASSWORD)
    assert len(hashes) == 2
    # The unknown id is verified against a hash of the same parameters as the members'.
    params = [h.split("$")[3] for h in hashes]
    assert params[0] == params[1]


def test_the_lockout_itself_still_holds(app, staff):
    lock(app, MEMBER)
    client = app.test_client()
    response = post_form(client, "/staff/login", {"login_id": MEMBER, "password": PASSWORD})
    assert response.status_code == 200  # not on to the code page
    clock.set_override(clock.now() + dt.timedelta(minutes=16))
    response = post_form(client, "/staff/login", {"login_id": MEMBER, "password": PASSWORD})
    assert response.headers["Location"] == "/staff/login/code"


def _resume_answer(app, code: str) -> tuple[int, str]:
    response = post_form(app.test_client(), "/resume", {"code": code})
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
    return response.status_code, body.replace(code, "CODE")


def test_resume_codes_unknown_expired_or_submitted_read_alike(app):
    with app.app_context():
        catalog = app.extensions["catalog"]
        procedure = catalog.procedure("juminhyo-copy")
        expired, _ = service.start_draft(db.session, catalog, procedure, clock.now())
        expired_code = service.issue_resume_code(
            db.session, expired, clock.now() - dt.timedelta(days=31)
        )
        db.session.commit()
    done = submitted(app, "juminhyo-copy")
    with app.app_context():
        row = db.session.get(Submission, done.id)
        done_code = service.issue_resume_code(db.session, row, clock.now())
        db.session.commit()
    unknown = _resume_answer(app, "ABCD-EFGH-JKMN")
    assert unknown[0] == 200 and "再開コードが正しくないか" in unknown[1]
    assert _resume_answer(app, expired_code) == unknown
    assert _resume_answer(app, done_code) == unknown


def test_status_links_of_someone_elses_application_read_like_unknown_ones(app):
    made = submitted(app, "juminhyo-copy")
    with app.app_context():
        row = db.session.get(Submission, made.id)
        row.owner_sub = "sub-owner"
        db.session.commit()
        token = service.status_token(app.config["STATUS_LINK_KEY"], row)
    stranger = app.test_client()
    with stranger.session_transaction() as web_session:
        web_session["user"] = {"sub": "sub-stranger", "name": "テスト", "provider": "jpki"}
    theirs = stranger.get(f"/status/{token}")
    unknown_token = "A" * len(token)
    unknown = stranger.get(f"/status/{unknown_token}")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.text.replace(token, unknown_token) == unknown.text
