"""Migrations go up, down and up again on an empty database, and match the models; the mocks'
tables have their own chain, run only where a mock is enabled (a production database has none)."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from portal import create_app, migrate
from portal.cli import alembic_config
from portal.db import Base, make_engine
from portal.mock_models import load_models
from portal.mocks_db import VERSION_TABLE

pytestmark = pytest.mark.db


@pytest.fixture
def empty_database_url(tmp_path):
    base = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not base or base.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"portal_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_downgrade_upgrade(empty_database_url):
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    engine = make_engine(empty_database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


# --- The mocks' tables: their own chain, only where a mock is enabled --------------------------

PRODUCTION_SETTINGS = {
    "PUBLIC_URL": "https://portal.example.jp",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "SECRET_KEY": "p" * 64,
    "MY_NUMBER_KEY": "ab" * 32,
    "MALWARE_SCANNER": "clamd://127.0.0.1:3310",
    "JPKI_CLIENT_SECRET": "s" * 40,
    "TEST_CLOCK_FILE": None,
    "TESTING": False,
    "MAIL_BACKEND": "smtp",
    "MAIL_SMTP_HOST": "smtp.example.jp",
    "MAIL_FROM": "noreply@isumi.example.jp",
}


def flask_db(env: str, url: str, tmp_path, *args: str, **overrides) -> str:
    """Run `flask db <args>` with the app of ``env`` (production: its own settings, which leave
    every mock off unless ``overrides`` turn one on)."""
    settings = {"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "t" * 64}
    if env == "production":
        settings.update(PRODUCTION_SETTINGS)
    app = create_app(env, {**settings, **overrides})
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output
    return result.output


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def schema_diff(url: str, metadata, *, its_tables_only: bool = False) -> list:
    """How the database differs from ``metadata`` (with ``its_tables_only``: the other chain's
    tables left out of the comparison)."""
    opts = {}
    if its_tables_only:
        opts["include_name"] = lambda name, type_, _parents: (
            type_ != "table" or name in metadata.tables
        )
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts=opts), metadata)
    engine.dispose()
    return diff


def test_a_production_database_has_no_mock_tables(empty_database_url, tmp_path):
    output = flask_db("production", empty_database_url, tmp_path, "upgrade")
    assert "mock" not in output
    tables = table_names(empty_database_url)
    assert not {name for name in tables if name.startswith("mock")}, tables
    assert VERSION_TABLE not in tables
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    # Compared with the production models alone: nothing is left over, nothing is missing.
    assert schema_diff(empty_database_url, Base.metadata) == []


def test_where_a_mock_is_enabled_upgrade_adds_the_mock_tables_and_downgrade_removes_them(
    empty_database_url, tmp_path
):
    mock_metadata = load_models()
    output = flask_db("development", empty_database_url, tmp_path, "upgrade")
    assert "mock services' tables migrated to head" in output
    tables = table_names(empty_database_url)
    assert set(mock_metadata.tables) <= tables and VERSION_TABLE in tables
    assert schema_diff(empty_database_url, mock_metadata, its_tables_only=True) == []
    assert schema_diff(empty_database_url, Base.metadata, its_tables_only=True) == []

    flask_db("development", empty_database_url, tmp_path, "downgrade")
    assert table_names(empty_database_url) <= {"alembic_version", VERSION_TABLE}
    flask_db("development", empty_database_url, tmp_path, "upgrade")
    assert set(mock_metadata.tables) <= table_names(empty_database_url)


def test_a_demo_deployment_in_production_gets_the_mock_tables(empty_database_url, tmp_path):
    flask_db(
        "production",
        empty_database_url,
        tmp_path,
        "upgrade",
        DEMO_DEPLOYMENT=True,
        MOCK_PAY_ENABLED=True,
        PAYMENT_API_KEY="k" * 32,
        PAYMENT_WEBHOOK_SECRET="w" * 32,
    )
    assert "mock_pay_payments" in table_names(empty_database_url)


def test_production_database_migrated_before_the_mocks_left_it_loses_their_tables(
    empty_database_url,
):
    """A database at 0018 (mock tables in the production chain) upgraded to head: gone."""
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0018")
    assert {"mock_jpki_cards", "mock_pay_payments"} <= table_names(empty_database_url)
    command.upgrade(config, "head")
    assert not {n for n in table_names(empty_database_url) if n.startswith("mock")}
    command.downgrade(config, "0018")  # 0019 gives them back to the older revisions
    assert {"mock_jpki_cards", "mock_pay_payments"} <= table_names(empty_database_url)


def test_each_chain_has_one_head(empty_database_url, tmp_path):
    heads = migrate.heads(empty_database_url)
    assert [len(chain) for chain in heads.values()] == [1, 1]
    output = flask_db("test", empty_database_url, tmp_path, "heads")
    assert output.split() == [heads["production"][0], heads["mocks"][0], "(mocks)"]
