"""Putting mail in the outbox, cancelling it, and delivering what is due.

`enqueue` and `cancel_pending` work in the caller's transaction (they flush; the caller commits
with the change the mail tells about, so a rolled-back booking never sends a confirmation).
`deliver_due` runs in the worker with its own short transactions, one message at a time, through
the one lease mechanism (portal/jobs/lease.py, docs/decisions/0040-one-job-mechanism.md):

1. claim: the oldest due message, taken with a guarded UPDATE (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), committed before sending, so no
   database lock is held while the mail server is talked to;
2. send through the backend (portal/outbox/backends.py);
3. finish with an UPDATE guarded by this run's claim token: sent, or back to pending with a
   later `send_after` (backoff), or failed after the last attempt or a permanent refusal.

A worker that dies between 1 and 3 leaves a claim that expires after CLAIM_TIMEOUT; the message is
then sent again (at least once, never twice by two live workers). Logs carry message ids, counts
and error classes only, never an address, a subject or a body.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.db import write_intent
from portal.i18n import current_language
from portal.jobs import lease
from portal.outbox.models import (
    ADDRESS_MAX,
    CANCELLED,
    ERROR_MAX,
    FAILED,
    KIND_MAX,
    PENDING,
    RELATED_MAX,
    SENT,
    SUBJECT_MAX,
    OutboxMessage,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Waits after failed attempt 1, 2, 3, 4 (the fifth failure is final).
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)
# A claim older than this is taken to belong to a worker that died. Must exceed the time one
# run of deliver_due may take: BATCH_SIZE messages times the SMTP timeout (10 x 20 s).
CLAIM_TIMEOUT = dt.timedelta(minutes=15)
BATCH_SIZE = 10
# What became of each message a run took: sent; back in the queue for a later attempt; failed for
# good; or "lost": this run could not record its result because the message was cancelled while
# its send failed, or its claim expired and another worker took it over.
OUTCOMES = ("sent", "retrying", "failed", "lost")

# The outbox's rows are work for the one lease mechanism (portal/jobs/lease.py).
LEASE = lease.LeaseTable(
    model=OutboxMessage,
    id=OutboxMessage.id,
    status=OutboxMessage.status,
    due_at=OutboxMessage.send_after,
    attempts=OutboxMessage.attempts,
    claimed_at=OutboxMessage.claimed_at,
    claim_token=OutboxMessage.claim_token,
    last_error=OutboxMessage.last_error,
    updated_at=OutboxMessage.updated_at,
    pending=PENDING,
    failed=FAILED,
    error_max=ERROR_MAX,
)

_KIND = re.compile(r"[a-z][a-z0-9_]*")
_RELATED = re.compile(r"[a-z][a-z0-9_-]*:[A-Za-z0-9._~:/-]+")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "text/calendar; method=PUBLISH"
    content: str


@dataclass(frozen=True)
class Outgoing:
    """A claimed message as handed to a backend (read before the claim commits)."""

    id: int
    kind: str
    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...]
    created_at: dt.datetime


class DeliveryError(Exception):
    """A backend could not send. `reason` goes to the log and `last_error`: a class name and
    a code, never the server's text. A permanent refusal (the address does not exist) is not
    retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Backend(Protocol):
    id: str

    def send(self, message: Outgoing, *, now: dt.datetime) -> None:
        """Deliver or raise (DeliveryError, or any exception: taken as a transient failure)."""


def enqueue(
    session: Session,
    *,
    kind: str,
    to: str,
    subject: str,
    body: str,
    send_after: dt.datetime,
    related: str,
    now: dt.datetime,
    attachments: Iterable[Mapping[str, str]] = (),
    lang: str | None = None,
) -> OutboxMessage:
    """Add a pending message in the caller's transaction (flushed, not committed).

    `attachments`: mappings with filename, content_type and (text) content. Raises ValueError
    for an invalid message (a line break in the address or subject, a naive datetime, ...).
    """
    _check_aware(send_after=send_after, now=now)
    if not _KIND.fullmatch(kind) or len(kind) > KIND_MAX:
        raise ValueError("kind must be snake_case ASCII, e.g. appointment_reminder")
    if len(related) > RELATED_MAX or not _RELATED.fullmatch(related):
        raise ValueError("related must be <kind>:<id> in ASCII, e.g. appointment:<public_id>")
    to = to.strip()
    if not to or len(to) > ADDRESS_MAX or "@" not in to or any(c.isspace() for c in to):
        raise ValueError("to must be one e-mail address")
    if not subject or len(subject) > SUBJECT_MAX or "\r" in subject or "\n" in subject:
        raise ValueError(f"subject must be one line of at most {SUBJECT_MAX} characters")
    stored = []
    for attachment in attachments:
        item = Attachment(
            filename=str(attachment["filename"]),
            content_type=str(attachment["content_type"]),
            content=attachment["content"],
        )
        if not isinstance(item.content, str):
            raise ValueError("attachment content must be text")
        if not item.filename or any(c in item.filename for c in '\r\n/\\"'):
            raise ValueError("attachment filename must be a plain file name")
        if not re.fullmatch(r"[a-z]+/[a-z0-9.+-]+(; *[a-z-]+=[A-Za-z0-9-]+)*", item.content_type):
            raise ValueError("attachment content_type must be type/subtype[; name=value]")
        stored.append(
            {"filename": item.filename, "content_type": item.content_type, "content": item.content}
        )
    message = OutboxMessage(
        kind=kind,
        to_address=to,
        subject=subject,
        body=body,
        attachments=stored,
        send_after=send_after,
        related=related,
        # The language it is written in: the one of the block or request that built it.
        lang=lang or current_language(),
        status=PENDING,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    return message


def cancel_pending(
    session: Session,
    related: str,
    *,
    kinds: Iterable[str] | None = None,
    now: dt.datetime,
) -> int:
    """Cancel the pending messages about `related` (of these kinds, or all) in the caller's
    transaction; returns how many. A message a worker is sending at this moment is cancelled
    too: if its send fails it is not retried, if it succeeds it is recorded as sent."""
    _check_aware(now=now)
    guard = [OutboxMessage.related == related, OutboxMessage.status == PENDING]
    if kinds is not None:
        guard.append(OutboxMessage.kind.in_(list(kinds)))
    result = session.execute(
        update(OutboxMessage)
        .where(*guard)
        .values(status=CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def deliver_due(
    sessions: Callable[[], Session] | Session,
    *,
    now: dt.datetime,
    backend: Backend,
    limit: int = BATCH_SIZE,
    max_attempts: int = MAX_ATTEMPTS,
    claim_timeout: dt.timedelta = CLAIM_TIMEOUT,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, int]:
    """Send up to `limit` messages due at `now`; returns counts by outcome (OUTCOMES).

    `sessions` is a session factory (`db.session_factory`, a sessionmaker); given a Session,
    new sessions on its engine are used and its own transaction is left alone. Each claim and
    each result is committed at once. Safe to run in any number of workers at the same time.
    """
    _check_aware(now=now)
    factory = _factory(sessions)
    policy = lease.Policy(max_attempts=max_attempts, retry_delays=RETRY_DELAYS, lease=claim_timeout)
    token = secrets.token_hex(16)
    counts = dict.fromkeys(OUTCOMES, 0)
    # The worker's transactions all write: on SQLite take the write lock at BEGIN.
    intent = write_intent.set(True)
    try:
        with factory() as session, session.begin():
            abandoned = lease.abandon_expired(session, LEASE, policy, now=now)
        if abandoned:
            log.warning("outbox: %d message(s) failed: %s", abandoned, lease.ABANDONED)
        counts["failed"] += abandoned
        for _ in range(limit):
            if should_stop is not None and should_stop():
                break
            message = _claim_next(factory, now, token, policy)
            if message is None:
                break
            outcome = _send(factory, backend, message, now, token, policy)
            counts[outcome] += 1
    finally:
        write_intent.reset(intent)
    if any(counts.values()):
        log.info(
            "outbox: %d sent, %d to retry, %d failed, %d lost",
            counts["sent"],
            counts["retrying"],
            counts["failed"],
            counts["lost"],
        )
    return counts


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def _claim_next(
    factory: Callable[[], Session], now: dt.datetime, token: str, policy: lease.Policy
) -> Outgoing | None:
    with factory() as session, session.begin():
        claimed = lease.claim(session, LEASE, policy, now=now, token=token, limit=1)
        if not claimed:
            return None
        [message_id] = claimed
        row = session.execute(
            select(
                OutboxMessage.kind,
                OutboxMessage.to_address,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.attachments,
                OutboxMessage.created_at,
            ).where(OutboxMessage.id == message_id)
        ).one()
        return Outgoing(
            id=message_id,
            kind=row.kind,
            to=row.to_address,
            subject=row.subject,
            body=row.body,
            attachments=tuple(Attachment(**a) for a in row.attachments or ()),
            created_at=row.created_at,
        )


def _send(
    factory: Callable[[], Session],
    backend: Backend,
    message: Outgoing,
    now: dt.datetime,
    token: str,
    policy: lease.Policy,
) -> str:
    try:
        backend.send(message, now=now)
    except Exception as error:  # noqa: BLE001 - every failure is recorded, none stops the run
        reason = _describe(error)
        permanent = isinstance(error, DeliveryError) and error.permanent
        with factory() as session, session.begin():
            # Only a pending message goes back to the queue: one cancelled meanwhile stays so.
            failure = lease.record_failure(
                session,
                LEASE,
                policy,
                message.id,
                token,
                now=now,
                reason=reason,
                permanent=permanent,
                where=[OutboxMessage.status == PENDING],
            )
        if failure.outcome == lease.LOST:
            log.info(
                "outbox: message %d not sent (%s); cancelled or taken over", message.id, reason
            )
        elif failure.outcome == lease.FAILED:
            log.warning(
                "outbox: message %d failed (%s) after %d attempt(s)%s",
                message.id,
                reason,
                failure.attempts,
                "; permanent refusal" if permanent else "",
            )
        else:
            log.warning(
                "outbox: message %d not sent (%s), attempt %d of %d; retrying",
                message.id,
                reason,
                failure.attempts,
                policy.max_attempts,
            )
        return failure.outcome

    with factory() as session, session.begin():
        # Sent is recorded even if the message was cancelled meanwhile: it did go out.
        done = lease.settle(
            session,
            LEASE,
            message.id,
            token,
            now=now,
            values={
                OutboxMessage.status: SENT,
                OutboxMessage.sent_at: now,
                OutboxMessage.last_error: None,
            },
            where=[OutboxMessage.status.in_((PENDING, CANCELLED))],
        )
    if not done:
        # Our claim expired and another worker took the message: it may go out twice.
        log.warning("outbox: message %d sent but its claim had expired", message.id)
        return "lost"
    log.info("outbox: message %d sent (%s)", message.id, backend.id)
    return "sent"


def _describe(error: Exception) -> str:
    if isinstance(error, DeliveryError):
        reason = error.reason
    else:
        # The class only: exception texts may carry an address or the server's reply.
        reason = type(error).__name__
        code = getattr(error, "smtp_code", None)
        if isinstance(code, int):
            reason = f"{reason} {code}"
    return reason[:ERROR_MAX]


def _factory(sessions: Callable[[], Session] | Session) -> Callable[[], Session]:
    if isinstance(sessions, Session):
        return sessionmaker(sessions.get_bind(), expire_on_commit=False)
    return sessions


_check_aware = lease.check_aware
