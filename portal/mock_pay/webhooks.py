"""Webhook delivery of the mock payment service, with the faults real networks have.

`deliver_due` is the delivery job (`flask mock-pay deliver`, and each round of `flask portal
worker` while MOCK_PAY_ENABLED). A run

1. expires open payments whose time has run out (each writes its `payment.expired` event);
2. claims up to `limit` due events through the one lease mechanism (portal/jobs/lease.py:
   guarded UPDATEs, `FOR UPDATE SKIP LOCKED` on PostgreSQL, committed before anything is sent),
   so two deliverers running at once never send one event
   (docs/decisions/0040-one-job-mechanism.md);
3. POSTs each event's stored JSON body to PAYMENT_WEBHOOK_URL over HTTP, signed in the
   `Mock-Pay-Signature` header (portal/mock_pay/signing.py); a 2xx answer means delivered,
   anything else (or no answer within the timeout) is retried after 10 s, 1 min, 5 min, 30 min
   and 2 h, and the event is given up after the sixth attempt;
4. records each result with an UPDATE guarded by the run's claim token (lease.settle and
   lease.record_failure).

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
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from portal.db import write_intent
from portal.jobs import lease
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


# The events are work for the one lease mechanism (portal/jobs/lease.py).
LEASE = lease.LeaseTable(
    model=MockPayEvent,
    id=MockPayEvent.id,
    status=MockPayEvent.status,
    due_at=MockPayEvent.next_attempt_at,
    attempts=MockPayEvent.attempts,
    claimed_at=MockPayEvent.claimed_at,
    claim_token=MockPayEvent.claim_token,
    last_error=MockPayEvent.last_error,
    updated_at=MockPayEvent.updated_at,
    pending=EVENT_PENDING,
    failed=EVENT_FAILED,
    error_max=ERROR_MAX,
)


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
    policy = lease.Policy(max_attempts=max_attempts, retry_delays=RETRY_DELAYS, lease=claim_timeout)
    token = secrets.token_hex(16)
    counts = dict.fromkeys(OUTCOMES, 0)
    intent = write_intent.set(True)  # every transaction here writes: SQLite locks at BEGIN
    try:
        with factory() as session, session.begin():
            counts["expired"] = service.expire_due(session, now=now)
        with factory() as session, session.begin():
            counts["failed"] += lease.abandon_expired(session, LEASE, policy, now=now)
        claimed = _claim(factory, now, token, limit, policy, "delay" in active)
        claimed.sort(key=lambda event: event.id, reverse="reorder" in active)
        with requests.Session() as http:
            http.trust_env = False  # the merchant is addressed directly, never via a proxy
            for index, event in enumerate(claimed):
                if should_stop is not None and should_stop():
                    with factory() as session, session.begin():
                        ids = [e.id for e in claimed[index:]]
                        lease.release(session, LEASE, ids, token, now=now)
                    break
                outcome = _deliver(factory, http, event, url, secret, now, token, policy, active)
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


def _claim(
    factory: Callable[[], Session],
    now: dt.datetime,
    token: str,
    limit: int,
    policy: lease.Policy,
    delay: bool,
) -> list[_Claimed]:
    where = []
    if delay:  # the `delay` fault holds each event's first attempt back
        where.append(
            or_(
                MockPayEvent.attempts > 0,
                MockPayEvent.next_attempt_at <= now - FIRST_ATTEMPT_DELAY,
            )
        )
    with factory() as session, session.begin():
        ids = lease.claim(session, LEASE, policy, now=now, token=token, limit=limit, where=where)
        if not ids:
            return []
        rows = session.execute(
            select(
                MockPayEvent.id,
                MockPayEvent.event_id,
                MockPayEvent.type,
                MockPayEvent.body,
                MockPayEvent.attempts,
            ).where(MockPayEvent.id.in_(ids))
        ).all()
    return [_Claimed(r.id, r.event_id, r.type, r.body, r.attempts) for r in rows]


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
    policy: lease.Policy,
    faults: frozenset[str],
) -> str:
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
            done = lease.settle(
                session,
                LEASE,
                event.id,
                token,
                now=now,
                values={
                    MockPayEvent.status: EVENT_DELIVERED,
                    MockPayEvent.delivered_at: now,
                    MockPayEvent.dropped: dropped,
                    MockPayEvent.last_error: None,
                },
            )
        if not done:
            log.warning("mock-pay webhook %s sent but its claim had expired", event.event_id)
            return "lost"
        log.info(
            "mock-pay webhook %s (%s) %s",
            event.event_id,
            event.type,
            "dropped (fault)" if dropped else "delivered",
        )
        return "dropped" if dropped else "delivered"

    with factory() as session, session.begin():
        failure = lease.record_failure(
            session, LEASE, policy, event.id, token, now=now, reason=error
        )
    if failure.outcome == lease.LOST:
        return "lost"
    log.warning(
        "mock-pay webhook %s (%s) not delivered (%s), attempt %d of %d%s",
        event.event_id,
        event.type,
        error,
        failure.attempts,
        policy.max_attempts,
        "; given up" if failure.outcome == lease.FAILED else "; retrying",
    )
    return failure.outcome


def _factory(sessions: Callable[[], Session] | Session) -> Callable[[], Session]:
    if isinstance(sessions, Session):
        return sessionmaker(sessions.get_bind(), expire_on_commit=False)
    return sessions
