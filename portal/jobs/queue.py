"""Typed jobs: a kind names its payload model (pydantic) and its handler; `enqueue` adds a job in
the caller's transaction (it runs only if the caller commits); `run_due` claims due jobs one
at a time through the lease mechanism (portal/jobs/lease.py), runs them, and records `done`,
a retry after the kind's backoff, or `failed` after its last attempt.

A handler runs in the worker's app context and does its own short transactions
(`db.session_factory`), safe to repeat: a job runs at least once (a worker that dies mid-job
leaves a lease that expires after JOB_LEASE, and the job runs again), never in two live workers
at the same time. It returns a one-line summary when it did something, or None.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from portal import observability
from portal.db import write_intent
from portal.jobs import lease
from portal.jobs.models import DONE, ERROR_MAX, FAILED, KEY_MAX, KIND_MAX, PENDING, RESULT_MAX, Job

log = logging.getLogger(__name__)

# A running job holds its lease this long: every handler must finish well within it.
JOB_LEASE = dt.timedelta(minutes=30)
DEFAULT_POLICY = lease.Policy(
    max_attempts=5,
    retry_delays=(
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=30),
        dt.timedelta(hours=2),
    ),
    lease=JOB_LEASE,
)
BATCH_SIZE = 20
# Finished jobs are kept this long (what ran, when, and why it failed), then pruned.
KEEP_DONE = dt.timedelta(days=7)
KEEP_FAILED = dt.timedelta(days=30)

LEASE = lease.LeaseTable(
    model=Job,
    id=Job.id,
    status=Job.status,
    due_at=Job.run_after,
    attempts=Job.attempts,
    claimed_at=Job.claimed_at,
    claim_token=Job.claim_token,
    last_error=Job.last_error,
    updated_at=Job.updated_at,
    pending=PENDING,
    failed=FAILED,
    error_max=ERROR_MAX,
    max_attempts=Job.max_attempts,
)

_KIND = re.compile(r"[a-z][a-z0-9-]*")

P = TypeVar("P", bound=BaseModel)


class NoPayload(BaseModel):
    """The payload of a job that needs none (every periodic duty)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class JobContext:
    now: dt.datetime  # the worker round's time
    attempt: int  # 1 for the first
    should_stop: Callable[[], bool] = field(default=lambda: False)


class PermanentJobError(Exception):
    """Raised by a handler when trying again cannot help: the job fails at once."""


@dataclass(frozen=True)
class JobKind(Generic[P]):
    name: str  # kebab-case ASCII: "expired-sessions"
    payload: type[P]
    run: Callable[[P, JobContext], str | None]
    policy: lease.Policy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        if not _KIND.fullmatch(self.name) or len(self.name) > KIND_MAX:
            raise ValueError(f"job kind {self.name!r} must be kebab-case ASCII")
        if self.policy.lease != JOB_LEASE:
            raise ValueError("every job kind holds the jobs table's lease (JOB_LEASE)")


@dataclass(frozen=True)
class Ran:
    """What one job's run came to."""

    kind: str
    outcome: str  # "done", "retrying", "failed" or "lost"
    summary: str | None = None


def enqueue(
    session: Session,
    kind: JobKind[P],
    payload: P,
    *,
    now: dt.datetime,
    run_after: dt.datetime | None = None,
    key: str | None = None,
) -> Job:
    """Add a pending job in the caller's transaction (flushed, not committed)."""
    lease.check_aware(now=now, run_after=run_after or now)
    if not isinstance(payload, kind.payload):
        raise TypeError(f"{kind.name} takes a {kind.payload.__name__} payload")
    if key is not None and not 0 < len(key) <= KEY_MAX:
        raise ValueError(f"key must have 1 to {KEY_MAX} characters")
    job = Job(
        kind=kind.name,
        key=key,
        payload=payload.model_dump(mode="json"),
        status=PENDING,
        attempts=0,
        max_attempts=kind.policy.max_attempts,
        run_after=run_after or now,
        request_id=observability.current_request_id(),
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job


def run_due(
    factory: Callable[[], Session],
    kinds: Mapping[str, JobKind[Any]],
    *,
    now: dt.datetime,
    limit: int = BATCH_SIZE,
    should_stop: Callable[[], bool] | None = None,
    lease_for: dt.timedelta = JOB_LEASE,
) -> list[Ran]:
    """Run up to `limit` due jobs of these kinds (others wait for a worker that has them), one
    claim at a time; what each came to, in the order they ran. `lease_for`: how old a claim
    must be before it is taken over (the worker's PORTAL_JOB_LEASE_SECONDS)."""
    lease.check_aware(now=now)
    policy = dataclasses.replace(DEFAULT_POLICY, lease=lease_for)
    stop = should_stop or (lambda: False)
    token = secrets.token_hex(16)
    ran: list[Ran] = []
    only = [Job.kind.in_(list(kinds))]
    intent = write_intent.set(True)  # every transaction here writes: SQLite locks at BEGIN
    try:
        with factory() as session, session.begin():
            abandoned = lease.abandon_expired(session, LEASE, policy, now=now, where=only)
        if abandoned:
            log.warning("jobs: %d job(s) failed: %s", abandoned, lease.ABANDONED)
        while len(ran) < limit and not stop():
            with factory() as session, session.begin():
                claimed = lease.claim(
                    session, LEASE, policy, now=now, token=token, limit=1, where=only
                )
                if not claimed:
                    break
                job = session.execute(
                    select(Job.id, Job.kind, Job.payload, Job.attempts, Job.request_id).where(
                        Job.id == claimed[0]
                    )
                ).one()
            # The worker's lines about this job carry the id of the request that enqueued it.
            working = observability.work_id.set(job.request_id or f"job-{job.id}")
            try:
                ran.append(_run(factory, kinds[job.kind], job, now, token, stop))
            finally:
                observability.work_id.reset(working)
    finally:
        write_intent.reset(intent)
    return ran


def _run(
    factory: Callable[[], Session],
    kind: JobKind[Any],
    job: Any,
    now: dt.datetime,
    token: str,
    stop: Callable[[], bool],
) -> Ran:
    try:
        payload = kind.payload.model_validate(job.payload)
        summary = kind.run(payload, JobContext(now=now, attempt=job.attempts, should_stop=stop))
    except Exception as error:  # noqa: BLE001 - every failure is recorded, none stops the worker
        reason = type(error).__name__  # the class only: texts may carry personal data
        permanent = isinstance(error, PermanentJobError | ValidationError)
        with factory() as session, session.begin():
            failure = lease.record_failure(
                session,
                LEASE,
                kind.policy,
                job.id,
                token,
                now=now,
                reason=reason,
                permanent=permanent,
            )
        if failure.outcome == lease.FAILED:
            log.error(
                "jobs: %s (job %d) failed (%s) after %d attempt(s)",
                kind.name,
                job.id,
                reason,
                failure.attempts,
            )
        else:
            log.warning(
                "jobs: %s (job %d) failed (%s), attempt %d; %s",
                kind.name,
                job.id,
                reason,
                failure.attempts,
                "retrying" if failure.outcome == lease.RETRYING else "taken over",
            )
        return Ran(kind.name, failure.outcome)
    with factory() as session, session.begin():
        done = lease.settle(
            session,
            LEASE,
            job.id,
            token,
            now=now,
            values={
                Job.status: DONE,
                Job.finished_at: now,
                Job.result: summary[:RESULT_MAX] if summary else None,
                Job.last_error: None,
            },
        )
    if not done:
        log.warning("jobs: %s (job %d) ran but its lease had expired", kind.name, job.id)
        return Ran(kind.name, lease.LOST, summary)
    if summary:
        log.info("jobs: %s (job %d): %s", kind.name, job.id, summary)
    return Ran(kind.name, DONE, summary)


def prune_finished(session: Session, now: dt.datetime) -> int:
    """Delete jobs done more than KEEP_DONE ago and failed more than KEEP_FAILED ago, and the
    periods of duties no worker ran for KEEP_FAILED (a duty that was switched off)."""
    count = 0
    for condition in (
        and_(Job.status == DONE, Job.updated_at < now - KEEP_DONE),
        and_(Job.status == FAILED, Job.updated_at < now - KEEP_FAILED),
        and_(Job.status == PENDING, Job.key.is_not(None), Job.run_after < now - KEEP_FAILED),
    ):
        count += session.execute(delete(Job).where(condition)).rowcount  # type: ignore[attr-defined]
    return count
