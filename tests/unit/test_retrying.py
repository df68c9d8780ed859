"""portal.db.retrying: a deadlock (40P01), a serialization failure (40001) or SQLite's "database
is locked" rolls the unit of work back and runs it again, at most RETRY_ATTEMPTS times in all,
then answers Busy (409); any other database error passes through at once."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.db import RETRY_ATTEMPTS, Busy, retryable, retrying


class Orig(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


class Session:
    def __init__(self) -> None:
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def failing(error: Exception, times: int):
    """A unit of work that raises `error` the first `times` runs, then returns the run count."""
    runs = []

    def work() -> int:
        runs.append(1)
        if len(runs) <= times:
            raise error
        return len(runs)

    return work, runs


def pg_error(sqlstate: str) -> OperationalError:
    return OperationalError("UPDATE appointment_slots ...", {}, Orig(sqlstate))


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_run_again(sqlstate):
    session, pauses = Session(), []
    work, runs = failing(pg_error(sqlstate), times=RETRY_ATTEMPTS - 1)
    assert retrying(session, work, sleep=pauses.append) == RETRY_ATTEMPTS
    assert (len(runs), session.rollbacks, len(pauses)) == (RETRY_ATTEMPTS, RETRY_ATTEMPTS - 1, 2)
    assert all(0 < p < 1 for p in pauses)


def test_after_the_last_attempt_it_is_busy_not_a_500():
    session, pauses = Session(), []
    work, runs = failing(pg_error("40P01"), times=100)
    with pytest.raises(Busy) as raised:
        retrying(session, work, sleep=pauses.append)
    assert len(runs) == RETRY_ATTEMPTS == 3  # bounded: the first run and two retries
    assert session.rollbacks == RETRY_ATTEMPTS and len(pauses) == RETRY_ATTEMPTS - 1
    assert raised.value.code == 409
    assert "混み合っています" in raised.value.description


def test_sqlite_database_is_locked_is_retried_too():
    error = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    assert retryable(error)
    work, runs = failing(error, times=1)
    assert retrying(Session(), work, sleep=lambda _s: None) == 2


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT ...", {}, Orig("23505")),  # unique violation: a real answer
        OperationalError("SELECT 1", {}, Orig("08006")),  # connection failure
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x")),
        ValueError("not a database error"),
    ],
)
def test_other_errors_pass_through_at_once(error):
    session = Session()
    work, runs = failing(error, times=1)
    with pytest.raises(type(error)):
        retrying(session, work, sleep=lambda _s: None)
    assert (len(runs), session.rollbacks) == (1, 0)
