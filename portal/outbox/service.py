"""Putting mail in the outbox, cancelling it, and delivering what is due.

`enqueue` and `cancel_pending` work in the caller's transaction (they flush; the caller commits
with the change the mail tells about, so a rolled-back booking never sends a confirmation).
`deliver_due` runs in the worker with its own short transactions, one message at a time:

1. claim: pick the oldest due message (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so racing workers
   pick different rows; SQLite serialises writers with BEGIN IMMEDIATE) and take it with a
   guarded UPDATE (`status = 'pending' AND (claimed_at IS NULL OR claimed_at < now - timeout)`);
   the row count says whether this worker won, and the claim is committed before sending, so no
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

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.db import write_intent
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
    token = secrets.token_hex(16)
    counts = dict.fromkeys(OUTCOMES, 0)
    # The worker's transactions all write: on SQLite take the write lock at BEGIN.
    intent = write_intent.set(True)
    try:
        counts["failed"] += _fail_abandoned(factory, now, max_attempts, claim_timeout)
        for _ in range(limit):
            if should_stop is not None and should_stop():
                break
            message = _claim_next(factory, now, token, max_attempts, claim_timeout)
            if message is None:
                break
            outcome = _send(factory, backend, message, now, token, max_attempts)
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


def _due(now: dt.datetime, max_attempts: int, claim_timeout: dt.timedelta):
    return and_(
        OutboxMessage.status == PENDING,
        OutboxMessage.send_after <= now,
        OutboxMessage.attempts < max_attempts,
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - claim_timeout),
    )


def _claim_next(
    factory: Callable[[], Session],
    now: dt.datetime,
    token: str,
    max_attempts: int,
    claim_timeout: dt.timedelta,
) -> Outgoing | None:
    due = _due(now, max_attempts, claim_timeout)
    with factory() as session, session.begin():
        postgresql = session.get_bind().dialect.name == "postgresql"
        for _ in range(3):  # a lost race moves on to the next row
            query = (
                select(OutboxMessage.id)
                .where(due)
                .order_by(OutboxMessage.send_after, OutboxMessage.id)
                .limit(1)
            )
            if postgresql:
                query = query.with_for_update(skip_locked=True)
            message_id = session.scalar(query)
            if message_id is None:
                return None
            claimed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, due)
                .values(
                    claimed_at=now,
                    claim_token=token,
                    attempts=OutboxMessage.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:
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
    return None


def _send(
    factory: Callable[[], Session],
    backend: Backend,
    message: Outgoing,
    now: dt.datetime,
    token: str,
    max_attempts: int,
) -> str:
    mine = and_(OutboxMessage.id == message.id, OutboxMessage.claim_token == token)
    try:
        backend.send(message, now=now)
    except Exception as error:  # noqa: BLE001 - every failure is recorded, none stops the run
        reason = _describe(error)
        permanent = isinstance(error, DeliveryError) and error.permanent
        with factory() as session, session.begin():
            attempts = session.scalar(select(OutboxMessage.attempts).where(mine)) or 0
            final = permanent or attempts >= max_attempts
            values = {
                "last_error": reason,
                "claimed_at": None,
                "claim_token": None,
                "updated_at": now,
            }
            if final:
                values["status"] = FAILED
            else:
                values["send_after"] = now + retry_delay(attempts)
            # Only a pending message goes back to the queue: one cancelled meanwhile stays so.
            done = session.execute(
                update(OutboxMessage)
                .where(mine, OutboxMessage.status == PENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if done.rowcount != 1:
            log.info(
                "outbox: message %d not sent (%s); cancelled or taken over", message.id, reason
            )
            return "lost"
        if final:
            log.warning(
                "outbox: message %d failed (%s) after %d attempt(s)%s",
                message.id,
                reason,
                attempts,
                "; permanent refusal" if permanent else "",
            )
            return "failed"
        log.warning(
            "outbox: message %d not sent (%s), attempt %d of %d; retrying",
            message.id,
            reason,
            attempts,
            max_attempts,
        )
        return "retrying"

    with factory() as session, session.begin():
        # Sent is recorded even if the message was cancelled meanwhile: it did go out.
        done = session.execute(
            update(OutboxMessage)
            .where(mine, OutboxMessage.status.in_((PENDING, CANCELLED)))
            .values(
                status=SENT,
                sent_at=now,
                claimed_at=None,
                claim_token=None,
                last_error=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    if done.rowcount != 1:
        # Our claim expired and another worker took the message: it may go out twice.
        log.warning("outbox: message %d sent but its claim had expired", message.id)
        return "lost"
    log.info("outbox: message %d sent (%s)", message.id, backend.id)
    return "sent"


def _fail_abandoned(
    factory: Callable[[], Session],
    now: dt.datetime,
    max_attempts: int,
    claim_timeout: dt.timedelta,
) -> int:
    """A claim that expired on the last attempt (its worker died while sending): give up."""
    with factory() as session, session.begin():
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.attempts >= max_attempts,
                OutboxMessage.claimed_at < now - claim_timeout,
            )
            .values(
                status=FAILED,
                last_error="claim expired on the last attempt",
                claimed_at=None,
                claim_token=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    if result.rowcount:
        log.warning(
            "outbox: %d message(s) failed: claim expired on the last attempt", result.rowcount
        )
    return result.rowcount


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


def _check_aware(**values: dt.datetime) -> None:
    for name, value in values.items():
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime (portal.clock.now())")
