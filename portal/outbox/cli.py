"""`flask portal worker`: the background worker. Each round delivers the outbox, then runs the
periodic jobs listed in PERIODIC_JOBS (the mock payment service's webhooks, payment
reconciliation, the daily retention purge).

`--once` delivers everything due now and exits, printing the counts (cron, tests); otherwise it
runs a round every `--interval` seconds until interrupted (Ctrl+C, or SIGTERM from the container
runtime, which lets the message being sent finish first). Any number of workers may run at once.

Adding a periodic job: write a function `round(should_stop) -> str | None` that does what is due
now (`portal.clock.now()`, the app context is there) in short transactions that are safe to run
in several workers at once (guarded claims), and returns a one-line summary when it did
something (printed by `--once`, logged otherwise) or None; then add a `PeriodicJob` line below.
`enabled_by` names a setting that must be true for the job to run (None: always). A job that
raises is logged and does not stop the round or the other jobs.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import AppGroup

from portal import clock
from portal.db import db
from portal.outbox.backends import backend_from_config
from portal.outbox.service import BATCH_SIZE, OUTCOMES, Backend, deliver_due

log = logging.getLogger(__name__)

portal_cli = AppGroup("portal", help="Background work: the worker.")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    # "module:function", imported when the job runs: a disabled job's package is never loaded.
    target: str
    enabled_by: str | None = None

    def function(self) -> Callable[[Callable[[], bool] | None], str | None]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


# Run after the outbox, in this order, every round.
PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("mock-pay webhooks", "portal.mock_pay.cli:worker_round", "MOCK_PAY_ENABLED"),
    PeriodicJob("payment reconciliation", "portal.payments.cli:worker_round", "PAYMENT_PROVIDER"),
    # Once a day (it looks for the day's audit entry first): portal/retention.
    PeriodicJob("retention purge", "portal.retention.cli:worker_round"),
]


def run_periodic_jobs(should_stop=None) -> list[str]:
    """One round of every enabled job; their summary lines (jobs that did nothing say nothing)."""
    lines = []
    for job in PERIODIC_JOBS:
        if should_stop is not None and should_stop():
            break
        if job.enabled_by and not current_app.config.get(job.enabled_by):
            continue
        try:
            line = job.function()(should_stop)
        except Exception as error:  # noqa: BLE001 - one job's failure must not stop the others
            log.error("worker: job %s failed (%s)", job.name, type(error).__name__)
            continue
        if line:
            lines.append(line)
    return lines


def deliver_all_due(backend: Backend, should_stop=None) -> dict[str, int]:
    """Rounds of deliver_due, each with the clock's time, until fewer than a batch were due."""
    assert db.session_factory is not None, "Database.init_app() was not called"
    total = dict.fromkeys(OUTCOMES, 0)
    while True:
        counts = deliver_due(
            db.session_factory, now=clock.now(), backend=backend, should_stop=should_stop
        )
        for outcome, count in counts.items():
            total[outcome] += count
        if sum(counts.values()) < BATCH_SIZE or (should_stop is not None and should_stop()):
            return total


def _summary(counts: dict[str, int]) -> str:
    return (
        f"outbox: {counts['sent']} sent, {counts['retrying']} to retry, "
        f"{counts['failed']} failed, {counts['lost']} lost"
    )


@portal_cli.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, print the counts and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds between rounds.",
)
def worker(once: bool, interval: float) -> None:
    """Deliver the outbox's due mail (once, or every --interval seconds until stopped)."""
    backend = backend_from_config(current_app.config)
    if once:
        click.echo(_summary(deliver_all_due(backend)))
        for line in run_periodic_jobs():
            click.echo(line)
        return

    stop = threading.Event()
    with contextlib.suppress(ValueError):  # not the main thread: Ctrl+C only
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    click.echo(f"worker: mail backend {backend.id}, a round every {interval:g} s; Ctrl+C stops")
    try:
        while not stop.is_set():
            try:
                deliver_all_due(backend, should_stop=stop.is_set)
            except Exception as error:  # noqa: BLE001 - the database may be back next round
                log.error("worker: round failed (%s)", type(error).__name__)
            for line in run_periodic_jobs(should_stop=stop.is_set):
                log.info("worker: %s", line)
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    click.echo("worker stopped")
