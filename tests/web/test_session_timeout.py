"""The idle-timeout warning's server side: signed-in pages carry the seconds left and the warning,
asking how long is left does not count as activity, extending does (CSRF token required), and
nobody signed in gets no warning and a 401."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from portal import clock
from portal.db import db
from portal.identity.models import WebSession
from tests.conftest import check_page, csrf_token

T0 = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo
JSON = {"Accept": "application/json"}


def at(minutes: float) -> None:
    clock.set_override(T0 + dt.timedelta(minutes=minutes))


@pytest.fixture
def signed_in(client):
    at(0)
    with client.session_transaction() as web_session:
        web_session["user"] = {"sub": "x", "name": "大原 太郎", "provider": "jpki"}
    return client


def last_seen(app) -> dt.datetime:
    with app.app_context():
        return db.session.scalar(select(WebSession.last_seen_at))


def time_left(client):
    return client.get("/session/time-left", headers=JSON)


def extend(client, token: str | None, headers: dict | None = None):
    headers = {**JSON, **({"X-CSRFToken": token} if token else {}), **(headers or {})}
    return client.post("/session/extend", headers=headers)


def test_a_signed_in_page_carries_the_seconds_left_and_the_warning(signed_in):
    soup = check_page(signed_in.get("/"))
    assert soup.body["data-session-seconds-left"] == "1800"
    assert soup.find("script", src="/static/js/session-timeout.js")
    dialog = soup.find(id="session-timeout")
    assert dialog.name == "dialog" and dialog["role"] == "alertdialog"
    assert dialog["aria-modal"] == "true"
    assert soup.find(id=dialog["aria-labelledby"]).get_text() == "まもなくログインが切れます"
    assert "安全のためログインが切れます" in soup.find(id=dialog["aria-describedby"]).get_text()
    form = dialog.find("form")
    assert form["action"] == "/session/extend" and form["method"] == "post"
    assert form.find("input", attrs={"name": "csrf_token"})["value"]
    assert form.button.get_text() == "ログインを延長する"
    expired = dialog.find(attrs={"data-state": "expired"})
    assert expired.has_attr("hidden")
    assert "保存した入力内容は残っています" in expired.get_text()
    assert expired.find("a")["href"] == "/login?next=/"
    assert soup.find(id="session-timeout-status")["aria-live"] == "polite"

    # A page viewed after a pause counts as activity: the page gets a fresh 30 minutes.
    at(5)
    soup = check_page(signed_in.get("/procedures/juminhyo-copy"))
    assert soup.body["data-session-seconds-left"] == "1800"
    assert (
        soup.find(id="session-timeout").find("a")["href"] == "/login?next=/procedures/juminhyo-copy"
    )
    # Within a minute the session is not written again, and the page says so.
    at(5.5)
    assert check_page(signed_in.get("/")).body["data-session-seconds-left"] == "1770"


def test_nobody_signed_in_gets_no_warning(client):
    soup = check_page(client.get("/"))
    assert not soup.body.has_attr("data-session-seconds-left")
    assert soup.find(id="session-timeout") is None
    assert soup.find("script", src="/static/js/session-timeout.js") is None


def test_asking_how_long_is_left_does_not_count_as_activity(app, signed_in):
    at(10)
    response = time_left(signed_in)
    assert response.status_code == 200
    assert response.json == {"signed_in": True, "seconds_left": 1200, "extendable": True}
    assert response.headers["Cache-Control"] == "no-store"
    at(29)
    assert time_left(signed_in).json["seconds_left"] == 60
    assert last_seen(app) == T0
    at(30.5)
    response = time_left(signed_in)
    assert response.status_code == 401 and response.json["signed_in"] is False


def test_extending_counts_as_activity_and_needs_the_csrf_token(app, signed_in):
    token = csrf_token(signed_in.get("/").text)
    assert extend(signed_in, None).status_code == 400
    at(28)
    response = extend(signed_in, token)
    assert response.status_code == 200
    assert response.json == {"signed_in": True, "seconds_left": 1800, "extendable": True}
    assert last_seen(app) == T0 + dt.timedelta(minutes=28)
    # Without the extension it would have ended at 30 minutes; now it runs until 58.
    at(55)
    assert time_left(signed_in).json["seconds_left"] == 180
    assert "大原 太郎 さん" in signed_in.get("/").text


def test_extending_without_javascript_returns_to_the_page(app, signed_in):
    token = csrf_token(signed_in.get("/").text)
    at(28)
    response = signed_in.post(
        "/session/extend",
        data={"csrf_token": token, "next": "/procedures/juminhyo-copy"},
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/procedures/juminhyo-copy"
    assert last_seen(app) == T0 + dt.timedelta(minutes=28)
    response = signed_in.post(
        "/session/extend",
        data={"csrf_token": token, "next": "//evil.example/"},
        headers={"Accept": "text/html"},
    )
    assert response.headers["Location"] == "/"


def test_the_twelve_hour_limit_cannot_be_extended(app, signed_in):
    token = csrf_token(signed_in.get("/").text)
    with app.app_context():
        db.session.execute(update(WebSession).values(expires_at=T0 + dt.timedelta(minutes=12)))
        db.session.commit()
    at(10)
    assert time_left(signed_in).json == {
        "signed_in": True,
        "seconds_left": 120,
        "extendable": False,
    }
    response = extend(signed_in, token)
    assert response.json["seconds_left"] == 120 and response.json["extendable"] is False


def test_nobody_signed_in_gets_a_401(client):
    response = time_left(client)
    assert response.status_code == 401
    assert response.json == {"signed_in": False, "seconds_left": 0, "extendable": False}
    # Without a session there is no CSRF token to send: refused before the view.
    assert extend(client, None).status_code == 400
    # A visitor with an anonymous session (drafts) and a valid token is still not signed in.
    token = csrf_token(client.get("/procedures/juminhyo-copy").text)
    response = extend(client, token)
    assert response.status_code == 401 and response.json["signed_in"] is False
