"""Command-line interface: `flask catalog check`, `flask db upgrade|downgrade|heads`,
`flask demo load`, `flask audit verify`, `flask portal worker`, `flask retention purge`,
`flask mock-jpki fault`, `flask mock-pay deliver|store-pay` (and `flask staff ...`,
`flask payments reconcile`). Each command says what it did in one or two lines."""

from __future__ import annotations

import sys

import click
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.audit.cli import audit_cli
from portal.catalog import CatalogError, load_catalog
from portal.config import PROJECT_ROOT

catalog_cli = AppGroup("catalog", help="The procedure catalog.")
db_cli = AppGroup("db", help="Database migrations (Alembic).")
demo_cli = AppGroup("demo", help="Demonstration data.")
mock_jpki_cli = AppGroup("mock-jpki", help="The mock My Number card service (demo only).")


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging"] = True
    return config


@catalog_cli.command("check")
@click.argument("path", required=False)
def catalog_check(path: str | None) -> None:
    """Validate the catalog (default: the configured procedure_catalog.yaml)."""
    path = path or current_app.config["CATALOG_PATH"]
    try:
        data = load_catalog(path)
    except CatalogError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(
        f"catalog OK: {len(data.procedures)} procedures, {len(data.life_events)} life events"
    )


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"database migrated to {revision}")


@db_cli.command("downgrade")
@click.argument("revision", default="base")
def db_downgrade(revision: str) -> None:
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"database downgraded to {revision}")


@db_cli.command("heads")
def db_heads() -> None:
    script = ScriptDirectory.from_config(alembic_config(current_app.config["DATABASE_URL"]))
    heads = script.get_heads()
    for head in heads:
        click.echo(head)
    if len(heads) != 1:
        click.echo(f"expected exactly one head, found {len(heads)}", err=True)
        sys.exit(1)


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demonstration data (idempotent)."""
    from portal.demo import load_demo_data

    for line in load_demo_data(current_app):
        click.echo(line)


@mock_jpki_cli.command("fault")
@click.argument("mode", type=click.Choice(["off", "down", "slow"]))
@click.argument("seconds", type=float, default=5.0)
def mock_jpki_fault(mode: str, seconds: float) -> None:
    """Simulate the card service being down or slow (every worker sees it at once)."""
    from portal.mock_jpki.views import fault_file

    path = fault_file()
    if mode == "off":
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("down" if mode == "down" else f"slow:{seconds}")
    click.echo(f"mock card service: {mode}")


def init_app(app: Flask) -> None:
    from portal.jobs.worker import portal_cli
    from portal.payments.cli import payments_cli
    from portal.retention.cli import retention_cli
    from portal.staff.cli import staff_cli

    app.cli.add_command(staff_cli)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(portal_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(retention_cli)
    if app.config["MOCK_JPKI_ENABLED"]:
        app.cli.add_command(mock_jpki_cli)
    if app.config["MOCK_PAY_ENABLED"]:
        from portal.mock_pay.cli import mock_pay_cli

        app.cli.add_command(mock_pay_cli)
