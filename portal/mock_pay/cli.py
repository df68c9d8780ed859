"""`flask mock-pay deliver` (send the webhooks that are due, expiring what ran out of time first)
and `flask mock-pay store-pay <number>` (pay a konbini number or Pay-easy お客様番号 as the store
terminal does). `worker_round` is what `flask portal worker` runs each round
(portal/jobs/worker.py DRAINS).
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from portal import clock
from portal.db import db

mock_pay_cli = AppGroup("mock-pay", help="The mock payment service (demo only).")


def deliver_all_due(should_stop=None, faults=None) -> dict[str, int]:
    """Rounds of deliver_due, each with the clock's time, until fewer than a batch were due."""
    from portal.mock_pay.service import EXPIRE_BATCH
    from portal.mock_pay.webhooks import BATCH_SIZE, OUTCOMES, deliver_due

    assert db.session_factory is not None, "Database.init_app() was not called"
    total = dict.fromkeys(OUTCOMES, 0)
    while True:
        counts = deliver_due(
            db.session_factory,
            now=clock.now(),
            config=current_app.config,
            faults=faults,
            should_stop=should_stop,
        )
        for outcome, count in counts.items():
            total[outcome] += count
        sent = sum(counts[o] for o in OUTCOMES if o != "expired")
        more = sent >= BATCH_SIZE or counts["expired"] >= EXPIRE_BATCH
        if not more or (should_stop is not None and should_stop()):
            return total


def summary(counts: dict[str, int]) -> str:
    return (
        f"mock-pay webhooks: {counts['delivered']} delivered, {counts['dropped']} dropped, "
        f"{counts['retrying']} to retry, {counts['failed']} failed, {counts['lost']} lost; "
        f"{counts['expired']} payment(s) expired"
    )


def worker_round(should_stop=None) -> str | None:
    """One round of the worker (portal/jobs/worker.py DRAINS): a summary line when anything
    happened."""
    counts = deliver_all_due(should_stop=should_stop)
    return summary(counts) if any(counts.values()) else None


@mock_pay_cli.command("deliver")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    help="Inject a fault for this run only (duplicate, reorder, delay, drop, bad_signature); "
    "replaces PORTAL_MOCK_PAY_FAULTS.",
)
def deliver(faults: tuple[str, ...]) -> None:
    """Send the webhooks that are due now (after expiring payments whose time ran out)."""
    try:
        counts = deliver_all_due(faults=faults or None)
    except ValueError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    click.echo(summary(counts))


@mock_pay_cli.command("store-pay")
@click.argument("payment_number")
def store_pay(payment_number: str) -> None:
    """Pay a konbini number (11 digits) or a Pay-easy お客様番号 (16 digits)."""
    from portal.mock_pay.paying import pay_at_store

    session = db.session
    outcome = pay_at_store(session, payment_number, now=clock.now())
    session.commit()
    payment = outcome.payment
    if outcome.result == "paid":
        click.echo(f"paid: {payment.id} ({payment.amount} JPY, {payment.method})")
        return
    messages = {
        "unknown": "no payment has this number",
        "expired": f"{payment.id if payment else ''}: the number has expired",
        "already_paid": f"{payment.id if payment else ''}: already paid",
    }
    click.echo(f"refused: {messages[outcome.result]}", err=True)
    sys.exit(1)
