"""Migrating a database: the production schema (migrations/, version table ``alembic_version``)
and, where a mock with tables is enabled, the mocks' schema (migrations_mocks/, version table
``alembic_version_mocks``; see portal.mocks_db).

Two Alembic script locations, each with one head: the production chain never creates a mock
table (revision 0019 drops the ones older revisions made), and the mocks' chain touches nothing
else. `upgrade` runs the production chain, then the mocks' chain when asked; `downgrade` takes
the mocks' tables away first (they are demo state, and an older production revision may create
them again under its own name).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from portal.config import PROJECT_ROOT
from portal.db import make_engine
from portal.mocks_db import MIGRATIONS_PATH, VERSION_TABLE


def alembic_config(database_url: str, *, mocks: bool = False) -> Config:
    """The Alembic configuration of the production chain, or of the mocks' chain."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    if mocks:
        config.set_main_option("script_location", str(MIGRATIONS_PATH))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging"] = True
    return config


def has_mock_schema(database_url: str) -> bool:
    """Whether the mocks' migrations ever ran on this database (their version table exists)."""
    engine = make_engine(database_url)
    try:
        return inspect(engine).has_table(VERSION_TABLE)
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head", *, mocks: bool) -> list[str]:
    """Migrate the production schema to ``revision``; then, with ``mocks`` and to head only,
    the mocks' schema to its head. Returns what was done, one line each."""
    command.upgrade(alembic_config(database_url), revision)
    done = [f"database migrated to {revision}"]
    if mocks and revision == "head":
        command.upgrade(alembic_config(database_url, mocks=True), "head")
        done.append("mock services' tables migrated to head")
    return done


def downgrade(database_url: str, revision: str = "base") -> list[str]:
    """Drop the mocks' tables (when they exist), then downgrade the production schema."""
    done = []
    if has_mock_schema(database_url):
        command.downgrade(alembic_config(database_url, mocks=True), "base")
        done.append("mock services' tables downgraded to base")
    command.downgrade(alembic_config(database_url), revision)
    done.append(f"database downgraded to {revision}")
    return done


def heads(database_url: str) -> dict[str, list[str]]:
    """The heads of each chain: ``{"production": [...], "mocks": [...]}``."""
    return {
        name: ScriptDirectory.from_config(alembic_config(database_url, mocks=mocks)).get_heads()
        for name, mocks in (("production", False), ("mocks", True))
    }
