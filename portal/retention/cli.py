"""`flask retention purge [--dry-run]`, and the worker's daily duty (`worker_round`, the
`retention-purge` line of portal.jobs.schedule.SCHEDULE): the day's job purges unless that day's
audit entry says a purge ran already (by hand, say)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal import clock
from portal.db import db, write_intent
from portal.retention import service

retention_cli = AppGroup("retention", help="Retention of applications.")


def purge_now(dry_run: bool = False) -> service.PurgeCounts:
    assert db.session_factory is not None, "Database.init_app() was not called"
    return service.purge(
        db.session_factory,
        current_app.extensions["catalog"],
        current_app.extensions["submission_services"].files,
        clock.now(),
        dry_run=dry_run,
    )


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
def purge(dry_run: bool) -> None:
    """Anonymise applications past their retention period; delete drafts untouched 90 days."""
    click.echo(purge_now(dry_run).summary(dry_run))


def worker_round(_should_stop=None) -> str | None:
    """The worker's periodic job: purge once a day; a line only when something was purged."""
    assert db.session_factory is not None, "Database.init_app() was not called"
    intent = write_intent.set(False)  # a read: no write lock on SQLite every round
    try:
        with db.session_factory() as session:
            done = service.ran_on(session, clock.today_local())
    finally:
        write_intent.reset(intent)
    if done:
        return None
    counts = purge_now()
    return counts.summary() if counts.any() else None
