"""The one claim/lease/retry/abandon implementation, for every table whose rows are work.

Three tables hold work today: `jobs` (typed jobs and the occurrences of periodic duties,
portal/jobs/queue.py), `outbox_messages` (mail, portal/outbox/service.py) and `mock_pay_events`
(the mock provider's webhooks, portal/mock_pay/webhooks.py). Their rows carry the same lease
columns, named by a `LeaseTable`; the rules are a `Policy`. Everything here runs in the
caller's transaction (the caller opens a short one per step and commits at once):

- `claim`: pick due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so racing workers pick
  different rows; SQLite serialises writers with BEGIN IMMEDIATE) and take each with a guarded
  UPDATE (`pending AND due AND attempts left AND (not claimed OR claim expired)`) that sets the
  run's token and counts the attempt; the row count says whether this worker won. The claim is
  committed before the work, so no database lock is held while a mail server or a merchant is
  talked to.
- `settle`: record the result with an UPDATE guarded by the run's token (a run whose lease expired
  and was taken over records nothing: "lost").
- `record_failure`: back to pending with a later due time (backoff), or failed after the last
  attempt or a permanent refusal.
- `release`: give back claims a stopping worker will not work on (the attempt did not happen).
- `abandon_expired`: a lease that expired on the last attempt (its worker died): failed.

A worker that dies between claim and settle leaves a lease that expires after `Policy.lease`;
the row is then worked again: at least once, never by two live workers at the same time.
See docs/decisions/0040-one-job-mechanism.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

# What became of a claimed row (record_failure's and the queues' outcomes).
RETRYING = "retrying"
FAILED = "failed"
LOST = "lost"

ABANDONED = "claim expired on the last attempt"


@dataclass(frozen=True)
class Policy:
    """How often a row is tried, how long to wait between tries, how long a claim lasts."""

    max_attempts: int
    # Waits after failed attempt 1, 2, ... (the last one repeats if there are fewer).
    retry_delays: tuple[dt.timedelta, ...]
    # A claim older than this belongs to a worker that died: longer than one run may take.
    lease: dt.timedelta

    def retry_delay(self, attempts: int) -> dt.timedelta:
        """The wait after the `attempts`-th failed attempt."""
        return self.retry_delays[min(max(attempts, 1), len(self.retry_delays)) - 1]


@dataclass(frozen=True)
class LeaseTable:
    """The lease columns of a table of work (mapped attributes of its model)."""

    model: type[Any]
    id: InstrumentedAttribute[Any]
    status: InstrumentedAttribute[str]
    due_at: InstrumentedAttribute[dt.datetime]  # not worked before this time
    attempts: InstrumentedAttribute[int]
    claimed_at: InstrumentedAttribute[dt.datetime | None]
    claim_token: InstrumentedAttribute[str | None]
    last_error: InstrumentedAttribute[str | None]
    updated_at: InstrumentedAttribute[dt.datetime]
    pending: str = "pending"
    failed: str = "failed"
    error_max: int = 200
    # A per-row limit of attempts (the jobs table: each kind has its own); else the policy's.
    max_attempts: InstrumentedAttribute[int] | None = None

    def attempt_limit(self, policy: Policy) -> Any:
        return self.max_attempts if self.max_attempts is not None else policy.max_attempts


def claimable(
    table: LeaseTable, policy: Policy, now: dt.datetime, *where: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Due, attempts left, and not claimed by a live worker (plus the caller's conditions)."""
    return and_(
        table.status == table.pending,
        table.due_at <= now,
        table.attempts < table.attempt_limit(policy),
        or_(table.claimed_at.is_(None), table.claimed_at < now - policy.lease),
        *where,
    )


def claim(
    session: Session,
    table: LeaseTable,
    policy: Policy,
    *,
    now: dt.datetime,
    token: str,
    limit: int,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[Any] = (),
) -> list[Any]:
    """Claim up to `limit` due rows for `token`, oldest due first; their ids (in that order).

    Each claim counts an attempt. A row another worker took between the SELECT and the UPDATE
    is skipped, and the next ones are looked for (at most three rounds)."""
    due = claimable(table, policy, now, *where)
    postgresql = session.get_bind().dialect.name == "postgresql"
    won: list[Any] = []
    for _ in range(3):
        query = (
            select(table.id)
            .where(due)
            .order_by(*order_by, table.due_at, table.id)
            .limit(limit - len(won))
        )
        if postgresql:
            query = query.with_for_update(skip_locked=True)
        candidates = session.scalars(query).all()
        if not candidates:
            break
        lost = False
        for row_id in candidates:
            result = session.execute(
                update(table.model)
                .where(table.id == row_id, due)
                .values(
                    {
                        table.claimed_at: now,
                        table.claim_token: token,
                        table.attempts: table.attempts + 1,
                        table.updated_at: now,
                    }
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                won.append(row_id)
            else:
                lost = True
        if not lost or len(won) >= limit:
            break
    return won


def mine(table: LeaseTable, row_id: Any, token: str) -> ColumnElement[bool]:
    """The row, as long as this run's claim is on it."""
    return and_(table.id == row_id, table.claim_token == token)


def settle(
    session: Session,
    table: LeaseTable,
    row_id: Any,
    token: str,
    *,
    now: dt.datetime,
    values: dict[Any, Any],
    where: Sequence[ColumnElement[bool]] = (),
) -> bool:
    """Record a claimed row's result (and release the claim) if this run still holds it."""
    result = session.execute(
        update(table.model)
        .where(mine(table, row_id, token), *where)
        .values(
            {
                **values,
                table.claimed_at: None,
                table.claim_token: None,
                table.updated_at: now,
            }
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Failure:
    outcome: str  # RETRYING, FAILED or LOST
    attempts: int


def record_failure(
    session: Session,
    table: LeaseTable,
    policy: Policy,
    row_id: Any,
    token: str,
    *,
    now: dt.datetime,
    reason: str,
    permanent: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
) -> Failure:
    """A claimed row's attempt failed: retry after the policy's delay, or fail for good after
    the last attempt or a `permanent` refusal. LOST when this run no longer holds the claim (or
    `where` no longer holds, e.g. the mail was cancelled meanwhile)."""
    columns = (
        [table.attempts] if table.max_attempts is None else [table.attempts, table.max_attempts]
    )
    row = session.execute(select(*columns).where(mine(table, row_id, token))).first()
    if row is None:
        return Failure(LOST, 0)
    attempts = int(row[0])
    max_attempts = policy.max_attempts if table.max_attempts is None else int(row[1])
    final = permanent or attempts >= max_attempts
    values: dict[Any, Any] = {table.last_error: reason[: table.error_max]}
    if final:
        values[table.status] = table.failed
    else:
        values[table.due_at] = now + policy.retry_delay(attempts)
    if not settle(session, table, row_id, token, now=now, values=values, where=where):
        return Failure(LOST, attempts)
    return Failure(FAILED if final else RETRYING, attempts)


def release(
    session: Session, table: LeaseTable, row_ids: Sequence[Any], token: str, *, now: dt.datetime
) -> None:
    """Give back claims this run will not work on; their attempt is not counted."""
    if not row_ids:
        return
    session.execute(
        update(table.model)
        .where(table.id.in_(list(row_ids)), table.claim_token == token)
        .values(
            {
                table.claimed_at: None,
                table.claim_token: None,
                table.attempts: table.attempts - 1,
                table.updated_at: now,
            }
        )
        .execution_options(synchronize_session=False)
    )


def abandon_expired(
    session: Session,
    table: LeaseTable,
    policy: Policy,
    *,
    now: dt.datetime,
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Fail the rows whose claim expired on their last attempt (the worker died while working:
    no attempt is left to retry with); how many. On PostgreSQL the rows are locked first with
    SKIP LOCKED, as `claim` does: a row another worker holds is left for the next round, so
    this never waits for a lock (docs/decisions/0046-lock-order-and-retries.md)."""
    expired = and_(
        table.status == table.pending,
        table.attempts >= table.attempt_limit(policy),
        table.claimed_at < now - policy.lease,
        *where,
    )
    if session.get_bind().dialect.name == "postgresql":
        ids = session.scalars(
            select(table.id).where(expired).order_by(table.id).with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return 0
        expired = and_(expired, table.id.in_(ids))
    result = session.execute(
        update(table.model)
        .where(expired)
        .values(
            {
                table.status: table.failed,
                table.last_error: ABANDONED,
                table.claimed_at: None,
                table.claim_token: None,
                table.updated_at: now,
            }
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]


def check_aware(**values: dt.datetime) -> None:
    for name, value in values.items():
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime (portal.clock.now())")
