"""`flask portal worker`: the one background worker (`make worker`, compose's `worker`).

Each round
1. works the queues whose rows are their own jobs, in every worker at once (each row is claimed
   through portal/jobs/lease.py): the outbox's mail, then the mock payment service's webhooks;
2. plans the current period of every periodic duty (portal/jobs/schedule.py SCHEDULE);
3. runs the due jobs (portal/jobs/queue.py): duties' periods and typed jobs, each claimed once.

`--once` does one round until nothing more is due and exits, printing the outbox's line (also
when there was no mail) and the summary of whatever else did something (cron, tests); otherwise
a round runs every `--interval` seconds until interrupted (Ctrl+C, or SIGTERM from the container
runtime, which lets the job or message in hand finish first). Any number of workers may run at
once, on SQLite or PostgreSQL. See docs/decisions/0040-one-job-mechanism.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from portal import clock
from portal.db import db, write_intent
from portal.jobs import queue, schedule
from portal.jobs.models import WORKER_NAME_MAX, WorkerHeartbeat
from portal.jobs.queue import JobKind

log = logging.getLogger(__name__)

portal_cli = AppGroup("portal", help="Background work: the worker.")


@dataclass(frozen=True)
class Drain:
    """A queue whose rows are its own jobs, worked every round by every worker."""

    name: str
    # "module:function(should_stop) -> str | None" (a line when it did something), imported
    # when it runs.
    target: str
    enabled_by: str | None = None
    # "module:ATTRIBUTE": the line `--once` prints when the drain had nothing to do (None: none).
    idle: str | None = None

    def idle_line(self) -> str | None:
        if self.idle is None:
            return None
        module, _, name = self.idle.partition(":")
        return getattr(importlib.import_module(module), name)

    def function(self) -> Callable[[Callable[[], bool] | None], str | None]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


DRAINS: list[Drain] = [
    Drain("outbox", "portal.outbox.delivery:worker_round", idle="portal.outbox.delivery:IDLE"),
    Drain("mock-pay webhooks", "portal.mock_pay.cli:worker_round", "MOCK_PAY_ENABLED"),
]

# Typed job kinds ("module:ATTRIBUTE" naming a JobKind) the worker runs besides the duties.
# A package that enqueues a kind adds it here.
JOB_KINDS: list[str] = []


def job_kinds(
    config: Mapping[str, Any], duties: Sequence[schedule.Duty], extra: Iterable[str] = ()
) -> dict[str, JobKind[Any]]:
    kinds: dict[str, JobKind[Any]] = {duty.name: duty.kind() for duty in duties}
    for target in [*JOB_KINDS, *extra]:
        module, _, name = target.partition(":")
        kind = getattr(importlib.import_module(module), name)
        kinds[kind.name] = kind
    return kinds


def run_round(
    should_stop: Callable[[], bool] | None = None,
    *,
    duties: Sequence[schedule.Duty] | None = None,
    once: bool = False,
) -> list[str]:
    """One round in the app context; the summary lines of what did something. `once` (the
    `--once` run): run jobs until none is due, not one batch, and say that the outbox had
    nothing to send."""
    assert db.session_factory is not None, "Database.init_app() was not called"
    config = current_app.config
    stop = should_stop or (lambda: False)
    lines: list[str] = []
    for drain in DRAINS:
        if stop():
            return lines
        if drain.enabled_by and not config.get(drain.enabled_by):
            continue
        try:
            line = drain.function()(should_stop)
        except Exception as error:  # noqa: BLE001 - the database may be back next round
            log.error("worker: %s failed (%s)", drain.name, type(error).__name__)
            continue
        if not line and once:
            line = drain.idle_line()
        if line:
            lines.append(line)
    active = schedule.enabled(schedule.SCHEDULE if duties is None else duties, config)
    try:
        schedule.plan(db.session_factory, active, now=clock.now())
        kinds = job_kinds(config, active, config.get("EXTRA_JOB_KINDS", ()))
        lease_for = dt.timedelta(seconds=config.get("JOB_LEASE_SECONDS", 1800))
        while not stop():
            ran = queue.run_due(
                db.session_factory,
                kinds,
                now=clock.now(),
                should_stop=stop,
                lease_for=lease_for,
            )
            lines.extend(r.summary for r in ran if r.summary)
            if not once or len(ran) < queue.BATCH_SIZE:
                break
    except Exception as error:  # noqa: BLE001 - the database may be back next round
        log.error("worker: jobs failed (%s)", type(error).__name__)
    return lines


def prune_duty(_should_stop: Callable[[], bool] | None = None) -> str | None:
    """The `finished-jobs` duty: delete jobs finished long enough ago."""
    assert db.session_factory is not None, "Database.init_app() was not called"
    with db.session_factory() as session, session.begin():
        count = queue.prune_finished(session, clock.now())
    return f"jobs: {count} finished job(s) pruned" if count else None


@portal_cli.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, print what was done and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds between rounds.",
)
def worker(once: bool, interval: float) -> None:
    """Send the outbox's mail and run the due jobs (once, or every --interval seconds)."""
    if once:
        for line in run_round(once=True):
            click.echo(line)
        return

    stop = threading.Event()
    with contextlib.suppress(ValueError):  # not the main thread: Ctrl+C only
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    from portal.outbox.delivery import backend_id

    click.echo(f"worker: mail backend {backend_id()}, a round every {interval:g} s; Ctrl+C stops")
    name = f"{socket.gethostname()}:{os.getpid()}"[:WORKER_NAME_MAX]
    started = clock.now()
    try:
        while not stop.is_set():
            heartbeat(name, interval, started)
            for line in run_round(should_stop=stop.is_set):
                log.info("worker: %s", line)
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        heartbeat(name, interval, started, leaving=True)
    click.echo("worker stopped")


def heartbeat(name: str, interval: float, started: dt.datetime, *, leaving: bool = False) -> None:
    """Say this worker is alive (its row in worker_heartbeats), or that it has stopped."""
    assert db.session_factory is not None, "Database.init_app() was not called"
    intent = write_intent.set(True)
    try:
        with db.session_factory() as session, session.begin():
            row = session.get(WorkerHeartbeat, name)
            if leaving:
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(
                    WorkerHeartbeat(
                        name=name,
                        interval_seconds=interval,
                        started_at=started,
                        last_seen_at=clock.now(),
                    )
                )
            else:
                row.last_seen_at = clock.now()
    except Exception as error:  # noqa: BLE001 - the database may be back next round
        log.error("worker: heartbeat failed (%s)", type(error).__name__)
    finally:
        write_intent.reset(intent)
