"""The worker's outbox round (portal/jobs/worker.py): deliver everything due now through the
backend MAIL_BACKEND names, in batches, each with the clock's time."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from portal import clock
from portal.db import db
from portal.outbox.backends import backend_from_config
from portal.outbox.service import BATCH_SIZE, OUTCOMES, Backend, deliver_due


def deliver_all_due(
    backend: Backend, should_stop: Callable[[], bool] | None = None
) -> dict[str, int]:
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


def summary(counts: dict[str, int]) -> str:
    return (
        f"outbox: {counts['sent']} sent, {counts['retrying']} to retry, "
        f"{counts['failed']} failed, {counts['lost']} lost"
    )


def worker_round(should_stop: Callable[[], bool] | None = None) -> str | None:
    """Deliver what is due; the summary line when anything was."""
    counts = deliver_all_due(backend_from_config(current_app.config), should_stop)
    return summary(counts) if any(counts.values()) else None


# What `flask portal worker --once` says when there was no mail to deliver.
IDLE = summary(dict.fromkeys(OUTCOMES, 0))


def backend_id() -> str:
    return backend_from_config(current_app.config).id
