"""Backup and restore of the portal's database, uploads included (they live in it since 0021).

A backup is one zip file: `manifest.json` (format, when, the schema revisions, each table's row
count and SHA-256) and one JSON-lines file per table, rows in primary-key order, each value
encoded by its column's type (dates and times as ISO 8601 with their time zone, bytes as
base64). The format is the same for SQLite and PostgreSQL, so a backup of either restores into
either.

`backup()` reads every table in one read-only transaction (a snapshot: REPEATABLE READ on
PostgreSQL, one read transaction on SQLite's WAL), so it runs online while the portal serves.
`restore()` refuses a database that holds any row; it migrates an empty database to the
backup's revision first, inserts the rows parent tables first, checks each table's digest, and
sets PostgreSQL's id sequences past the restored ids. `flask audit verify` passes afterwards
because every value, the audit chain's included, comes back exactly as it was
(docs/decisions/0050-backup-and-restore.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Engine,
    LargeBinary,
    Numeric,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.types import TypeDecorator

from portal import migrate
from portal.db import Base, make_engine, write_intent
from portal.mock_models import load_models
from portal.mocks_db import VERSION_TABLE, MockBase

FORMAT = "isumi-portal-backup/1"
# Tables whose rows the migrations themselves create (the audit chain's head, revision 0008): an
# empty database has them, and the backup's rows replace them.
SEEDED = {"audit_head"}
BATCH = 500


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why."""


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int
    sha256: str


# --- values ------------------------------------------------------------------------------------


def _encode(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, LargeBinary):
        return base64.b64encode(value).decode("ascii")
    if isinstance(column_type, (DateTime, Date)):
        return value.isoformat()
    if isinstance(column_type, Numeric) and isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _decode(column_type: Any, value: Any) -> Any:
    if value is None or isinstance(column_type, JSON):
        return value
    if isinstance(column_type, LargeBinary):
        return base64.b64decode(value)
    if isinstance(column_type, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column_type, Numeric) and isinstance(value, str):
        return decimal.Decimal(value)
    return value


def _type_of(column) -> Any:
    """The column's type as the values see it (a TypeDecorator's underlying type)."""
    return column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type


# --- which tables ------------------------------------------------------------------------------


def _tables(connection: Connection) -> list[Table]:
    """The portal's tables parents first, and the mock services' when this database has them."""
    load_models()
    present = set(sa_inspect(connection).get_table_names())
    tables = list(Base.metadata.sorted_tables)
    if VERSION_TABLE in present:
        tables += list(MockBase.metadata.sorted_tables)
    missing = [table.name for table in tables if table.name not in present]
    if missing:
        raise BackupError(f"the database is not migrated: tables missing: {', '.join(missing)}")
    return tables


def _revisions(connection: Connection) -> dict[str, str | None]:
    production = MigrationContext.configure(connection).get_current_revision()
    mocks = None
    if sa_inspect(connection).has_table(VERSION_TABLE):
        mocks = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()
    return {"production": production, "mocks": mocks}


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    for row in result.mappings():
        yield {column.name: _encode(_type_of(column), row[column.name]) for column in table.columns}


def _line(row: dict[str, Any]) -> bytes:
    encoded = json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return encoded.encode() + b"\n"


# --- backup ------------------------------------------------------------------------------------


def backup(database_url: str, path: Path, now: dt.datetime) -> list[TableSummary]:
    """Write a backup of the database at `database_url` to `path` (online; one snapshot)."""
    engine = make_engine(database_url)
    partial = path.with_name(path.name + ".partial")
    reading = write_intent.set(False)  # SQLite: a plain read transaction, never the write lock
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
            summaries = _write(connection, partial, now)
            connection.rollback()
        partial.replace(path)
        return summaries
    finally:
        write_intent.reset(reading)
        partial.unlink(missing_ok=True)
        engine.dispose()


def _write(connection: Connection, path: Path, now: dt.datetime) -> list[TableSummary]:
    tables = _tables(connection)
    revisions = _revisions(connection)
    summaries = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            digest = hashlib.sha256()
            count = 0
            with archive.open(f"tables/{table.name}.jsonl", "w") as out:
                for row in _rows(connection, table):
                    line = _line(row)
                    digest.update(line)
                    out.write(line)
                    count += 1
            summaries.append(TableSummary(table.name, count, digest.hexdigest()))
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "dialect": connection.dialect.name,
            "revisions": revisions,
            "tables": [{"name": s.name, "rows": s.rows, "sha256": s.sha256} for s in summaries],
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return summaries


# --- restore -----------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as error:
        raise BackupError(f"{path} is not a portal backup ({error})") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} has format {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def restore(database_url: str, path: Path) -> list[TableSummary]:
    """Restore the backup at `path` into the empty database at `database_url`."""
    manifest = read_manifest(path)
    revisions = manifest["revisions"]
    if revisions["production"] is None:
        raise BackupError("the backup has no schema revision")
    engine = make_engine(database_url)
    try:
        _require_empty(engine)
        migrate.upgrade(database_url, revisions["production"], mocks=False)
        if revisions["mocks"] is not None:
            from alembic import command

            command.upgrade(migrate.alembic_config(database_url, mocks=True), revisions["mocks"])
        with engine.begin() as connection:
            if _revisions(connection) != revisions:
                raise BackupError(
                    f"the database is at {_revisions(connection)}, the backup at {revisions}"
                )
            return _load(connection, path, manifest)
    finally:
        engine.dispose()


def _require_empty(engine: Engine) -> None:
    load_models()
    with engine.connect() as connection:
        present = set(sa_inspect(connection).get_table_names())
        for table in [*Base.metadata.sorted_tables, *MockBase.metadata.sorted_tables]:
            if table.name in SEEDED:
                continue
            if table.name in present and connection.scalar(select(func.count()).select_from(table)):
                raise BackupError(
                    f"the database is not empty (table {table.name} has rows); "
                    "restore only into an empty database"
                )


def _load(connection: Connection, path: Path, manifest: dict[str, Any]) -> list[TableSummary]:
    tables = {table.name: table for table in _tables(connection)}
    summaries = []
    with zipfile.ZipFile(path) as archive:
        for entry in manifest["tables"]:
            table = tables.get(entry["name"])
            if table is None:
                raise BackupError(f"the backup has a table this schema lacks: {entry['name']}")
            if table.name in SEEDED:
                connection.execute(table.delete())
            digest = hashlib.sha256()
            count = 0
            batch: list[dict[str, Any]] = []
            with archive.open(f"tables/{table.name}.jsonl") as lines:
                for line in lines:
                    digest.update(line)
                    count += 1
                    row = json.loads(line)
                    batch.append({c.name: _decode(_type_of(c), row[c.name]) for c in table.columns})
                    if len(batch) == BATCH:
                        connection.execute(insert(table), batch)
                        batch = []
            if batch:
                connection.execute(insert(table), batch)
            if (count, digest.hexdigest()) != (entry["rows"], entry["sha256"]):
                raise BackupError(f"table {table.name} in the backup is damaged (digest differs)")
            summaries.append(TableSummary(table.name, count, entry["sha256"]))
        if connection.dialect.name == "postgresql":
            _advance_sequences(connection, list(tables.values()))
    return summaries


def _advance_sequences(connection: Connection, tables: list[Table]) -> None:
    """Next ids after the restored ones (inserting explicit ids does not move a sequence)."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            )
            if sequence:
                highest = select(func.max(column)).scalar_subquery()
                connection.execute(
                    select(func.setval(sequence, func.coalesce(highest, 0) + 1, False))
                )
