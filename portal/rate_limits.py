"""Rate-limit counters every instance shares (issue 24).

flask-limiter keeps its counters in the storage `RATELIMIT_STORAGE_URI` names. `memory://` counts
per process, so two gunicorn workers (or two instances) each allowed the full limit. The portal
therefore uses Redis when `PORTAL_REDIS_URL` is set (production requires it) and otherwise this
storage, `portal+db://`: the counters live in the portal's own database (table
`rate_limit_counters`), one atomic upsert per hit, on SQLite and PostgreSQL alike.

Each hit runs in its own short transaction on its own connection (before the view runs, so the
request's own transaction never waits on it). Expired rows are reused by the next hit on the same
key and deleted by the worker's `rate-limit-counters` duty. On SQLite the hit's statement goes
straight to the driver (decision 0091).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from typing import Any

from flask import Flask, current_app, has_request_context
from flask_limiter import Limiter
from limits.storage import Storage
from sqlalchemy import Double, Engine, Integer, String, bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, db, write_intent

KEY_MAX = 200


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(KEY_MAX), primary_key=True)
    count: Mapped[int]
    expires_at: Mapped[float] = mapped_column(Double, index=True)  # epoch seconds


def _key(key: str) -> str:
    """Keys name the client address and the limit; a long one is shortened to a digest."""
    if len(key) <= KEY_MAX:
        return key
    return key[:100] + "#" + hashlib.sha256(key.encode()).hexdigest()


def _upsert_statement(dialect) -> Any:
    """The counting upsert of one hit, with bound values (key, amount, now, expires_at)."""
    table = RateLimitCounter.__table__
    amount = bindparam("amount", type_=Integer)
    now = bindparam("now", type_=Double)
    expires_at = bindparam("expires_at", type_=Double)
    expired = table.c.expires_at <= now
    return (
        dialect.insert(table)
        .values(key=bindparam("key", type_=String), count=amount, expires_at=expires_at)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, amount), else_=table.c.count + amount),
                "expires_at": case((expired, expires_at), else_=table.c.expires_at),
            },
        )
        .returning(table.c.count)
    )


# Built once per dialect: a hit runs on every limited request (every step saved), and a statement
# object keeps its cache key, so running it again costs no SQL construction (decision 0055).
_UPSERTS = {name: _upsert_statement(dialect) for name, dialect in (
    ("postgresql", postgresql), ("sqlite", sqlite)
)}  # fmt: skip


def _upsert(engine: Engine) -> Any:
    return _UPSERTS["postgresql" if engine.dialect.name == "postgresql" else "sqlite"]


# SQLite: the same upsert, compiled once, for the driver itself. A hit is one statement in a
# transaction of its own; SQLAlchemy's connection, transaction and result objects around it cost
# more than the statement (about 0.25 M instructions of a step POST's 0.41 M for the hit).
_SQLITE_UPSERT = _UPSERTS["sqlite"].compile(dialect=sqlite.dialect())
_SQLITE_UPSERT_ORDER = tuple(_SQLITE_UPSERT.positiontup or ())


def _hit_sqlite(engine: Engine, values: dict[str, Any]) -> int:
    """One hit on SQLite: BEGIN IMMEDIATE, the upsert, COMMIT, on a pooled connection, as
    `engine.begin()` sends them (portal.db: the driver's own transaction handling is off). An
    error leaves the transaction to the pool's rollback when the connection goes back."""
    connection = engine.raw_connection()
    try:
        driver = connection.driver_connection
        assert driver is not None, "a connection checked out of the pool has its driver's"
        driver.execute("BEGIN IMMEDIATE")
        rows = driver.execute(
            _SQLITE_UPSERT.string, tuple(values[name] for name in _SQLITE_UPSERT_ORDER)
        ).fetchall()
        driver.execute("COMMIT")
    finally:
        connection.close()
    return int(rows[0][0])


class DatabaseStorage(Storage):
    """A limits storage (fixed windows) in the portal's database."""

    STORAGE_SCHEME = ["portal+db"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (SQLAlchemyError, sqlite3.Error)  # sqlite3's own: a hit on SQLite (_hit_sqlite)

    @staticmethod
    def _engine() -> Engine:
        engine = current_app.extensions["portal_db"].engine
        assert engine is not None, "Database.init_app() was not called"
        return engine

    def _write(self):
        if has_request_context():
            # A hit comes before the view runs, a deferred one after it: either way nothing of
            # the request's own may hold SQLite's write lock against this connection (what is
            # uncommitted after the view would be rolled back at teardown anyway).
            db.discard_uncommitted()
        token = write_intent.set(True)  # SQLite: BEGIN IMMEDIATE, never a lock upgrade
        engine = self._engine()
        return token, engine

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        token, engine = self._write()
        try:
            values = {
                "key": _key(key),
                "amount": amount,
                "now": now,
                "expires_at": now + expiry,
            }
            if engine.dialect.name == "sqlite":
                return _hit_sqlite(engine, values)
            with engine.begin() as connection:
                return int(connection.execute(_upsert(engine), values).scalar_one())
        finally:
            write_intent.reset(token)

    def _row(self, key: str) -> tuple[int, float] | None:
        token = write_intent.set(False)
        try:
            with self._engine().connect() as connection:
                row = connection.execute(
                    select(RateLimitCounter.count, RateLimitCounter.expires_at).where(
                        RateLimitCounter.key == _key(key)
                    )
                ).one_or_none()
                connection.rollback()
        finally:
            write_intent.reset(token)
        if row is None or row.expires_at <= time.time():
            return None
        return row.count, row.expires_at

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        try:
            self.get("check")
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        return self._delete(None)

    def clear(self, key: str) -> None:
        self._delete(_key(key))

    def _delete(self, key: str | None) -> int:
        token, engine = self._write()
        try:
            statement = delete(RateLimitCounter)
            if key is not None:
                statement = statement.where(RateLimitCounter.key == key)
            with engine.begin() as connection:
                return connection.execute(statement).rowcount
        finally:
            write_intent.reset(token)


def purge_expired(engine: Engine, now: float | None = None) -> int:
    """Delete the counters whose window has passed (the worker's duty)."""
    cutoff = time.time() if now is None else now
    token = write_intent.set(True)
    try:
        with engine.begin() as connection:
            return connection.execute(
                delete(RateLimitCounter).where(RateLimitCounter.expires_at <= cutoff)
            ).rowcount
    finally:
        write_intent.reset(token)


def expired_counters_duty(_should_stop=None) -> str | None:
    """The `rate-limit-counters` duty."""
    engine = current_app.extensions["portal_db"].engine
    count = purge_expired(engine)
    return f"rate limits: {count} expired counter(s) deleted" if count else None


def skip_idle_middleware(app: Flask, limiter: Limiter) -> None:
    """flask-limiter's before_request check, only when it can find a limit to count.

    Every limit of the portal is on a view (`limiter.limit` and `shared_limit` decorators), and
    those are checked by the decorator itself. The middleware counts only application, default,
    meta and blueprint limits, limits hinted for the endpoint, and the in-memory fallback when
    the storage is down; with none of those configured it resolved the view's name, its
    exemptions and an empty list on every request (about 4 % of a step page, decision 0061).
    The test is made on every request, so a limit added later is counted as before.
    Relies on flask-limiter's internals (pinned in pyproject.toml; tests/unit/test_rate_limits.py
    checks them)."""
    check = limiter._check_request_limit

    def check_request_limit() -> None:
        if middleware_could_count(limiter):
            check()

    funcs = app.before_request_funcs.get(None, [])
    if check not in funcs:  # RATELIMIT_ENABLED false: flask-limiter registered no check
        return
    funcs[funcs.index(check)] = check_request_limit


def middleware_could_count(limiter: Limiter) -> bool:
    """Whether flask-limiter's before_request check has any limit it could count."""
    manager = limiter.limit_manager
    return bool(
        manager._application_limits
        or manager._default_limits
        or manager._blueprint_limits
        or manager._endpoint_hints
        or limiter._meta_limits
        or (limiter._storage_dead and limiter._in_memory_fallback)
    )
