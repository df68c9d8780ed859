"""Database wiring: engine, one session per request, the declarative base, UTC datetimes.

SQLite (WAL) is the embedded default and PostgreSQL is production; both follow one concurrency
pattern (docs/decisions/0004-concurrency.md): state changes are conditional UPDATEs on guarded rows,
and on SQLite a write transaction starts with BEGIN IMMEDIATE and waits on a busy timeout instead
of failing. Requests with a safe method (GET, HEAD) start deferred transactions so readers never
queue behind writers.

A unit of work that locks more than one row takes its locks in one fixed order (`lock_in_order`,
docs/decisions/0046-lock-order-and-retries.md) and runs inside `retrying`: a deadlock or
serialization failure (SQLSTATE 40P01, 40001; SQLite's "database is locked") rolls it back and
runs it again, a bounded number of times, and then answers `Busy` (409, "混み合っています"),
never a 500.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, TypeVar

from flask import Flask, g
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.exceptions import Conflict, HTTPException, ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Deadlock (40P01) and serialization failure (40001): the database chose this transaction to
# fail so that another could go on; running it again is safe and usually succeeds at once.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
RETRY_ATTEMPTS = 3  # runs in all: the first and two retries
RETRY_PAUSE_SECONDS = 0.05  # before retry n: n times this, plus up to as much again (jitter)

# True when the current unit of work may write: SQLite then takes the write lock up front.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use portal.clock.now()")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class SharedJSON(TypeDecorator):
    """JSON read once per distinct stored text, for a large value that many rows hold alike and
    nobody changes in place: a draft's snapshot of its procedure (decision 0061).

    Every draft of a procedure version stores the same snapshot, about 20 KB of JSON whose
    Japanese text is escaped; parsing it was an eighth of a step page's work. Where the driver
    hands the text over (SQLite), the parsed value is kept per text and the same object is
    returned for every row that holds that text. So a value read through this type must never
    be changed in place (assign a new one: a JSON column tracks no in-place change anyway).
    Where the driver parses JSON itself (psycopg), nothing changes. Writing is plain JSON.
    """

    impl = JSON
    cache_ok = True
    LIMIT = 64  # distinct texts kept (procedure versions in use)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Kept by the text's length, then compared whole: every row read brings a new string, and
        # a dict keyed by the text would hash its 20 KB again for every read (decision 0095);
        # comparing two strings of one length is a memory comparison.
        self._parsed: dict[int, list[tuple[str, Any]]] = {}

    def result_processor(self, dialect, coltype):  # type: ignore[no-untyped-def]
        parse = self.impl_instance.result_processor(dialect, coltype)
        if parse is None:
            return None  # the driver returns parsed values (PostgreSQL)
        parsed = self._parsed

        def process(value: Any) -> Any:
            if not isinstance(value, str):
                return parse(value)
            same_length = parsed.get(len(value))
            if same_length is not None:
                for text, found in same_length:
                    if text == value:
                        return found
            found = parse(value)
            if sum(len(kept) for kept in parsed.values()) >= self.LIMIT:
                parsed.clear()  # more versions in use than expected: start again
            parsed.setdefault(len(value), []).append((value, found))
            return found

        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime}


def make_engine(url: str, echo: bool = False, pool: dict[str, Any] | None = None) -> Engine:
    """`pool`: pool_size, max_overflow and pool_timeout (how long a request waits for a
    connection before it is answered "混み合っています": overload is answered, not suffered)."""
    # hide_parameters: SQL echo and error messages never carry the values (personal data).
    if not url.startswith("sqlite"):
        return create_engine(
            url, echo=echo, hide_parameters=True, pool_pre_ping=True, **(pool or {})
        )

    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **(pool or {}),
    )

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection, _record) -> None:
        # Take transaction control from the driver so that we can emit BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # The driver no longer begins transactions (isolation_level None above), so the dialect's
    # own begin, a no-op for pysqlite, sends BEGIN itself. It used to be a "begin" event that
    # sent it with `exec_driver_sql`, a whole statement execution of SQLAlchemy's per
    # transaction (two or three a request); here the same SQL goes straight to the driver, and
    # an error (a database still locked when the busy timeout ends) is wrapped as a DBAPIError
    # as before, since SQLAlchemy calls `do_begin` inside its error handling (decision 0061).
    engine.dialect.do_begin = _begin_sqlite  # type: ignore[method-assign]
    return engine


def _begin_sqlite(dbapi_connection) -> None:
    """BEGIN IMMEDIATE (the write lock up front) when the unit of work may write, else BEGIN."""
    dbapi_connection.driver_connection.execute("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


class Database:
    """Holds the engine and hands out one session per request (closed at teardown)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        pool = {
            "pool_size": app.config["DB_POOL_SIZE"],
            "max_overflow": app.config["DB_POOL_OVERFLOW"],
            "pool_timeout": app.config["DB_POOL_TIMEOUT"],
        }
        if app.config["DATABASE_URL"] in {"sqlite://", "sqlite:///:memory:"}:
            pool = {}  # one in-memory database per connection: no pool to size
        self.engine = make_engine(
            app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"], pool=pool
        )
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        app.extensions["portal_db"] = self
        app.register_error_handler(Busy, _answer_busy)
        app.register_error_handler(PoolTimeout, _answer_overloaded)
        app.register_error_handler(Overloaded, _answer_overloaded)
        app.register_error_handler(DBAPIError, _answer_disconnected)

        @app.before_request
        def _session_store_reached() -> None:
            from flask import session

            if getattr(session, "unavailable", False):
                raise Overloaded()

        @app.before_request
        def _mark_intent() -> None:
            from flask import request

            g._db_intent_token = write_intent.set(request.method not in {"GET", "HEAD", "OPTIONS"})

        @app.teardown_appcontext
        def _close_session(_exc: BaseException | None) -> None:
            session = g.pop("_db_session", None)
            if session is not None:
                session.close()
            token = g.pop("_db_intent_token", None)
            if token is not None:
                write_intent.reset(token)

    @property
    def session(self) -> Session:
        """The request's session (created on first use)."""
        session: Session | None = g.get("_db_session")  # one look through `g` (a step: ~11)
        if session is None:
            assert self.session_factory is not None, "Database.init_app() was not called"
            session = g._db_session = self.session_factory()
        return session

    def discard_uncommitted(self) -> None:
        """Roll back what the request did not commit (teardown would, a moment later). Called
        before the session is saved, so that a view that returns without committing never
        holds SQLite's write lock against its own session save."""
        session = g.get("_db_session")
        if session is not None and session.in_transaction():
            session.rollback()

    def close_session(self) -> None:
        """End the request's session now (the session save, the last thing a request does with
        the database): what it did not commit is rolled back as teardown would a moment later,
        without first expiring every object it loaded, as a rollback does (decision 0073). A
        later use in the same request opens a new session."""
        session = g.pop("_db_session", None)
        if session is not None:
            session.close()

    def will_write(self) -> None:
        """A GET that writes (a callback from the card service): SQLite takes the write lock
        when this request's transaction begins, instead of failing to upgrade a read later.
        Call it after any calls to other services, before the first query."""
        write_intent.set(True)


db = Database()


# -- lock order and retries (docs/decisions/0046-lock-order-and-retries.md) ----------------------


class Busy(Conflict):
    """A unit of work kept meeting deadlocks or serialization failures: answered with 409 (the
    request lost a race with others; nothing changed, sending it again is safe) and a page that
    says so in Japanese and keeps what was entered, or a JSON error under the APIs. Not a 5xx:
    nothing is wrong with the service (docs/decisions/0046-lock-order-and-retries.md)."""

    description = "混み合っています。少し待ってから、もう一度お試しください。"


def retryable(error: BaseException) -> bool:
    """A deadlock or serialization failure (PostgreSQL) or a busy database (SQLite)."""
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(error.orig, sqlite3.OperationalError) and "database is locked" in str(
        error.orig
    )


def retrying(
    session: Session,
    work: Callable[[], T],
    *,
    attempts: int = RETRY_ATTEMPTS,
    pause: float = RETRY_PAUSE_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `work` (one unit of work on `session`, its commit included) and return its result.
    A deadlock or serialization failure rolls the session back and runs `work` again, up to
    `attempts` runs in all; then `Busy`. Any other error passes through untouched. `work` must
    start from what is in the database, not from objects loaded before it (the rollback
    expires them)."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if not retryable(error):
                raise
            session.rollback()
            code = getattr(error.orig, "sqlstate", None) or "sqlite-busy"
            if attempt == attempts:
                log.warning("transaction given up after %d runs: %s", attempts, code)
                raise Busy() from error
            log.info("transaction retried after %s (run %d of %d)", code, attempt, attempts)
            sleep(pause * attempt * (1 + random.random()))  # noqa: S311 - jitter, not a secret
    raise AssertionError("attempts must be at least 1")


def retried_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view whose whole request is one unit of work (it commits once, at the end, and calls
    no outside service before that): `retrying` runs it again on a deadlock."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return retrying(db.session, lambda: view(*args, **kwargs))

    return wrapper


# Posted fields never written back into a page: secrets the person types again.
NOT_RESENT = frozenset({"csrf_token", "password", "pin", "code", "otp", "totp"})


class Overloaded(ServiceUnavailable):
    """Every database connection was in use for DB_POOL_TIMEOUT seconds: the instance is
    saturated. 503 with Retry-After and the same "混み合っています" page (nothing was done)."""

    description = "混み合っています。しばらくしてからもう一度お試しください。"


OVERLOAD_RETRY_AFTER = "30"


def _answer_overloaded(_error: PoolTimeout | Overloaded) -> Any:
    logging.getLogger(__name__).warning("overloaded: no database connection within the timeout")
    return _answer_busy(Overloaded(), status=503, retry_after=OVERLOAD_RETRY_AFTER)


def is_disconnect(error: BaseException) -> bool:
    """The database connection was lost (the server restarted, an operator or a failover cut
    it): SQLAlchemy has invalidated it and the pool reconnects on the next checkout."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _answer_disconnected(error: DBAPIError) -> Any:
    """A connection lost in the middle of a request: its transaction was rolled back by the
    server, so the resident gets the 503 「混み合っています」 page and tries again (decision 0053).
    Any other database error stays a 500."""
    if not is_disconnect(error):
        raise error
    logging.getLogger(__name__).warning("database connection lost during the request")
    return _answer_busy(Overloaded(), status=503, retry_after=OVERLOAD_RETRY_AFTER)


def _answer_busy(error: HTTPException, status: int = 409, retry_after: str = "2") -> Any:
    """409 for `Busy` (503 when overloaded). A blueprint that formats its own HTTP errors (the
    JSON APIs) formats this one; pages get "混み合っています" and, after a POST, a button that
    sends what was entered again (the same fields to the same address), so nothing typed is
    lost."""
    from flask import current_app, render_template, request, url_for

    for name in request.blueprints:
        own = current_app.error_handler_spec.get(name, {}).get(None, {}).get(HTTPException)
        if own is not None:
            response = current_app.make_response(own(error))
            response.headers["Retry-After"] = retry_after
            return response
    # The address of this page, rebuilt from its route (always a path on this site), with the
    # query string it came with.
    again = url_for(request.endpoint, **(request.view_args or {})) if request.endpoint else "/"
    if request.query_string:
        again += "?" + request.query_string.decode("latin-1")
    resend = None
    # Overloaded: no resend button (its new CSRF token could not be kept in the session store);
    # the page says the browser's Back button brings the form back with what was entered.
    if request.method == "POST" and status != 503:
        resend = {
            "action": again,
            "fields": [
                (name, value)
                for name, value in request.form.items(multi=True)
                if name not in NOT_RESENT and not name.endswith("password")
            ],
            "files": any(f.filename for f in request.files.values()),
        }
    html = render_template(
        "errors/busy.html",
        resend=resend,
        again=again,
        status=status,
        posted=request.method == "POST",
    )
    return html, status, {"Retry-After": retry_after}


def lock_in_order(session: Session, key: InstrumentedAttribute[Any], ids: Iterable[Any]) -> None:
    """Lock the rows of one table whose `key` (the primary key) is in `ids`, in ascending order
    (SELECT ... ORDER BY key FOR UPDATE: PostgreSQL locks the sorted rows one after the other).
    Every unit of work that locks several rows of a table does it through here, so two of them
    never wait for each other in a circle. SQLite needs nothing: BEGIN IMMEDIATE already holds
    the one write lock of the whole database."""
    wanted = sorted(set(ids))
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(key).where(key.in_(wanted)).order_by(key).with_for_update()).all()
