"""`flask payments reconcile`: ask the provider about payments still open after ten quiet
minutes (a webhook that never came) and apply the answers. `flask portal worker` runs it every
minute (the `payment-reconciliation` duty, portal/jobs/schedule.py)."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from portal import clock
from portal.db import db

payments_cli = AppGroup("payments", help="Payments of fees.")


def reconcile_now(quiet_minutes: float = 10) -> dict[str, int]:
    from portal.payments import service
    from portal.payments.views import provider

    return service.reconcile(
        db.session_factory,
        provider(),
        now=clock.now(),
        quiet_for=dt.timedelta(minutes=quiet_minutes),
        notify_to=current_app.config.get("PAYMENT_NOTIFY_ADDRESS"),
    )


def summary(counts: dict[str, int]) -> str:
    return (
        f"payments: {counts['checked']} checked, {counts['changed']} changed, "
        f"{counts['refused']} refused, {counts['unreachable']} unreachable"
    )


def worker_round(_should_stop=None) -> str | None:
    """The worker's duty: a line only when something was checked."""
    counts = reconcile_now()
    return summary(counts) if counts["checked"] else None


@payments_cli.command("reconcile")
@click.option("--quiet-minutes", type=float, default=10.0, show_default=True)
def reconcile(quiet_minutes: float) -> None:
    """Re-check open payments nothing has reported about for --quiet-minutes."""
    click.echo(summary(reconcile_now(quiet_minutes)))
