"""`flask audit verify`: check the audit log's hash chain from the first entry to the head."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.audit.service import verify
from portal.db import db, write_intent

audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute every hash of the audit log; exit 1 at the first broken entry."""
    # A read: on SQLite it must not hold the write lock (and stop every request) while it walks.
    intent = write_intent.set(False)
    try:
        assert db.session_factory is not None
        with db.session_factory() as session:
            result = verify(session)
    finally:
        write_intent.reset(intent)
    if result.ok:
        click.echo(f"audit log OK: {result.checked} entries")
        return
    where = f" at entry {result.first_bad_id}" if result.first_bad_id is not None else ""
    click.echo(f"audit log BROKEN{where}: {result.problem}", err=True)
    sys.exit(1)
