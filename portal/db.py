"""Database wiring: engine, one session per request, the declarative base, UTC datetimes.

SQLite (WAL) is the embedded default and PostgreSQL is production; both follow one concurrency
pattern (docs/decisions/0004-concurrency.md): state changes are conditional UPDATEs on guarded rows,
and on SQLite a write transaction starts with BEGIN IMMEDIATE and waits on a busy timeout instead
of failing. Requests with a safe method (GET, HEAD) start deferred transactions so readers never
queue behind writers.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar

from flask import Flask, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000

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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime}


def make_engine(url: str, echo: bool = False) -> Engine:
    # hide_parameters: SQL echo and error messages never carry the values (personal data).
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True)

    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
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

    @event.listens_for(engine, "begin")
    def _begin_sqlite(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

    return engine


class Database:
    """Holds the engine and hands out one session per request (closed at teardown)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"])
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        app.extensions["portal_db"] = self

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
        if "_db_session" not in g:
            assert self.session_factory is not None, "Database.init_app() was not called"
            g._db_session = self.session_factory()
        return g._db_session

    def discard_uncommitted(self) -> None:
        """Roll back what the request did not commit (teardown would, a moment later). Called
        before the session is saved, so that a view that returns without committing never
        holds SQLite's write lock against its own session save."""
        session = g.get("_db_session")
        if session is not None and session.in_transaction():
            session.rollback()

    def will_write(self) -> None:
        """A GET that writes (a callback from the card service): SQLite takes the write lock
        when this request's transaction begins, instead of failing to upgrade a read later.
        Call it after any calls to other services, before the first query."""
        write_intent.set(True)


db = Database()
