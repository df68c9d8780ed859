"""What a person sees when a unit of work keeps meeting deadlocks (portal.db.retrying gives up):
409, never a 500; a Japanese page that says 混み合っています, with a button that sends what was
entered again (secrets and the old CSRF token left out); nothing changed in the database. A unit
that meets one deadlock is simply run again. The JSON API answers in JSON. A saturated instance
(no database connection within DB_POOL_TIMEOUT) answers 503 with Retry-After (issue 24)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from portal import clock
from portal.appointments import service
from portal.appointments.models import Appointment
from portal.clock import TOKYO
from portal.db import RETRY_ATTEMPTS, Busy, db
from tests.conftest import check_page, csrf_token, make_app

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)
QUERY = "service=juminhyo&people=1"


class Deadlock(Exception):
    sqlstate = "40P01"


def deadlock() -> OperationalError:
    return OperationalError("UPDATE appointment_slots ...", {}, Deadlock("deadlock detected"))


@pytest.fixture(autouse=True)
def fixed_clock(app):
    clock.set_override(NOW)
    yield
    clock.set_override(None)


@pytest.fixture
def no_pause(monkeypatch):
    monkeypatch.setattr("portal.db.time.sleep", lambda _seconds: None)


def book(client) -> str:
    url = f"/appointments/shimin-main/2026-12-01?{QUERY}"
    page = client.get(url)
    data = {"time": "09:00", "name": "夷隅 花子", "email": "hanako@example.jp", "phone": ""}
    data.update(service="juminhyo", people="1", csrf_token=csrf_token(page.text))
    response = client.post(url, data=data)
    assert response.status_code == 303, response.text
    return response.headers["Location"].split("?")[0]


def test_a_booking_that_keeps_meeting_deadlocks_gets_the_busy_page_with_its_entries(
    client, app, monkeypatch, no_pause
):
    calls = []

    def always_deadlocked(*args, **kwargs):
        calls.append(1)
        raise deadlock()

    monkeypatch.setattr(service, "make", always_deadlocked)
    url = f"/appointments/shimin-main/2026-12-01?{QUERY}"
    token = csrf_token(client.get(url).text)
    data = {
        "time": "09:00",
        "name": "GONZALEZ RODRIGUEZ MARIA",
        "email": "maria@example.jp",
        "phone": "0470-62-1111",
        "note": "車椅子で伺います",
        "csrf_token": token,
    }
    response = client.post(url, data=data)
    assert len(calls) == RETRY_ATTEMPTS
    soup = check_page(response, 409)
    assert response.headers["Retry-After"] == "2"
    assert soup.h1.get_text() == "混み合っています"
    assert "もう一度お試しください" in soup.get_text()
    form = soup.find("form", attrs={"action": url})
    hidden = {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}
    assert {k: hidden[k] for k in ("time", "name", "email", "phone", "note")} == {
        k: data[k] for k in ("time", "name", "email", "phone", "note")
    }
    assert hidden["csrf_token"]  # a fresh one from this page, so the button works
    assert form.find("button").get_text() == "もう一度送信する"
    with app.app_context():
        assert db.session.scalars(select(Appointment)).all() == []

    monkeypatch.undo()  # the database is free again: the button books
    again = client.post(url, data=hidden)
    assert again.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Appointment.details))["note"] == "車椅子で伺います"


def test_secrets_are_not_written_back_into_the_busy_page(client, app, monkeypatch, no_pause):
    monkeypatch.setattr(service, "make", lambda *a, **k: (_ for _ in ()).throw(deadlock()))
    url = f"/appointments/shimin-main/2026-12-01?{QUERY}"
    token = csrf_token(client.get(url).text)
    response = client.post(
        url,
        data={
            "time": "09:00",
            "name": "夷隅",
            "email": "isumi@example.jp",
            "password": "hunter2",
            "pin": "1234",
            "signature_password": "OHARA2026",
            "csrf_token": token,
        },
    )
    soup = BeautifulSoup(response.text, "html.parser")
    assert response.status_code == 409
    names = [i["name"] for i in soup.find_all("input", type="hidden")]
    assert {"time", "name", "email"} <= set(names)
    assert not set(names) & {"password", "pin", "signature_password"}
    assert names.count("csrf_token") == 1  # the page's own, not the one that was sent
    assert "hunter2" not in response.text and "OHARA2026" not in response.text


def test_one_deadlock_is_run_again_and_the_move_is_made(client, app, monkeypatch, no_pause):
    path = book(client)
    real, calls = service.reschedule, []

    def deadlocked_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise deadlock()
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "reschedule", deadlocked_once)
    day_url = f"{path}/reschedule/2026-12-03"
    token = csrf_token(client.get(day_url).text)
    response = client.post(day_url, data={"time": "14:00", "csrf_token": token})
    assert response.status_code == 303 and len(calls) == 2
    with app.app_context():
        starts = db.session.scalar(select(Appointment.starts_at))
        assert starts == dt.datetime(2026, 12, 3, 14, 0, tzinfo=TOKYO)


def test_the_json_api_answers_busy_in_json(client, monkeypatch):
    def busy(*args, **kwargs):
        raise Busy()

    monkeypatch.setattr("portal.api.views.search", busy)
    response = client.get("/api/v1/procedures")
    assert response.status_code == 409
    assert response.mimetype == "application/json"
    assert response.headers["Retry-After"] == "2"
    assert response.get_json()["error"]["code"] == "conflict"


def test_a_saturated_instance_answers_503_with_retry_after_within_its_timeout(
    database_url, tmp_path
):
    """Every database connection of the instance is in use: the next request waits at most
    DB_POOL_TIMEOUT, then gets 「混み合っています」 (503, Retry-After), told that Back keeps the form;
    the API answers in JSON. When a connection is free again, the page works."""
    import time

    app = make_app(database_url, tmp_path, DB_POOL_SIZE=1, DB_POOL_OVERFLOW=0, DB_POOL_TIMEOUT=0.2)
    client = app.test_client()
    url = f"/appointments/shimin-main/2026-12-01?{QUERY}"
    token = csrf_token(client.get(url).text)
    held = app.extensions["portal_db"].engine.connect()
    try:
        started = time.monotonic()
        response = client.post(
            url, data={"time": "09:00", "name": "夷隅 花子", "csrf_token": token}
        )
        waited = time.monotonic() - started
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        soup = check_page(response, 503)
        assert soup.h1.get_text() == "混み合っています"
        assert "アクセスが集中しているため" in soup.main.get_text()
        assert "「戻る」ボタンで前のページに戻ると残っています" in soup.main.get_text()
        assert not soup.main.select("form"), "no resend: its CSRF token could not be kept"
        fresh = app.test_client().get(url)
        assert fresh.status_code == 503, "a visitor without a session is answered alike"
        assert "Set-Cookie" not in fresh.headers, "no session could be kept"
        assert waited < 5, "the request waited for the pool, then was answered"
        api = client.get("/api/v1/procedures")
        assert api.status_code == 503 and api.is_json and api.headers["Retry-After"] == "30"
    finally:
        held.close()
    assert client.get(url).status_code == 200


def lost_connection() -> OperationalError:
    """What SQLAlchemy raises when the server cut the connection (pg_terminate_backend, a
    restart, a failover): the connection is invalidated."""
    return OperationalError(
        "SELECT ...",
        {},
        Exception("terminating connection due to administrator command"),
        connection_invalidated=True,
    )


def test_a_connection_lost_in_a_request_answers_503_and_other_database_errors_stay_500(
    client, app, monkeypatch
):
    url = f"/appointments/shimin-main/2026-12-01?{QUERY}"
    token = csrf_token(client.get(url).text)

    def cut(*args, **kwargs):
        raise lost_connection()

    monkeypatch.setattr(service, "make", cut)
    data = {"time": "09:00", "name": "夷隅 花子", "email": "hanako@example.jp", "phone": ""}
    response = client.post(url, data={**data, "csrf_token": token})
    soup = check_page(response, 503)
    assert response.headers["Retry-After"] == "30"
    assert soup.h1.get_text() == "混み合っています"

    # Not a lost connection (a bug, a constraint): the usual 500, never passed off as "busy".
    def broken(*args, **kwargs):
        raise OperationalError("SELECT ...", {}, Exception("no such column"))

    monkeypatch.setattr(service, "make", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    token = csrf_token(client.get(url).text)
    response = client.post(url, data={**data, "csrf_token": token})
    assert response.status_code == 500


def test_a_connection_lost_while_reading_the_session_answers_503(client, app, monkeypatch):
    page = client.get("/procedures/juminhyo-copy")
    started = client.post(
        "/procedures/juminhyo-copy/start", data={"csrf_token": csrf_token(page.text)}
    )
    assert started.status_code in (200, 302)
    from portal.identity import sessions

    engine = sessions.db.engine

    class CutOnRead:
        """The engine, except that the session read's connections lose the server (the read
        is a Core query on a connection of its own: decision 0055; on SQLite it goes to the
        driver first, and a driver error there is read again through that query: 0095)."""

        def raw_connection(self):
            raise sqlite3.OperationalError("disk I/O error")

        def connect(self):
            connection = engine.connect()

            def execute(*args, **kwargs):
                raise lost_connection()

            connection.execute = execute  # type: ignore[method-assign]
            return connection

        def __getattr__(self, name):
            return getattr(engine, name)

    assert client.get_cookie("portal_session") is not None
    monkeypatch.setattr(sessions.db, "engine", CutOnRead())
    response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("lost", [1, 2])
def test_a_session_save_that_loses_its_connection_is_made_again_or_says_busy(
    client, app, monkeypatch, lost
):
    """Starting an application stores the new draft in the session. Lost once: saved again on a
    new connection and the resident goes on. Lost twice: 503 「混み合っています」, never a page
    that the next request would contradict (a draft the session forgot)."""
    from portal.identity.sessions import DatabaseSessionInterface

    real = DatabaseSessionInterface._save
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) <= lost:
            raise lost_connection()
        return real(self, *args, **kwargs)

    page = client.get("/procedures/juminhyo-copy")
    monkeypatch.setattr(DatabaseSessionInterface, "_save", flaky)
    started = client.post(
        "/procedures/juminhyo-copy/start", data={"csrf_token": csrf_token(page.text)}
    )
    monkeypatch.setattr(DatabaseSessionInterface, "_save", real)
    if lost == 1:
        assert started.status_code in (200, 302), started.status_code
        assert client.get_cookie("portal_session") is not None
        step = client.get("/procedures/juminhyo-copy/apply/applicant")
        assert step.status_code == 200, "the draft is found through the saved session"
    else:
        soup = check_page(started, 503)
        assert started.headers["Retry-After"] == "30"
        assert "Location" not in started.headers
        assert soup.h1.get_text() == "混み合っています"
        # Told to try again, and indeed nothing to go on with: the session has no draft.
        assert client.get("/procedures/juminhyo-copy/apply/applicant").status_code == 302
