"""Backup and restore on SQLite and PostgreSQL (issue 24): `flask backup create` writes the
database, uploads included, while the portal serves; `flask backup restore` puts it into an empty
database, where every row of every table is identical (applications, signatures, attachments,
the audit chain), `flask audit verify` passes and new rows get new ids. A non-empty database or a
damaged backup is refused and nothing is written."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
import zipfile

import pytest
from sqlalchemy import create_engine, func, select, text

from portal import audit, backup, clock, create_app
from portal.db import db, make_engine
from portal.submissions.models import Submission
from portal.uploads.models import Upload
from tests.web.test_staff_exports import at, file_ninshin

pytestmark = pytest.mark.db

SIGNATURE = {"digest": "d", "signature": "s", "certificate": "-----BEGIN...", "signed_at": "x"}


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with nothing in it, not even tables (a scratch PostgreSQL database in CI)."""
    base = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not base or base.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"portal_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def application_with_everything(app) -> str:
    """A signed 妊娠の届出 with an attachment, and audit entries about it."""
    _ref, public_id = file_ninshin(app, at(2026, 4, 1, 10, 0), attach=True)
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        row.signature = SIGNATURE
        for minute in range(3):
            audit.record(
                db.session,
                actor="staff:clerk",
                action="view",
                target=f"submission:{row.reference}",
                department=row.department,
                at=at(2026, 4, 1, 11, minute),
            )
        db.session.commit()
    return public_id


def every_row(database_url: str) -> dict[str, list[dict]]:
    """Every table's rows, encoded as a backup encodes them (primary-key order)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {t.name: list(backup._rows(connection, t)) for t in backup._tables(connection)}
    finally:
        engine.dispose()


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def app_on(database_url: str, tmp_path):
    return create_app(
        "test",
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t" * 64,
            "INSTANCE_PATH": str(tmp_path),
            "PUBLIC_URL": "http://localhost",
        },
    )


def test_backup_restores_into_an_empty_database_identically(
    app, database_url, empty_database_url, tmp_path
):
    public_id = application_with_everything(app)
    path = tmp_path / "portal-backup.zip"
    clock.set_override(at(2026, 4, 2, 3, 0))
    made = cli(app, "backup", "create", str(path))
    assert made.exit_code == 0, made.output
    assert "backup written" in made.output

    restored_app = app_on(empty_database_url, tmp_path / "restored")
    done = cli(restored_app, "backup", "restore", str(path))
    assert done.exit_code == 0, done.output

    before, after = every_row(database_url), every_row(empty_database_url)
    assert after == before
    assert len(after["audit_log"]) == 3 and len(after["upload_blobs"]) == 1

    verified = cli(restored_app, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "audit log OK: 3 entries" in verified.output

    with restored_app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        assert row.signature == SIGNATURE and row.status == "submitted"
        upload = db.session.scalar(select(Upload).where(Upload.submission_id == row.id))
        files = restored_app.extensions["submission_services"].files
        data = files.read(db.session, upload.storage_name)
        assert hashlib.sha256(data).hexdigest() == upload.sha256
        # New rows continue after the restored ids (PostgreSQL's sequences were moved on).
        entry = audit.record(
            db.session,
            actor="system",
            action="view",
            target=f"submission:{row.reference}",
            at=at(2026, 4, 2, 9, 0),
        )
        db.session.commit()
        assert entry.id > max(e["id"] for e in after["audit_log"])
    assert cli(restored_app, "audit", "verify").exit_code == 0


def test_restore_refuses_a_database_that_holds_rows(app, tmp_path):
    application_with_everything(app)
    path = tmp_path / "b.zip"
    assert cli(app, "backup", "create", str(path)).exit_code == 0
    before = every_row(app.config["DATABASE_URL"])
    refused = cli(app, "backup", "restore", str(path))
    assert refused.exit_code == 1
    assert "not empty" in refused.output
    assert every_row(app.config["DATABASE_URL"]) == before


def test_a_damaged_backup_is_refused_and_nothing_is_written(app, empty_database_url, tmp_path):
    application_with_everything(app)
    path = tmp_path / "b.zip"
    assert cli(app, "backup", "create", str(path)).exit_code == 0
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "tables/submissions.jsonl":
                data = data.replace(b"submitted", b"withdrawn", 1)
            target.writestr(item, data)

    restored_app = app_on(empty_database_url, tmp_path / "restored")
    refused = cli(restored_app, "backup", "restore", str(damaged))
    assert refused.exit_code == 1
    assert "submissions" in refused.output and "damaged" in refused.output
    rows = every_row(empty_database_url)
    assert rows["submissions"] == [] and rows["audit_log"] == []


def test_the_backup_is_online_a_writer_in_progress_neither_blocks_nor_leaks(app, tmp_path):
    """A transaction that is writing while the backup runs is not waited for and not included
    (the backup reads one snapshot)."""
    application_with_everything(app)
    engine = make_engine(app.config["DATABASE_URL"])
    path = tmp_path / "online.zip"
    try:
        with engine.connect() as writer:
            writer.begin()
            writer.execute(
                text("UPDATE submissions SET status = 'withdrawn' WHERE status = 'submitted'")
            )
            started = dt.datetime.now()
            summaries = backup.backup(app.config["DATABASE_URL"], path, clock.now())
            assert (dt.datetime.now() - started).total_seconds() < 10
            writer.rollback()
    finally:
        engine.dispose()
    assert {s.name: s.rows for s in summaries}["submissions"] == 1
    with zipfile.ZipFile(path) as archive:
        assert b'"status":"submitted"' in archive.read("tables/submissions.jsonl")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
