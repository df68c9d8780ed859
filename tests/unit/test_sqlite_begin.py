"""portal.db.make_engine on SQLite: a unit of work that may write begins with BEGIN IMMEDIATE
(the write lock up front), a read with a deferred BEGIN; a write lock still held by another
connection when the busy timeout ends is a DBAPIError that `retryable` recognises (answered
Busy), as when BEGIN was sent through a "begin" event (decision 0061, fifth round)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from portal.db import make_engine, retryable, write_intent


@pytest.fixture
def engines(tmp_path):
    url = f"sqlite:///{tmp_path / 'begin.sqlite3'}"
    holder, waiter = make_engine(url), make_engine(url)

    @event.listens_for(waiter, "connect")
    def _short_wait(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    with holder.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    yield holder, waiter
    holder.dispose()
    waiter.dispose()


def test_a_write_takes_the_lock_at_begin_and_a_read_does_not(engines) -> None:
    holder, waiter = engines
    token = write_intent.set(True)
    try:
        with holder.connect() as locked:
            locked.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock, before any write
            assert locked.connection.driver_connection.in_transaction

            with pytest.raises(DBAPIError) as raised, waiter.connect() as other:
                other.execute(text("SELECT 1"))
            assert retryable(raised.value)
            assert "database is locked" in str(raised.value.orig)

            write_intent.set(False)
            with waiter.connect() as reader:  # deferred BEGIN: reads beside the writer
                assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    finally:
        write_intent.reset(token)


def test_the_lock_is_free_again_after_commit(engines) -> None:
    holder, waiter = engines
    token = write_intent.set(True)
    try:
        with holder.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
        with waiter.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (2)"))
            assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    finally:
        write_intent.reset(token)
