"""Shared fixtures: a migrated test database (SQLite by default, PostgreSQL when
PORTAL_TEST_DATABASE_URL is set), the app, a client, and a page helper that checks the HTML
invariants every page must hold."""

from __future__ import annotations

import os
import re
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import text

from portal import clock, create_app
from portal.audit import GENESIS_HASH
from portal.cli import alembic_config
from portal.db import Base, make_engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    from alembic import command

    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@contextmanager
def audit_log_writable(connection):
    """Lift audit_log's append-only triggers inside the block, as a database owner could
    (clean_db; the tamper tests of tests/db/test_audit.py). DDL is transactional on both
    databases: if the transaction rolls back, so does the lifting."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        yield
        connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        return
    triggers = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {"t": "audit_log"},
    ).all()
    for name, _sql in triggers:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for _name, sql in triggers:
        connection.exec_driver_sql(sql)


@pytest.fixture
def clean_db(engine):
    """Empty every table after the test (tests never see each other's rows)."""
    yield
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "audit_log":
                with audit_log_writable(connection):
                    connection.execute(text("DELETE FROM audit_log"))
            elif table.name == "audit_head":  # its one row stays, back at the genesis
                connection.execute(
                    text("UPDATE audit_head SET last_id = NULL, last_hash = :genesis"),
                    {"genesis": GENESIS_HASH},
                )
            else:
                connection.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture
def app(database_url, clean_db, tmp_path):
    app = create_app(
        "test",
        {"DATABASE_URL": database_url, "SECRET_KEY": "t" * 64, "INSTANCE_PATH": str(tmp_path)},
    )
    yield app
    clock.set_override(None)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def check_page(response, status: int = 200) -> BeautifulSoup:
    """Fetch-and-check: the status, then the invariants every HTML page must hold."""
    assert response.status_code == status, response.status_code
    assert response.mimetype == "text/html"
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.html.get("lang") in ("ja", "en")  # en only when English was chosen
    title = soup.title.get_text(strip=True)
    assert title and any(
        service in title
        for service in (
            "オンライン手続（デモ）",
            "オンライン手続き（てつづき）（ためし）",
            "Online procedures (demo)",
        )
    )
    assert len(soup.find_all("h1")) == 1
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    duplicated = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicated, f"duplicate ids {duplicated}"
    for field in soup.find_all(["input", "select", "textarea"]):
        if field.get("type") in {"hidden", "submit"}:
            continue
        assert field.get("id"), f"unlabelled field {field}"
        assert soup.find("label", attrs={"for": field["id"]}), f"no label for {field['id']}"
    for described in soup.find_all(attrs={"aria-describedby": True}):
        for ref in described["aria-describedby"].split():
            assert soup.find(id=ref), f"aria-describedby points at missing id {ref}"
    assert soup.find(class_="demo-banner"), "every page says it is a demonstration"
    return soup
