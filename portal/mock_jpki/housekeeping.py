"""The worker's `mock-jpki-expired` duty (portal/jobs/schedule.py, while MOCK_JPKI_ENABLED):
delete the mock card service's authorization codes and access tokens that have expired, and its
signing transactions a day after they expired (a relying party that is late to fetch a result
still gets a clear answer for that day)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal import clock
from portal.db import db, write_intent
from portal.mock_jpki.models import MockAccessToken, MockAuthorizationCode, MockSignTransaction

KEEP_EXPIRED_TRANSACTIONS = dt.timedelta(days=1)


def delete_expired(session: Session, now: dt.datetime) -> int:
    """Delete what has expired; how many rows."""
    count = 0
    for model in (MockAuthorizationCode, MockAccessToken):
        count += session.execute(delete(model).where(model.expires_at <= now)).rowcount
    count += session.execute(
        delete(MockSignTransaction).where(
            MockSignTransaction.expires_at <= now - KEEP_EXPIRED_TRANSACTIONS
        )
    ).rowcount
    return count


def expired_rows_duty(_should_stop=None) -> str | None:
    assert db.session_factory is not None, "Database.init_app() was not called"
    intent = write_intent.set(True)
    try:
        with db.session_factory() as session, session.begin():
            count = delete_expired(session, clock.now())
    finally:
        write_intent.reset(intent)
    return (
        f"mock-jpki: {count} expired code(s), token(s) and transaction(s) deleted"
        if count
        else None
    )
