"""The outbox on SQLite and PostgreSQL: enqueue, deliver, cancel; due times against a fixed
`now`; four workers racing over the same messages never send one twice; failed sends are
retried with backoff and then given up; a dead worker's claim expires."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.outbox import (
    CANCELLED,
    FAILED,
    PENDING,
    SENT,
    DeliveryError,
    OutboxMessage,
    cancel_pending,
    deliver_due,
    enqueue,
)
from portal.outbox.backends import OutboxBackend
from portal.outbox.service import CLAIM_TIMEOUT, MAX_ATTEMPTS, RETRY_DELAYS

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
ICS = {"filename": "yoyaku.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR"}


class Recording:
    """A backend that remembers what it sent (thread-safe), optionally slowly or failing."""

    id = "recording"

    def __init__(self, fail: Exception | None = None, delay: float = 0.0) -> None:
        self.sent: list[int] = []
        self.tries = 0
        self.fail = fail
        self.delay = delay
        self._lock = threading.Lock()

    def send(self, message, *, now):
        with self._lock:
            self.tries += 1
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.sent.append(message.id)


def add(
    engine, n: int = 1, *, send_after=NOW, related="appointment:A1", kind="appointment_reminder"
):
    with Session(engine) as session:
        ids = [
            enqueue(
                session,
                kind=kind,
                to=f"resident{i}@example.jp",
                subject="【いすみ市】窓口予約のお知らせ",
                body="明日は窓口予約の日です。",
                send_after=send_after,
                related=related,
                now=NOW,
                attachments=[ICS],
            ).id
            for i in range(n)
        ]
        session.commit()
    return ids


def rows(engine) -> dict[int, OutboxMessage]:
    with Session(engine) as session:
        return {m.id: m for m in session.scalars(select(OutboxMessage))}


def test_enqueue_then_deliver(clean_db, engine):
    [message_id] = add(engine)
    factory = sessionmaker(engine)
    backend = Recording()
    assert deliver_due(factory, now=NOW, backend=backend) == {
        "sent": 1,
        "retrying": 0,
        "failed": 0,
        "lost": 0,
    }
    assert backend.sent == [message_id]
    message = rows(engine)[message_id]
    assert (message.status, message.attempts, message.sent_at) == (SENT, 1, NOW)
    assert message.claimed_at is None and message.claim_token is None
    assert message.attachments == [ICS]
    # Nothing is sent twice.
    assert deliver_due(factory, now=NOW + dt.timedelta(hours=1), backend=backend)["sent"] == 0


def test_the_outbox_backend_keeps_the_mail_in_the_table(clean_db, engine):
    [message_id] = add(engine)
    with Session(engine) as session:  # a Session works too; its transaction is left alone
        assert deliver_due(session, now=NOW, backend=OutboxBackend())["sent"] == 1
    message = rows(engine)[message_id]
    assert message.status == SENT and message.body == "明日は窓口予約の日です。"


def test_a_message_waits_for_its_time(clean_db, engine):
    later = NOW + dt.timedelta(days=1)
    [message_id] = add(engine, send_after=later)
    factory = sessionmaker(engine)
    backend = Recording()
    assert deliver_due(factory, now=later - dt.timedelta(seconds=1), backend=backend)["sent"] == 0
    assert rows(engine)[message_id].status == PENDING
    assert deliver_due(factory, now=later, backend=backend)["sent"] == 1
    assert backend.sent == [message_id]


def test_cancel_pending_by_related_and_kind(clean_db, engine):
    later = NOW + dt.timedelta(days=1)
    [confirmation] = add(engine, kind="appointment_confirmation")
    [reminder] = add(engine, send_after=later)
    [other] = add(engine, send_after=later, related="appointment:B2")
    factory = sessionmaker(engine)
    assert deliver_due(factory, now=NOW, backend=Recording())["sent"] == 1  # the confirmation

    with Session(engine) as session:
        kinds = ["appointment_cancelled"]
        assert cancel_pending(session, "appointment:A1", kinds=kinds, now=NOW) == 0
        assert cancel_pending(session, "appointment:A1", now=NOW) == 1  # the sent one stays sent
        session.commit()
    with Session(engine) as session:
        assert cancel_pending(session, "appointment:A1", now=NOW) == 0
    statuses = {i: m.status for i, m in rows(engine).items()}
    assert statuses == {confirmation: SENT, reminder: CANCELLED, other: PENDING}

    backend = Recording()
    assert deliver_due(factory, now=later, backend=backend)["sent"] == 1
    assert backend.sent == [other]


def test_cancel_pending_rolls_back_with_the_caller(clean_db, engine):
    [message_id] = add(engine)
    with Session(engine) as session:
        assert cancel_pending(session, "appointment:A1", now=NOW) == 1
        session.rollback()
    assert rows(engine)[message_id].status == PENDING


def test_racing_workers_never_send_a_message_twice(clean_db, engine):
    ids = add(engine, 40)
    factory = sessionmaker(engine)
    workers = 4
    backend = Recording(delay=0.005)
    barrier = threading.Barrier(workers, timeout=60)
    errors = []

    def worker() -> None:
        try:
            barrier.wait()
            while deliver_due(factory, now=NOW, backend=backend, limit=5)["sent"]:
                pass
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(backend.sent) == sorted(ids)
    assert Counter(backend.sent).most_common(1)[0][1] == 1
    assert {m.status for m in rows(engine).values()} == {SENT}
    assert {m.attempts for m in rows(engine).values()} == {1}


def test_failed_sends_are_retried_with_backoff_then_given_up(clean_db, engine):
    [message_id] = add(engine)
    factory = sessionmaker(engine)
    backend = Recording(fail=ConnectionRefusedError("resident0@example.jp refused"))
    now = NOW
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        assert deliver_due(factory, now=now, backend=backend)["retrying"] == 1
        message = rows(engine)[message_id]
        assert (message.status, message.attempts) == (PENDING, attempt)
        assert message.send_after == now + delay
        assert message.last_error == "ConnectionRefusedError"  # never the exception's text
        # Not due again before the delay is over.
        assert deliver_due(factory, now=now + delay - dt.timedelta(seconds=1), backend=backend) == {
            "sent": 0,
            "retrying": 0,
            "failed": 0,
            "lost": 0,
        }
        now += delay
    assert deliver_due(factory, now=now, backend=backend)["failed"] == 1
    message = rows(engine)[message_id]
    assert (message.status, message.attempts) == (FAILED, MAX_ATTEMPTS)
    assert backend.tries == MAX_ATTEMPTS
    assert deliver_due(factory, now=now + dt.timedelta(days=1), backend=backend)["failed"] == 0
    assert backend.tries == MAX_ATTEMPTS


def test_a_permanent_refusal_is_not_retried(clean_db, engine):
    [message_id] = add(engine)
    backend = Recording(fail=DeliveryError("SMTPRecipientsRefused 550", permanent=True))
    assert deliver_due(sessionmaker(engine), now=NOW, backend=backend)["failed"] == 1
    message = rows(engine)[message_id]
    assert (message.status, message.attempts, message.last_error) == (
        FAILED,
        1,
        "SMTPRecipientsRefused 550",
    )


def test_a_dead_workers_claim_expires(clean_db, engine):
    [message_id] = add(engine)
    factory = sessionmaker(engine)
    with Session(engine) as session:  # a worker claimed it, then died before finishing
        session.execute(
            update(OutboxMessage).values(claimed_at=NOW, claim_token="dead", attempts=1)
        )
        session.commit()
    backend = Recording()
    soon = NOW + CLAIM_TIMEOUT - dt.timedelta(seconds=1)
    assert deliver_due(factory, now=soon, backend=backend)["sent"] == 0
    later = NOW + CLAIM_TIMEOUT + dt.timedelta(seconds=1)
    assert deliver_due(factory, now=later, backend=backend)["sent"] == 1
    message = rows(engine)[message_id]
    assert (message.status, message.attempts, backend.sent) == (SENT, 2, [message_id])


def test_a_message_cancelled_while_its_send_fails_is_not_retried(clean_db, engine):
    [message_id] = add(engine)

    class CancelledMeanwhile:
        id = "cancelled-meanwhile"

        def send(self, message, *, now):
            with Session(engine) as session:
                cancel_pending(session, "appointment:A1", now=now)
                session.commit()
            raise TimeoutError

    counts = deliver_due(sessionmaker(engine), now=NOW, backend=CancelledMeanwhile())
    assert counts["lost"] == 1
    assert rows(engine)[message_id].status == CANCELLED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"to": "a@example.jp\r\nBcc: x@example.jp"}, "one e-mail address"),
        ({"subject": "件名\nBcc: x@example.jp"}, "one line"),
        ({"related": "予約:1"}, "related"),
        ({"send_after": dt.datetime(2026, 1, 1)}, "aware"),
        ({"attachments": [{**ICS, "filename": "../x.ics"}]}, "file name"),
    ],
)
def test_invalid_messages_are_refused(clean_db, engine, changes, message):
    arguments = {
        "kind": "appointment_confirmation",
        "to": "a@example.jp",
        "subject": "件名",
        "body": "本文",
        "send_after": NOW,
        "related": "appointment:A1",
        "now": NOW,
    } | changes
    with Session(engine) as session, pytest.raises(ValueError, match=message):
        enqueue(session, **arguments)
