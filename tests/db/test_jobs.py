"""The one job mechanism on SQLite and PostgreSQL (portal/jobs): typed jobs run once, retried with
backoff and then given up; four workers racing over the same jobs never run one twice; a periodic
duty runs once per period with two workers; an expired lease lets another worker retake the job;
and the worker's `expired-sessions` duty deletes the sessions that ended and keeps the live ones.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal import clock
from portal.db import db
from portal.identity.models import WebSession
from portal.identity.sessions import ABSOLUTE_TIMEOUT
from portal.jobs import lease, queue, schedule
from portal.jobs.models import DONE, FAILED, PENDING, Job
from portal.jobs.queue import JOB_LEASE, JobKind, PermanentJobError, enqueue, run_due
from portal.jobs.schedule import Duty, plan
from portal.security import token_hash
from tests.concurrency import run_together

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)


class Greeting(BaseModel):
    number: int


class Recorder:
    """A handler that remembers the payloads it ran (thread-safe), optionally slowly or failing."""

    def __init__(self, fail: Exception | None = None, delay: float = 0.0) -> None:
        self.ran: list[int] = []
        self.tries = 0
        self.fail = fail
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, payload: Greeting, context: queue.JobContext) -> str | None:
        with self._lock:
            self.tries += 1
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.ran.append(payload.number)
        return f"greeted {payload.number}"


POLICY = lease.Policy(
    max_attempts=3,
    retry_delays=(dt.timedelta(minutes=1), dt.timedelta(minutes=10)),
    lease=JOB_LEASE,
)


def kind_of(recorder: Recorder, name: str = "greeting") -> JobKind[Greeting]:
    return JobKind(name, Greeting, recorder, POLICY)


def add(engine, kind: JobKind[Greeting], n: int = 1, *, run_after=NOW) -> list[int]:
    with Session(engine) as session:
        ids = [
            enqueue(session, kind, Greeting(number=i), now=NOW, run_after=run_after).id
            for i in range(n)
        ]
        session.commit()
    return ids


def jobs(engine) -> dict[int, Job]:
    with Session(engine) as session:
        return {job.id: job for job in session.scalars(select(Job))}


def test_a_job_runs_once_when_due(clean_db, engine):
    recorder = Recorder()
    kind = kind_of(recorder)
    later = NOW + dt.timedelta(hours=1)
    [job_id] = add(engine, kind, run_after=later)
    factory = sessionmaker(engine)
    assert run_due(factory, {kind.name: kind}, now=later - dt.timedelta(seconds=1)) == []
    [ran] = run_due(factory, {kind.name: kind}, now=later)
    assert (ran.kind, ran.outcome, ran.summary) == ("greeting", DONE, "greeted 0")
    job = jobs(engine)[job_id]
    assert (job.status, job.attempts, job.finished_at, job.result) == (DONE, 1, later, "greeted 0")
    assert job.claimed_at is None and job.claim_token is None
    assert run_due(factory, {kind.name: kind}, now=later + dt.timedelta(days=1)) == []
    assert recorder.ran == [0]


def test_a_job_rolls_back_with_the_caller(clean_db, engine):
    kind = kind_of(Recorder())
    with Session(engine) as session:
        enqueue(session, kind, Greeting(number=1), now=NOW)
        session.rollback()
    assert jobs(engine) == {}
    with Session(engine) as session, pytest.raises(TypeError, match="Greeting"):
        enqueue(session, kind, queue.NoPayload(), now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kebab-case"):
        JobKind("Greeting job", Greeting, Recorder())


def test_jobs_of_kinds_this_worker_lacks_wait(clean_db, engine):
    recorder = Recorder()
    [job_id] = add(engine, kind_of(recorder, "other-kind"))
    mine = kind_of(recorder)
    assert run_due(sessionmaker(engine), {mine.name: mine}, now=NOW) == []
    assert jobs(engine)[job_id].status == PENDING and jobs(engine)[job_id].attempts == 0


def test_failed_jobs_are_retried_with_backoff_then_given_up(clean_db, engine):
    recorder = Recorder(fail=ConnectionError("resident@example.jp unreachable"))
    kind = kind_of(recorder)
    kinds = {kind.name: kind}
    [job_id] = add(engine, kind)
    factory = sessionmaker(engine)
    now = NOW
    for attempt, delay in enumerate(POLICY.retry_delays, start=1):
        assert [r.outcome for r in run_due(factory, kinds, now=now)] == [lease.RETRYING]
        job = jobs(engine)[job_id]
        assert (job.status, job.attempts, job.run_after) == (PENDING, attempt, now + delay)
        assert job.last_error == "ConnectionError"  # never the exception's text
        assert run_due(factory, kinds, now=now + delay - dt.timedelta(seconds=1)) == []
        now += delay
    assert [r.outcome for r in run_due(factory, kinds, now=now)] == [FAILED]
    job = jobs(engine)[job_id]
    assert (job.status, job.attempts) == (FAILED, POLICY.max_attempts)
    assert run_due(factory, kinds, now=now + dt.timedelta(days=1)) == []
    assert recorder.tries == POLICY.max_attempts


def test_a_permanent_error_or_a_bad_payload_fails_at_once(clean_db, engine):
    refusing = kind_of(Recorder(fail=PermanentJobError()), "refusing")
    [refused] = add(engine, refusing)
    factory = sessionmaker(engine)
    assert [r.outcome for r in run_due(factory, {"refusing": refusing}, now=NOW)] == [FAILED]
    assert jobs(engine)[refused].attempts == 1

    recorder = Recorder()
    kind = kind_of(recorder)
    [bad] = add(engine, kind)
    with Session(engine) as session:
        session.execute(update(Job).where(Job.id == bad).values(payload={"number": "many"}))
        session.commit()
    assert [r.outcome for r in run_due(factory, {kind.name: kind}, now=NOW)] == [FAILED]
    assert jobs(engine)[bad].last_error == "ValidationError" and recorder.tries == 0


def test_racing_workers_never_run_a_job_twice(clean_db, engine):
    recorder = Recorder(delay=0.005)
    kind = kind_of(recorder)
    add(engine, kind, 40)
    factory = sessionmaker(engine)

    def work(_n: int) -> None:
        while run_due(factory, {kind.name: kind}, now=NOW, limit=5):
            pass

    assert run_together(4, work) == []
    assert sorted(recorder.ran) == list(range(40))
    assert Counter(recorder.ran).most_common(1)[0][1] == 1
    assert {(j.status, j.attempts) for j in jobs(engine).values()} == {(DONE, 1)}


def test_an_expired_lease_lets_another_worker_retake_the_job(clean_db, engine):
    recorder = Recorder()
    kind = kind_of(recorder)
    [job_id] = add(engine, kind)
    with Session(engine) as session:  # a worker claimed it, then died before finishing
        session.execute(update(Job).values(claimed_at=NOW, claim_token="dead", attempts=1))
        session.commit()
    factory = sessionmaker(engine)
    kinds = {kind.name: kind}
    assert run_due(factory, kinds, now=NOW + JOB_LEASE - dt.timedelta(seconds=1)) == []
    later = NOW + JOB_LEASE + dt.timedelta(seconds=1)
    assert [r.outcome for r in run_due(factory, kinds, now=later)] == [DONE]
    job = jobs(engine)[job_id]
    assert (job.status, job.attempts, recorder.ran) == (DONE, 2, [0])

    # The dead worker's late result changes nothing: its token is no longer on the row.
    with Session(engine) as session, session.begin():
        assert not lease.settle(
            session, queue.LEASE, job_id, "dead", now=later, values={Job.status: FAILED}
        )
    assert jobs(engine)[job_id].status == DONE


def test_a_shorter_configured_lease_takes_a_dead_workers_job_over_sooner(clean_db, engine):
    """PORTAL_JOB_LEASE_SECONDS (the worker passes it as lease_for): the claim of a worker that
    died is taken over once that lease has passed, and not before."""
    recorder = Recorder()
    kind = kind_of(recorder)
    [job_id] = add(engine, kind)
    with Session(engine) as session:
        session.execute(update(Job).values(claimed_at=NOW, claim_token="dead", attempts=1))
        session.commit()
    factory = sessionmaker(engine)
    kinds = {kind.name: kind}
    short = dt.timedelta(seconds=20)
    soon = NOW + dt.timedelta(seconds=19)
    assert run_due(factory, kinds, now=soon, lease_for=short) == []
    later = NOW + dt.timedelta(seconds=21)
    assert run_due(factory, kinds, now=later) == []  # the default lease: still the dead one's
    assert [r.outcome for r in run_due(factory, kinds, now=later, lease_for=short)] == [DONE]
    assert (jobs(engine)[job_id].attempts, recorder.ran) == (2, [0])


def test_a_lease_that_expires_on_the_last_attempt_is_abandoned(clean_db, engine):
    recorder = Recorder()
    kind = kind_of(recorder)
    [job_id] = add(engine, kind)
    with Session(engine) as session:
        session.execute(
            update(Job).values(claimed_at=NOW, claim_token="dead", attempts=POLICY.max_attempts)
        )
        session.commit()
    later = NOW + JOB_LEASE + dt.timedelta(seconds=1)
    assert run_due(sessionmaker(engine), {kind.name: kind}, now=later) == []
    job = jobs(engine)[job_id]
    assert (job.status, job.last_error, job.claim_token) == (FAILED, lease.ABANDONED, None)
    assert recorder.tries == 0


# --- Periodic duties ------------------------------------------------------------------------

RUNS: list[str] = []
_RUNS_LOCK = threading.Lock()


def counting_duty(_should_stop=None) -> str:
    with _RUNS_LOCK:
        RUNS.append("ran")
    time.sleep(0.01)
    return "counted"


def failing_duty(_should_stop=None) -> str:
    raise RuntimeError("resident@example.jp")


COUNTING = Duty("counting", f"{__name__}:counting_duty", every=dt.timedelta(minutes=15))
FAILING = Duty("failing", f"{__name__}:failing_duty", every=dt.timedelta(minutes=15))


def worker_round(factory, duties, now) -> list[queue.Ran]:
    plan(factory, duties, now=now)
    return run_due(factory, {d.name: d.kind() for d in duties}, now=now)


def test_a_periodic_duty_runs_once_per_period_with_two_workers(clean_db, engine):
    RUNS.clear()
    factory = sessionmaker(engine)
    summaries: list[str | None] = []

    def work(_n: int) -> None:
        for ran in worker_round(factory, [COUNTING], NOW):
            summaries.append(ran.summary)

    assert run_together(2, work) == []
    assert (RUNS, summaries) == (["ran"], ["counted"])
    # Later in the same period: nothing; the next period: once more, whichever worker plans it.
    assert run_together(2, lambda _n: work(_n)) == []
    assert len(RUNS) == 1
    next_period = NOW + dt.timedelta(minutes=15)
    assert run_together(2, lambda _n: worker_round(factory, [COUNTING], next_period)) == []
    assert len(RUNS) == 2
    with Session(engine) as session:
        keys = session.scalars(select(Job.key).order_by(Job.id)).all()
    assert keys == ["counting@2026-11-22T01:00:00+00:00", "counting@2026-11-22T01:15:00+00:00"]


def test_a_failing_duty_is_retried_and_does_not_stop_the_others(clean_db, engine):
    RUNS.clear()
    factory = sessionmaker(engine)
    ran = worker_round(factory, [FAILING, COUNTING], NOW)
    assert sorted(r.outcome for r in ran) == [DONE, lease.RETRYING]
    assert RUNS == ["ran"]
    with Session(engine) as session:
        failing = session.scalar(select(Job).where(Job.kind == "failing"))
        assert failing is not None
        assert (failing.last_error, failing.run_after) == (
            "RuntimeError",
            NOW + dt.timedelta(minutes=1),
        )
    retry = worker_round(factory, [FAILING, COUNTING], NOW + dt.timedelta(minutes=1))
    assert [(r.kind, r.outcome) for r in retry] == [("failing", lease.RETRYING)]


def test_duty_periods():
    assert COUNTING.period(dt.datetime(2026, 11, 22, 1, 14, 59, tzinfo=dt.UTC)) == (
        "counting@2026-11-22T01:00:00+00:00",
        dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC),
    )
    daily = Duty("daily", f"{__name__}:counting_duty", daily_at=dt.time(4, 30))
    # 2026-11-22 04:29 in Japan is still the day before's period; 04:30 starts the 22nd's.
    before = dt.datetime(2026, 11, 21, 19, 29, tzinfo=dt.UTC)
    at = dt.datetime(2026, 11, 21, 19, 30, tzinfo=dt.UTC)
    assert daily.period(before) == (
        "daily@2026-11-21",
        dt.datetime(2026, 11, 20, 19, 30, tzinfo=dt.UTC),
    )
    assert daily.period(at) == ("daily@2026-11-22", at)
    with pytest.raises(ValueError, match="either every or daily_at"):
        Duty("both", "x:y", every=dt.timedelta(minutes=1), daily_at=dt.time(0, 0))


def test_the_schedule_is_complete_and_importable():
    names = [duty.name for duty in schedule.SCHEDULE]
    assert names == [
        "payment-reconciliation",
        "retention-purge",
        "expired-sessions",
        "kiosk-visits",
        "practice-classes",
        "mock-jpki-expired",
        "rate-limit-counters",
        "finished-jobs",
    ]
    for duty in schedule.SCHEDULE:
        assert callable(duty.function())


def test_finished_jobs_are_pruned(clean_db, engine):
    kind = kind_of(Recorder())
    done_old, done_new, failed_old, pending_old, period_old = add(engine, kind, 5)
    with Session(engine) as session:
        for job_id, status, age in [
            (done_old, DONE, queue.KEEP_DONE),
            (done_new, DONE, dt.timedelta(days=1)),
            (failed_old, FAILED, queue.KEEP_FAILED),
            (pending_old, PENDING, queue.KEEP_FAILED),
            (period_old, PENDING, queue.KEEP_FAILED),
        ]:
            then = NOW - age - dt.timedelta(seconds=1)
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status=status, updated_at=then, run_after=then)
            )
        # A period of a duty that was switched off since.
        session.execute(update(Job).where(Job.id == period_old).values(key="gone@2026-10-01"))
        session.commit()
    with Session(engine) as session, session.begin():
        assert queue.prune_finished(session, NOW) == 3
    # A typed job still waiting (for a worker that has its kind) is kept, however old.
    assert sorted(jobs(engine)) == [done_new, pending_old]


def test_the_mock_card_services_expired_rows_are_deleted(clean_db, engine):
    from portal.mock_jpki.housekeeping import KEEP_EXPIRED_TRANSACTIONS, delete_expired
    from portal.mock_jpki.models import MockAccessToken, MockAuthorizationCode, MockSignTransaction

    def code(name: str, expires_at: dt.datetime) -> MockAuthorizationCode:
        return MockAuthorizationCode(
            code=name,
            client_id="portal",
            redirect_uri="http://127.0.0.1/cb",
            scope="openid",
            persona_id="p",
            auth_time=0,
            expires_at=expires_at,
        )

    def token(name: str, expires_at: dt.datetime) -> MockAccessToken:
        return MockAccessToken(
            access_token=name,
            client_id="portal",
            persona_id="p",
            scope="openid",
            expires_at=expires_at,
        )

    def transaction(name: str, expires_at: dt.datetime) -> MockSignTransaction:
        return MockSignTransaction(
            transaction_id=name,
            client_id="portal",
            documents=[],
            created_at=NOW,
            expires_at=expires_at,
        )

    second = dt.timedelta(seconds=1)
    with Session(engine) as session:
        session.add_all(
            [
                code("old", NOW),
                code("live", NOW + second),
                token("old", NOW - second),
                token("live", NOW + second),
                transaction("old", NOW - KEEP_EXPIRED_TRANSACTIONS),
                transaction("late", NOW - second),
            ]
        )
        session.commit()
    with Session(engine) as session, session.begin():
        assert delete_expired(session, NOW) == 3
    with Session(engine) as session:
        assert session.scalars(select(MockAuthorizationCode.code)).all() == ["live"]
        assert session.scalars(select(MockAccessToken.access_token)).all() == ["live"]
        assert session.scalars(select(MockSignTransaction.transaction_id)).all() == ["late"]


# --- The expired-sessions duty, through the worker ------------------------------------------


def test_the_worker_deletes_expired_sessions_and_keeps_live_ones(app):
    now = NOW
    clock.set_override(now)
    sessions = {
        # name: (data, began, last seen)
        "anonymous, idle an hour": ({"draft": "x"}, now - dt.timedelta(hours=2), 60),
        "signed in, idle 10 min": ({"user": {"sub": "a"}}, now - dt.timedelta(hours=1), 10),
        "staff, idle 10 min": ({"staff": {"id": 1}}, now - dt.timedelta(hours=1), 10),
        "signed in, idle 31 min": ({"user": {"sub": "b"}}, now - dt.timedelta(hours=1), 31),
        "staff, idle 16 min": ({"staff": {"id": 2}}, now - dt.timedelta(hours=1), 16),
        "anonymous, 12 hours old": ({"draft": "y"}, now - ABSOLUTE_TIMEOUT, 1),
    }
    with app.app_context():
        for name, (data, began, idle_minutes) in sessions.items():
            db.session.add(
                WebSession(
                    token_hash=token_hash(name),
                    data=data,
                    created_at=began,
                    last_seen_at=now - dt.timedelta(minutes=idle_minutes),
                    expires_at=began + ABSOLUTE_TIMEOUT,
                )
            )
        db.session.commit()

    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sessions: 3 ended session(s) deleted" in result.output.splitlines()
    with app.app_context():
        left = set(db.session.scalars(select(WebSession.token_hash)))
        [job] = db.session.scalars(select(Job).where(Job.kind == "expired-sessions")).all()
    assert left == {token_hash(n) for n in list(sessions)[:3]}
    assert (job.status, job.result) == (DONE, "sessions: 3 ended session(s) deleted")

    # The same period again: the duty does not run twice (a new expiry waits for the next one).
    clock.set_override(now + dt.timedelta(minutes=1))
    result = runner.invoke(args=["portal", "worker", "--once"])
    assert not any(line.startswith("sessions:") for line in result.output.splitlines())
    clock.set_override(now + dt.timedelta(minutes=21))  # the next period: the idle ones go
    result = runner.invoke(args=["portal", "worker", "--once"])
    assert "sessions: 2 ended session(s) deleted" in result.output.splitlines()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == 1
