"""`flask staff create` (an account, its roles, and its authenticator set-up), `flask staff code`
(the current code of a demo account; refused outside demo deployments), and `flask staff token
create|revoke` (tokens of the staff JSON API for the city's core systems)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal import audit, clock
from portal.db import db
from portal.staff import service, tokens
from portal.staff.models import ROLES, StaffMember

staff_cli = AppGroup("staff", help="Staff accounts.")


def _key() -> bytes:
    return current_app.extensions["submission_services"].my_number_key


@staff_cli.command("create")
@click.argument("login_id")
@click.option("--name", "display_name", required=True, help="氏名, as shown to colleagues")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help=f"role:department, e.g. clerk:kosodate (roles: {', '.join(ROLES)})",
)
@click.password_option(help="at least 12 characters")
def create(login_id: str, display_name: str, roles: tuple[str, ...], password: str) -> None:
    """Create a staff account; prints the authenticator set-up URI once."""
    catalog = current_app.extensions["catalog"]
    departments = {d.id for d in catalog.departments}
    pairs = []
    for item in roles:
        role, _, department = item.partition(":")
        if role not in ROLES or department not in departments:
            click.echo(f"unknown role or department: {item!r}", err=True)
            sys.exit(2)
        pairs.append((role, department))
    try:
        member, secret = service.create_member(
            db.session,
            login_id=login_id,
            display_name=display_name,
            password=password,
            roles=pairs,
            key=_key(),
            now=clock.now(),
        )
    except ValueError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    db.session.commit()
    issuer = f"{catalog.city.name} 申請管理"
    click.echo(f"staff account {member.login_id} created")
    uri = service.provisioning_uri(secret, login_id, issuer)
    click.echo(f"authenticator set-up (show once): {uri}")


@staff_cli.command("code")
@click.argument("login_id")
def code(login_id: str) -> None:
    """Print the current sign-in code of a demo account (demo deployments only)."""
    if not current_app.config["DEMO_DEPLOYMENT"]:
        click.echo("refused: only for demo accounts of a demo deployment", err=True)
        sys.exit(1)
    member = db.session.scalar(select(StaffMember).where(StaffMember.login_id == login_id))
    if member is None or not member.demo:
        click.echo(f"no demo staff account {login_id!r}", err=True)
        sys.exit(1)
    click.echo(service.current_code(member, _key(), clock.now()))


token_cli = AppGroup("token", help="Tokens of the staff JSON API (/api/staff/v1).")
staff_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("login_id")
@click.option("--label", required=True, help="what uses it, e.g. 住民記録システム連携")
@click.option(
    "--days", type=int, default=90, show_default=True, help=f"lifetime (1 to {tokens.MAX_DAYS})"
)
def token_create(login_id: str, label: str, days: int) -> None:
    """Create a token acting as LOGIN_ID; prints it once (only its hash is kept)."""
    member = db.session.scalar(select(StaffMember).where(StaffMember.login_id == login_id))
    if member is None or not member.active:
        click.echo(f"no active staff account {login_id!r}", err=True)
        sys.exit(1)
    now = clock.now()
    try:
        row, token = tokens.create_token(db.session, member, label=label, days=days, now=now)
    except ValueError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    audit.record(
        db.session, actor="system", action="token_created", target=f"staff_token:{row.id}", at=now
    )
    db.session.commit()
    expires = clock.to_local(row.expires_at).strftime("%Y-%m-%d %H:%M")
    click.echo(f"token {row.id} for {member.login_id} ({row.label}), expires {expires} JST")
    click.echo(f"token (shown once): {token}")


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    now = clock.now()
    if not tokens.revoke_token(db.session, token_id, now):
        click.echo(f"no token {token_id} that is not already revoked", err=True)
        sys.exit(1)
    audit.record(
        db.session, actor="system", action="token_revoked", target=f"staff_token:{token_id}", at=now
    )
    db.session.commit()
    click.echo(f"token {token_id} revoked")
