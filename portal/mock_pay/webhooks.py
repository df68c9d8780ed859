"""Webhook delivery of the mock payment service, with the faults real networks have.

`deliver_due` is the delivery job (`flask mock-pay deliver`, and each round of `flask portal
worker` while MOCK_PAY_ENABLED). A run

1. expires open payments whose time has run out (each writes its `payment.expired` event);
2. claims up to `limit` due events with guarded UPDATEs (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL; SQLite's BEGIN IMMEDIATE serialises the step), committed before anything is sent,
   so two deliverers running at once never send one event (the outbox's pattern,
   docs/decisions/0027-outbox-and-mail.md);
3. POSTs each event's stored JSON body to PAYMENT_WEBHOOK_URL over HTTP, signed in the
   `Mock-Pay-Signature` header (portal/mock_pay/signing.py); a 2xx answer means delivered,
   anything else (or no answer within the timeout) is retried after 10 s, 1 min, 5 min, 30 min
   and 2 h, and the event is given up after the sixth attempt;
4. records each result with an UPDATE guarded by the run's claim token.

Faults (MOCK_PAY_FAULTS, read on every run; or `faults=` for one call): `duplicate` sends each
event twice, `reorder` sends a run's events newest first, `delay` holds each event's first
attempt back 30 s, `drop` marks events delivered without sending them (a lost webhook) and
`bad_signature` signs with a wrong secret.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import requests
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.db import write_intent
from portal.mock_pay import service, signing
from portal.mock_pay.faults import parse_faults
from portal.mock_pay.models import (
    ERROR_MAX,
    EVENT_DELIVERED,
    EVENT_FAILED,
    EVENT_PENDING,
    MockPayEvent,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Waits after failed attempt 1 to 5 (the sixth failure is final).
RETRY_DELAYS = (
    dt.timedelta(seconds=10),
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)
FIRST_ATTEMPT_DELAY = dt.timedelta(seconds=30)  # the `delay` fault
BATCH_SIZE = 20
# Connect and read timeouts of one POST. A run sends at most BATCH_SIZE events (twice with the
# `duplicate` fault), so it ends well within CLAIM_TIMEOUT.
HTTP_TIMEOUT = (2.0, 5.0)
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
USER_AGENT = "MockPay-Webhooks/1.0"
# What a run did: payments expired; events delivered, dropped (the `drop` fault), back in the
# queue, given up, or lost (this run's claim was taken over before it could record the result).
OUTCOMES = ("expired", "delivered", "dropped", "retrying", "failed", "lost")


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


@dataclass(frozen=True)
class _Claimed:
    id: int
    event_id: str
    type: str
    body: str
    attempts: int


def deliver_due(
    sessions: Callable[[], Session] | Session,
    *,
    now: dt.datetime,
    config: Mapping,
    faults: str | Iterable[str] | None = None,
    limit: int = BATCH_SIZE,
    max_attempts: int = MAX_ATTEMPTS,
    claim_timeout: dt.timedelta = CLAIM_TIMEOUT,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, int]:
    """Expire what ran out of time, then send up to `limit` events due at `now`; returns counts
    by outcome (OUTCOMES).

    `sessions` is a session factory (`db.session_factory`); given a Session, new sessions on its
    engine are used and its own transaction is left alone. `config` supplies
    PAYMENT_WEBHOOK_URL, PAYMENT_WEBHOOK_SECRET and MOCK_PAY_FAULTS; `faults` (a comma list or
    names) replaces MOCK_PAY_FAULTS for this call. Safe to run in any number of processes.
    """
    if not isinstance(now, dt.datetime) or now.tzinfo is None:
        raise ValueError("now must be an aware datetime (portal.clock.now())")
    active = parse_faults(config.get("MOCK_PAY_FAULTS", "") if faults is None else faults)
    url = config["PAYMENT_WEBHOOK_URL"]
    secret = config["PAYMENT_WEBHOOK_SECRET"]
    if "bad_signature" in active:
        secret = "not-" + secrets.token_hex(8) + "-" + (secret or "")
    factory = _factory(sessions)
    token = secrets.token_hex(16)
    counts = dict.fromkeys(OUTCOMES, 0)
    intent = write_intent.set(True)  # every transaction here writes: SQLite locks at BEGIN
    try:
        with factory() as session, session.begin():
            counts["expired"] = service.expire_due(session, now=now)
        counts["failed"] += _fail_abandoned(factory, now, max_attempts, claim_timeout)
        claimed = _claim(factory, now, token, limit, max_attempts, claim_timeout, "delay" in active)
        claimed.sort(key=lambda event: event.id, reverse="reorder" in active)
        with requests.Session() as http:
            http.trust_env = False  # the merchant is addressed directly, never via a proxy
            for index, event in enumerate(claimed):
                if should_stop is not None and should_stop():
                    _release(factory, [e.id for e in claimed[index:]], token, now)
                    break
                outcome = _deliver(
                    factory, http, event, url, secret, now, token, max_attempts, active
                )
                counts[outcome] += 1
    finally:
        write_intent.reset(intent)
    if any(counts.values()):
        log.info(
            "mock-pay webhooks: %d expired, %d delivered, %d dropped, %d to retry, %d failed, "
            "%d lost",
            *(counts[outcome] for outcome in OUTCOMES),
        )
    return counts


def _due(now: dt.datetime, max_attempts: int, claim_timeout: dt.timedelta, delay: bool):
    conditions = [
        MockPayEvent.status == EVENT_PENDING,
        MockPayEvent.next_attempt_at <= now,
        MockPayEvent.attempts < max_attempts,
        or_(MockPayEvent.claimed_at.is_(None), MockPayEvent.claimed_at < now - claim_timeout),
    ]
    if delay:
        conditions.append(
            or_(
                MockPayEvent.attempts > 0,
                MockPayEvent.next_attempt_at <= now - FIRST_ATTEMPT_DELAY,
            )
        )
    return and_(*conditions)


def _claim(
    factory: Callable[[], Session],
    now: dt.datetime,
    token: str,
    limit: int,
    max_attempts: int,
    claim_timeout: dt.timedelta,
    delay: bool,
) -> list[_Claimed]:
    due = _due(now, max_attempts, claim_timeout, delay)
    claimed: list[_Claimed] = []
    with factory() as session, session.begin():
        query = (
            select(MockPayEvent.id)
            .where(due)
            .order_by(MockPayEvent.next_attempt_at, MockPayEvent.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for event_id in session.scalars(query).all():
            won = session.execute(
                update(MockPayEvent)
                .where(MockPayEvent.id == event_id, due)
                .values(
                    claimed_at=now,
                    claim_token=token,
                    attempts=MockPayEvent.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if won.rowcount != 1:
                continue
            row = session.execute(
                select(
                    MockPayEvent.event_id,
                    MockPayEvent.type,
                    MockPayEvent.body,
                    MockPayEvent.attempts,
                ).where(MockPayEvent.id == event_id)
            ).one()
            claimed.append(_Claimed(event_id, row.event_id, row.type, row.body, row.attempts))
    return claimed


def _post(http: requests.Session, url: str, body: bytes, secret: str, now: dt.datetime) -> str:
    """Send once; "" when the receiver answered 2xx, otherwise why not (no body, no URL)."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        signing.HEADER: signing.sign(secret, body, int(now.timestamp())),
    }
    try:
        response = http.post(
            url, data=body, headers=headers, timeout=HTTP_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as error:
        return type(error).__name__  # the class only: texts repeat the URL
    response.close()
    if 200 <= response.status_code < 300:
        return ""
    return f"HTTP {response.status_code}"


def _deliver(
    factory: Callable[[], Session],
    http: requests.Session,
    event: _Claimed,
    url: str,
    secret: str,
    now: dt.datetime,
    token: str,
    max_attempts: int,
    faults: frozenset[str],
) -> str:
    mine = and_(MockPayEvent.id == event.id, MockPayEvent.claim_token == token)
    released = {"claimed_at": None, "claim_token": None, "updated_at": now}
    if "drop" in faults:
        error = ""
    else:
        body = event.body.encode()
        error = _post(http, url, body, secret, now)
        if not error and "duplicate" in faults:
            _post(http, url, body, secret, now)  # what it answers changes nothing
    dropped = "drop" in faults
    if not error:
        with factory() as session, session.begin():
            done = session.execute(
                update(MockPayEvent)
                .where(mine)
                .values(
                    status=EVENT_DELIVERED,
                    delivered_at=now,
                    dropped=dropped,
                    last_error=None,
                    **released,
                )
                .execution_options(synchronize_session=False)
            )
        if done.rowcount != 1:
            log.warning("mock-pay webhook %s sent but its claim had expired", event.event_id)
            return "lost"
        log.info(
            "mock-pay webhook %s (%s) %s",
            event.event_id,
            event.type,
            "dropped (fault)" if dropped else "delivered",
        )
        return "dropped" if dropped else "delivered"

    final = event.attempts >= max_attempts
    values = {"last_error": error[:ERROR_MAX], **released}
    if final:
        values["status"] = EVENT_FAILED
    else:
        values["next_attempt_at"] = now + retry_delay(event.attempts)
    with factory() as session, session.begin():
        done = session.execute(
            update(MockPayEvent)
            .where(mine)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if done.rowcount != 1:
        return "lost"
    log.warning(
        "mock-pay webhook %s (%s) not delivered (%s), attempt %d of %d%s",
        event.event_id,
        event.type,
        error,
        event.attempts,
        max_attempts,
        "; given up" if final else "; retrying",
    )
    return "failed" if final else "retrying"


def _release(factory: Callable[[], Session], ids: list[int], token: str, now: dt.datetime) -> None:
    """Give back claims a stopping run will not send (the attempt did not happen)."""
    if not ids:
        return
    with factory() as session, session.begin():
        session.execute(
            update(MockPayEvent)
            .where(MockPayEvent.id.in_(ids), MockPayEvent.claim_token == token)
            .values(
                claimed_at=None,
                claim_token=None,
                attempts=MockPayEvent.attempts - 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )


def _fail_abandoned(
    factory: Callable[[], Session],
    now: dt.datetime,
    max_attempts: int,
    claim_timeout: dt.timedelta,
) -> int:
    """A claim that expired on the last attempt (its deliverer died while sending): give up."""
    with factory() as session, session.begin():
        result = session.execute(
            update(MockPayEvent)
            .where(
                MockPayEvent.status == EVENT_PENDING,
                MockPayEvent.attempts >= max_attempts,
                MockPayEvent.claimed_at < now - claim_timeout,
            )
            .values(
                status=EVENT_FAILED,
                last_error="claim expired on the last attempt",
                claimed_at=None,
                claim_token=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    return result.rowcount


def _factory(sessions: Callable[[], Session] | Session) -> Callable[[], Session]:
    if isinstance(sessions, Session):
        return sessionmaker(sessions.get_bind(), expire_on_commit=False)
    return sessions
