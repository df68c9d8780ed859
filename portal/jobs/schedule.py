"""Periodic duties: what the portal does on a schedule, run as jobs.

A duty has a name, a schedule (`every` an interval, or `daily_at` a time in Japan) and a
function `module:function(should_stop) -> str | None` (imported when it runs, so a disabled
duty's package is never loaded). Each worker round, `plan` makes sure the current period of
every enabled duty has its job: the job's `key` is "<name>@<period>" and unique, so however
many workers plan the same period, one job exists; the job is then claimed and run like any
other (portal/jobs/queue.py): once per period, retried with backoff when it fails. A worker that
was stopped for a while does not catch up on the periods it missed: it plans the current one.

Adding a duty: write the function (short transactions, safe to run again; a one-line summary
when it did something, else None) and add a `Duty` line to SCHEDULE. `enabled_by` names a
setting that must be true for the duty to run (None: always).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import clock
from portal.db import write_intent
from portal.jobs import lease
from portal.jobs.models import PENDING, Job
from portal.jobs.queue import JOB_LEASE, JobContext, JobKind, NoPayload

log = logging.getLogger(__name__)

# A duty runs again next period anyway: a few quick retries, then it waits for the next one.
DUTY_POLICY = lease.Policy(
    max_attempts=3,
    retry_delays=(dt.timedelta(minutes=1), dt.timedelta(minutes=5)),
    lease=JOB_LEASE,
)
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Duty:
    name: str  # kebab-case: also the job kind
    target: str  # "module:function", called with should_stop
    every: dt.timedelta | None = None
    daily_at: dt.time | None = None  # in Japan (Asia/Tokyo)
    enabled_by: str | None = None
    policy: lease.Policy = field(default=DUTY_POLICY)

    def __post_init__(self) -> None:
        if (self.every is None) == (self.daily_at is None):
            raise ValueError(f"duty {self.name}: give either every or daily_at")
        if self.every is not None and self.every < dt.timedelta(seconds=1):
            raise ValueError(f"duty {self.name}: every must be at least one second")

    def period(self, now: dt.datetime) -> tuple[str, dt.datetime]:
        """The current period's key and start."""
        if self.every is not None:
            start = _EPOCH + self.every * ((now - _EPOCH) // self.every)
            return f"{self.name}@{start.isoformat()}", start
        assert self.daily_at is not None
        local = now.astimezone(clock.TOKYO)
        day = local.date()
        if local.time() < self.daily_at:
            day -= dt.timedelta(days=1)
        start = dt.datetime.combine(day, self.daily_at, tzinfo=clock.TOKYO).astimezone(dt.UTC)
        return f"{self.name}@{day.isoformat()}", start

    def function(self) -> Callable[[Callable[[], bool] | None], str | None]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def kind(self) -> JobKind[NoPayload]:
        def run(_payload: NoPayload, context: JobContext) -> str | None:
            return self.function()(context.should_stop)

        return JobKind(self.name, NoPayload, run, self.policy)


# What the worker does on a schedule (the outbox and the mock provider's webhooks are worked
# every round instead: their rows are the jobs, portal/jobs/worker.py).
SCHEDULE: list[Duty] = [
    # Open payments nothing has reported about for ten minutes: ask the provider.
    Duty(
        "payment-reconciliation",
        "portal.payments.cli:worker_round",
        every=dt.timedelta(minutes=1),
        enabled_by="PAYMENT_PROVIDER",
    ),
    # Anonymise applications past their retention period (portal/retention): once a day in Japan.
    Duty("retention-purge", "portal.retention.cli:worker_round", daily_at=dt.time(0, 0)),
    # Server-side sessions past their limits (resident and staff): they hold who was signed in.
    Duty(
        "expired-sessions",
        "portal.identity.sessions:expired_sessions_duty",
        every=dt.timedelta(minutes=15),
    ),
    # Kiosk visits idle past the reset whose terminal never asked again (unplugged, crashed):
    # wiped by the server; expired 「続きはスマートフォンで」 codes take their drafts with them.
    Duty("kiosk-visits", "portal.kiosk.duty:idle_visits_duty", every=dt.timedelta(minutes=1)),
    # スマホ教室 practice classes past the end of their day: ended, their drafts deleted.
    Duty(
        "practice-classes",
        "portal.assisted.practice:expired_classes_duty",
        every=dt.timedelta(minutes=15),
    ),
    # The mock card service's expired codes, tokens and signing transactions.
    Duty(
        "mock-jpki-expired",
        "portal.mock_jpki.housekeeping:expired_rows_duty",
        every=dt.timedelta(hours=1),
        enabled_by="MOCK_JPKI_ENABLED",
    ),
    # Rate-limit counters whose window has passed (portal/rate_limits.py, the database storage).
    Duty(
        "rate-limit-counters",
        "portal.rate_limits:expired_counters_duty",
        every=dt.timedelta(minutes=15),
    ),
    # Finished jobs kept for a while (what ran and why it failed), then deleted.
    Duty("finished-jobs", "portal.jobs.worker:prune_duty", daily_at=dt.time(4, 30)),
]


def enabled(schedule: Iterable[Duty], config: Mapping[str, Any]) -> list[Duty]:
    return [d for d in schedule if d.enabled_by is None or config.get(d.enabled_by)]


def plan(factory: Callable[[], Session], duties: Sequence[Duty], *, now: dt.datetime) -> int:
    """Make sure each duty's current period has its job; how many this call added."""
    lease.check_aware(now=now)
    periods = {duty.name: duty.period(now) for duty in duties}
    keys = [key for key, _start in periods.values()]
    if not keys:
        return 0
    intent = write_intent.set(False)  # a read first: no write lock on SQLite most rounds
    try:
        with factory() as session:
            existing = set(session.scalars(select(Job.key).where(Job.key.in_(keys))))
    finally:
        write_intent.reset(intent)
    missing = [d for d in duties if periods[d.name][0] not in existing]
    if not missing:
        return 0
    rows = [
        {
            "kind": duty.name,
            "key": periods[duty.name][0],
            "payload": {},
            "status": PENDING,
            "attempts": 0,
            "max_attempts": duty.policy.max_attempts,
            "run_after": periods[duty.name][1],
            "created_at": now,
            "updated_at": now,
        }
        for duty in missing
    ]
    added = 0
    intent = write_intent.set(True)
    try:
        with factory() as session, session.begin():
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            for row in rows:
                # Another worker may plan the same period at the same moment: one row wins.
                result = session.execute(
                    dialect.insert(Job).values(row).on_conflict_do_nothing(index_elements=["key"])
                )
                added += result.rowcount  # type: ignore[attr-defined]
    finally:
        write_intent.reset(intent)
    return added
