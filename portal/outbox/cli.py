"""`flask portal worker`: the background worker. Today it delivers the outbox; later jobs
(reminders' scheduling, purges) join the same loop.

`--once` delivers everything due now and exits, printing the counts (cron, tests); otherwise it
runs a round every `--interval` seconds until interrupted (Ctrl+C, or SIGTERM from the container
runtime, which lets the message being sent finish first). Any number of workers may run at once.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from portal import clock
from portal.db import db
from portal.outbox.backends import backend_from_config
from portal.outbox.service import BATCH_SIZE, OUTCOMES, Backend, deliver_due

log = logging.getLogger(__name__)

portal_cli = AppGroup("portal", help="Background work: the worker.")


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
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    click.echo("worker stopped")
