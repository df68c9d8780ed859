"""A Flask session interface that keeps session data in the database.

The cookie carries a random token (only its SHA-256 is stored). A session ends 12 hours after it
began; a signed-in session (one that holds a "user") also after 30 minutes without a request. An
anonymous session is not cut off after 30 idle minutes: it only points at drafts, and a resident
who pauses must not lose the way back to what they typed. An ended or unknown token gives a
fresh, empty session. `end_session()` deletes the row (logout), and `rotate()` gives the
same data a new token (at login, against session fixation). Sessions are saved through their own
database session, so a view's transaction never carries them. `seconds_left()`, `touch()` and
`leave_untouched()` serve the idle-timeout warning (portal/identity/timeout.py).

Staff pages (/staff/...) have sessions of their own: another cookie, scoped to the path /staff,
so a resident's cookie is never read there and a staff cookie never reaches a resident page. A
signed-in staff session ends after 15 idle minutes.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from typing import Any, NamedTuple

from flask import Flask, Request, Response, current_app, has_request_context, request, session
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import Engine, Row, bindparam, delete, select, update
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.datastructures import CallbackDict

from portal import clock
from portal.db import db, is_disconnect, write_intent
from portal.identity.models import WebSession
from portal.security import new_token, token_hash

IDLE_TIMEOUT = dt.timedelta(minutes=30)
STAFF_IDLE_TIMEOUT = dt.timedelta(minutes=15)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
STAFF_PATH = "/staff"
# Refreshing last_seen_at on every request would make every page view a write.
TOUCH_INTERVAL = dt.timedelta(seconds=60)


def idle_limit(data: dict) -> dt.timedelta:
    if data.get("staff"):
        return STAFF_IDLE_TIMEOUT
    return IDLE_TIMEOUT if data.get("user") else ABSOLUTE_TIMEOUT


def session_seconds_left(now: dt.datetime) -> int | None:
    """Seconds before a signed-in session times out (None when nobody is signed in), for the
    timeout warning (portal/identity/timeout.py)."""
    if not has_request_context():
        return None
    seconds_left = getattr(session, "seconds_left", None)
    return seconds_left(now) if seconds_left else None


def is_staff_path(path: str) -> bool:
    return path == STAFF_PATH or path.startswith(STAFF_PATH + "/")


log = logging.getLogger(__name__)


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(
        self,
        data: dict | None = None,
        token: str | None = None,
        last_seen_at: dt.datetime | None = None,
        expires_at: dt.datetime | None = None,
    ) -> None:
        def on_update(_self: ServerSession) -> None:
            _self.modified = True

        super().__init__(data or {}, on_update)
        self.token = token
        self.last_seen_at = last_seen_at
        self.expires_at = expires_at
        self.modified = False
        self.rotate_requested = False
        self.end_requested = False
        self.touch_requested = False
        self.touch_refused = False
        # When the browser's session has just run out: the `sub` of who was signed in, so that
        # work posted into the ended session can be handed back to the same person only.
        self.expired_sub: str | None = None
        # The store could not be reached in time (every database connection in use): the
        # request is answered 「混み合っています」 and nothing of the session is saved.
        self.unavailable = False

    def rotate(self) -> None:
        """Give this session a new token at the next save (call at login)."""
        self.rotate_requested = True
        self.modified = True

    def end(self) -> None:
        """Delete this session on the server at the next save (logout)."""
        self.clear()
        self.end_requested = True

    def touch(self, now: dt.datetime) -> None:
        """Count this request as activity whatever TOUCH_INTERVAL says (extending a login)."""
        self.last_seen_at = now
        self.touch_requested = True

    def leave_untouched(self) -> None:
        """Do not count this request as activity (asking how long is left must not extend it)."""
        self.touch_refused = True

    def will_touch(self, now: dt.datetime) -> bool:
        """Whether saving this session will move last_seen_at to now."""
        if self.touch_requested or self.modified or self.token is None:
            return True
        if self.touch_refused or self.last_seen_at is None:
            return False
        return now - self.last_seen_at >= TOUCH_INTERVAL

    def seconds_left(self, now: dt.datetime) -> int | None:
        """Seconds until a signed-in session ends (idle or absolute limit, whichever is first),
        counting this request as the save will; None when nobody is signed in."""
        if not (self.get("user") or self.get("staff")):
            return None
        last_seen = now if self.will_touch(now) else self.last_seen_at
        ends = min(last_seen + idle_limit(self), self.expires_at or now + ABSOLUTE_TIMEOUT)
        return max(0, int((ends - now).total_seconds()))

    def can_extend(self, now: dt.datetime) -> bool:
        """Whether activity can still push the end back (not when the 12 hours are nearly up)."""
        return self.expires_at is None or self.expires_at > now + idle_limit(self)


# The query every request with a session cookie runs (built once: a statement object carries its
# cache key, so running it again costs no SQL construction).
_READ_SESSION = select(WebSession.data, WebSession.last_seen_at, WebSession.expires_at).where(
    WebSession.token_hash == bindparam("hash")
)


# SQLite: the same query, compiled once, straight to the driver (decision 0095). One statement
# on a pooled connection needs no transaction of its own (the driver's own transaction handling
# is off: portal.db), and SQLAlchemy's connection, transaction and result objects around it cost
# several times the statement. The columns are converted by their own types' result processors,
# so the values are the ones the Core query gives.
_READ_SESSION_SQLITE = _READ_SESSION.compile(dialect=sqlite_dialect.dialect())
_SQLITE_PROCESSORS: dict[int, tuple[Any, tuple[Any, ...]]] = {}


class _SessionRow(NamedTuple):
    data: dict[str, Any]
    last_seen_at: dt.datetime
    expires_at: dt.datetime


def _read_sqlite(engine: Engine, hashed: str) -> _SessionRow | None:
    dialect = engine.dialect
    found = _SQLITE_PROCESSORS.get(id(dialect))
    if found is None or found[0] is not dialect:
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in _READ_SESSION.selected_columns
        )
        found = _SQLITE_PROCESSORS[id(dialect)] = (dialect, processors)
    connection = engine.raw_connection()
    try:
        driver = connection.driver_connection
        assert driver is not None, "a connection checked out of the pool has its driver's"
        row = driver.execute(_READ_SESSION_SQLITE.string, (hashed,)).fetchone()
    finally:
        connection.close()
    if row is None:
        return None
    return _SessionRow(*(p(v) if p else v for p, v in zip(found[1], row, strict=True)))


class DatabaseSessionInterface(SessionInterface):
    def get_cookie_name(self, app: Flask) -> str:
        production = app.config["PORTAL_ENV"] == "production"
        if is_staff_path(request.path):
            # __Secure-: https only (production); path-scoped, so __Host- cannot be used.
            return "__Secure-staff_session" if production else "portal_staff_session"
        # __Host- binds the cookie to this host, https and path / (production only: needs https).
        return "__Host-session" if production else "portal_session"

    def get_cookie_path(self, app: Flask) -> str:
        return STAFF_PATH if is_staff_path(request.path) else "/"

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return ServerSession()
        now = clock.now()
        try:
            row = self._read(token)
        except (PoolTimeout, DBAPIError) as error:
            if isinstance(error, DBAPIError) and not is_disconnect(error):
                raise
            # Overloaded, or the connection was lost twice: 「混み合っています」 (before_request).
            unavailable = ServerSession()
            unavailable.unavailable = True
            return unavailable
        if row is None:
            return ServerSession()
        if row.expires_at <= now or row.last_seen_at + idle_limit(row.data) <= now:
            fresh = ServerSession()
            user = row.data.get("user")
            fresh.expired_sub = user.get("sub") if isinstance(user, dict) else None
            return fresh
        return ServerSession(dict(row.data), token, row.last_seen_at, row.expires_at)

    @staticmethod
    def _read(token: str) -> Row | _SessionRow | None:
        """The stored session (its data, last_seen_at and expires_at); read again once on a new
        connection when the first was lost (the pool has discarded it: a database restart, a
        failover, a connection cut).

        Every request with a cookie reads this, so it is a Core query of three columns, built
        once, on a plain connection in a read transaction (decision 0055): no ORM session and
        object, and on SQLite no write lock for a read; on SQLite the same query goes straight
        to the driver (decision 0095)."""
        engine = db.engine
        assert engine is not None, "Database.init_app() was not called"
        if engine.dialect.name == "sqlite":
            try:
                return _read_sqlite(engine, token_hash(token))
            except sqlite3.Error:
                pass  # read again below, where an error is handled as every database error is
        intent = write_intent.set(False)
        try:
            for attempt in (1, 2):
                try:
                    with engine.connect() as connection:
                        return connection.execute(
                            _READ_SESSION, {"hash": token_hash(token)}
                        ).first()
                except DBAPIError as error:
                    if attempt == 2 or not is_disconnect(error):
                        raise
                    log.warning("session read: the database connection was lost; reading again")
        finally:
            write_intent.reset(intent)
        return None  # not reached

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.unavailable:
            return  # the browser keeps its cookie; its session is untouched on the server
        # A save whose connection is lost is made again once on a new connection (a new
        # session's token is chosen again: the lost transaction was rolled back).
        before = (session.token, session.rotate_requested, session.expires_at)
        for attempt in (1, 2):
            try:
                self._save(app, session, response)
                return
            except PoolTimeout:
                # Overloaded: the answer (「混み合っています」) goes out; the session is not saved.
                log.warning("session not saved: no database connection within the timeout")
                return
            except DBAPIError as error:
                if not is_disconnect(error):
                    raise
                session.token, session.rotate_requested, session.expires_at = before
                if attempt == 1:
                    log.warning("session save: the database connection was lost; saving again")
        # Lost twice: what the page says happened would not be true on the next request (the
        # draft, the login would be forgotten), so the resident is told to try again instead.
        log.warning("session not saved: the database connection was lost")
        answer_unsaved(response)

    def _save(self, app: Flask, session: ServerSession, response: Response) -> None:
        db.close_session()  # the view's work is over: nothing it left uncommitted is kept
        name = self.get_cookie_name(app)
        now = clock.now()
        if self._nothing_to_write(session, now):
            return  # most requests: no database session at all
        intent = write_intent.set(True)  # SQLite: take the write lock up front
        try:
            with db.session_factory() as store:
                if session.end_requested or (not session and session.token):
                    if session.token:
                        store.execute(
                            delete(WebSession).where(
                                WebSession.token_hash == token_hash(session.token)
                            )
                        )
                        store.commit()
                    response.delete_cookie(name, path=self.get_cookie_path(app))
                    return
                if not session:
                    return  # nothing to keep, nothing was ever stored
                if session.token is None or session.rotate_requested:
                    self._store_new(store, session, now)
                elif session.modified:
                    store.execute(
                        update(WebSession)
                        .where(WebSession.token_hash == token_hash(session.token))
                        .values(data=dict(session), last_seen_at=now)
                    )
                elif session.touch_requested or (
                    session.last_seen_at
                    and not session.touch_refused
                    and now - session.last_seen_at >= TOUCH_INTERVAL
                ):
                    store.execute(
                        update(WebSession)
                        .where(WebSession.token_hash == token_hash(session.token))
                        .values(last_seen_at=now)
                    )
                else:
                    return
                store.commit()
        finally:
            write_intent.reset(intent)
        self._set_cookie(app, name, session, response)

    @staticmethod
    def _nothing_to_write(session: ServerSession, now: dt.datetime) -> bool:
        """What `_save` would find before writing anything (no delete, no insert, no update)."""
        if session.end_requested:
            return False
        if not session:
            return session.token is None  # an emptied stored session is deleted
        if session.token is None or session.rotate_requested or session.modified:
            return False
        if session.touch_requested:
            return False
        return not (
            session.last_seen_at
            and not session.touch_refused
            and now - session.last_seen_at >= TOUCH_INTERVAL
        )

    def _set_cookie(
        self, app: Flask, name: str, session: ServerSession, response: Response
    ) -> None:
        response.set_cookie(
            name,
            session.token or "",
            httponly=True,
            secure=app.config["SESSION_COOKIE_SECURE"],
            samesite="Lax",
            path=self.get_cookie_path(app),
        )

    def _store_new(self, store, session: ServerSession, now: dt.datetime) -> None:
        if session.token is not None:  # rotation: the old token stops working at once
            store.execute(
                delete(WebSession).where(WebSession.token_hash == token_hash(session.token))
            )
        session.token = new_token()
        session.rotate_requested = False
        session.expires_at = now + ABSOLUTE_TIMEOUT
        store.add(
            WebSession(
                token_hash=token_hash(session.token),
                data=dict(session),
                created_at=now,
                last_seen_at=now,
                expires_at=now + ABSOLUTE_TIMEOUT,
            )
        )


PURGE_BATCH = 500


def purge_expired(store, now: dt.datetime) -> int:
    """Delete the sessions that have ended (12 hours after they began, or idle past their
    limit: 30 minutes signed in, 15 for staff; an anonymous session only ends at 12 hours) and
    keep every live one; how many. Safe to run any time, in any number of workers: an idle
    session is deleted only if it was not used since it was read."""
    deleted = store.execute(delete(WebSession).where(WebSession.expires_at <= now)).rowcount
    after = 0
    while True:  # idle candidates, a batch at a time: the limit depends on the session's data
        rows = store.execute(
            select(WebSession.id, WebSession.data, WebSession.last_seen_at)
            .where(
                WebSession.id > after,
                WebSession.expires_at > now,
                WebSession.last_seen_at <= now - min(STAFF_IDLE_TIMEOUT, IDLE_TIMEOUT),
            )
            .order_by(WebSession.id)
            .limit(PURGE_BATCH)
        ).all()
        for row in rows:
            if row.last_seen_at + idle_limit(row.data or {}) <= now:
                deleted += store.execute(
                    delete(WebSession).where(
                        WebSession.id == row.id, WebSession.last_seen_at == row.last_seen_at
                    )
                ).rowcount
        if len(rows) < PURGE_BATCH:
            return deleted
        after = rows[-1].id


def expired_sessions_duty(_should_stop=None) -> str | None:
    """The worker's `expired-sessions` duty (portal/jobs/schedule.py): a line when any went."""
    assert db.session_factory is not None, "Database.init_app() was not called"
    intent = write_intent.set(True)
    try:
        with db.session_factory() as store, store.begin():
            count = purge_expired(store, clock.now())
    finally:
        write_intent.reset(intent)
    return f"sessions: {count} ended session(s) deleted" if count else None


def answer_unsaved(response: Response) -> None:
    """Turn the response into the 503 「混み合っています」 page (Retry-After), in place: the
    session that the page relies on could not be kept."""
    from portal.db import OVERLOAD_RETRY_AFTER, Overloaded, _answer_busy

    busy = current_app.make_response(
        _answer_busy(Overloaded(), status=503, retry_after=OVERLOAD_RETRY_AFTER)
    )
    response.status_code = 503
    response.headers.pop("Location", None)
    response.headers["Retry-After"] = OVERLOAD_RETRY_AFTER
    response.content_type = busy.content_type
    response.set_data(busy.get_data())
