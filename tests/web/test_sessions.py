"""Server-side sessions: the cookie is an opaque token, ending a session ends it for every copy
of the cookie, rotation retires the old token, and the time limits hold."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from flask import session
from sqlalchemy import func, select

from portal import clock, create_app
from portal.db import db
from portal.identity.models import WebSession
from portal.identity.sessions import purge_expired

pytestmark = pytest.mark.db

COOKIE = "portal_session"


@pytest.fixture
def session_app(database_url, clean_db, tmp_path):
    app = create_app("test", {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path)})

    @app.get("/t/set/<value>")
    def set_value(value):
        session["value"] = value
        return "ok"

    @app.get("/t/user/<value>")
    def set_user(value):
        session["user"] = value
        return "ok"

    @app.get("/t/get")
    def get_value():
        return session.get("value", "-")

    @app.get("/t/end")
    def end():
        session.end()
        return "ended"

    @app.get("/t/rotate")
    def rotate():
        session.rotate()
        return "rotated"

    yield app
    clock.set_override(None)


def cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def test_the_cookie_is_an_opaque_token(session_app):
    client = session_app.test_client()
    client.get("/t/set/秘密のメモ")
    token = cookie(client)
    assert "秘密" not in token and "value" not in token and len(token) >= 40
    assert client.get("/t/get").text == "秘密のメモ"
    with session_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == 1
        assert token not in str(db.session.scalar(select(WebSession.token_hash)))


def test_no_row_for_visitors_who_store_nothing(session_app):
    client = session_app.test_client()
    client.get("/t/get")
    assert client.get_cookie(COOKIE) is None
    with session_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_ending_a_session_ends_every_copy_of_the_cookie(session_app):
    client = session_app.test_client()
    client.get("/t/set/a")
    token = cookie(client)
    copy = session_app.test_client()
    copy.set_cookie(COOKIE, token)
    assert copy.get("/t/get").text == "a"
    client.get("/t/end")
    assert client.get("/t/get").text == "-"
    assert copy.get("/t/get").text == "-", "a replayed cookie must not work after the end"


def test_rotation_keeps_the_data_and_retires_the_old_token(session_app):
    client = session_app.test_client()
    client.get("/t/set/b")
    old = cookie(client)
    client.get("/t/rotate")
    new = cookie(client)
    assert new != old
    assert client.get("/t/get").text == "b"
    stale = session_app.test_client()
    stale.set_cookie(COOKIE, old)
    assert stale.get("/t/get").text == "-"


def test_time_limits(session_app):
    start = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
    clock.set_override(start)
    anonymous, signed_in = session_app.test_client(), session_app.test_client()
    anonymous.get("/t/set/draft")
    signed_in.get("/t/set/draft")
    signed_in.get("/t/user/sub-1")

    clock.set_override(start + dt.timedelta(minutes=31))
    assert anonymous.get("/t/get").text == "draft", "a paused resident keeps the way to the draft"
    assert signed_in.get("/t/get").text == "-", "30 idle minutes end a signed-in session"

    clock.set_override(start + dt.timedelta(hours=11, minutes=59))
    assert anonymous.get("/t/get").text == "draft"
    clock.set_override(start + dt.timedelta(hours=12, minutes=1))
    assert anonymous.get("/t/get").text == "-", "12 hours end any session"
    with session_app.app_context():
        assert purge_expired(db.session, clock.now()) == 2


def test_the_session_read_gives_what_the_core_query_gives(session_app, monkeypatch):
    """On SQLite a session is read straight through the driver (decision 0095): the values, with
    their types (a dict, aware UTC datetimes), are the Core query's, on either database; a driver
    error there is read again through SQLAlchemy, as any database error is handled."""
    from portal.identity import sessions as sessions_module

    client = session_app.test_client()
    client.get("/t/set/日本語のメモ")
    token = cookie(client)
    with session_app.app_context():
        with db.engine.connect() as connection:
            core = connection.execute(
                sessions_module._READ_SESSION,
                {"hash": sessions_module.token_hash(token)},
            ).one()
        read = sessions_module.DatabaseSessionInterface._read(token)
        assert read is not None
        assert (read.data, read.last_seen_at, read.expires_at) == tuple(core)
        assert read.data == {"value": "日本語のメモ"}
        assert read.expires_at.tzinfo is dt.UTC and read.last_seen_at.tzinfo is dt.UTC
        assert sessions_module.DatabaseSessionInterface._read("unknown-token") is None

        def locked(*_args):
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(sessions_module, "_read_sqlite", locked)
        again = sessions_module.DatabaseSessionInterface._read(token)
        assert again is not None and tuple(again) == tuple(core)
    assert client.get("/t/get").text == "日本語のメモ"
