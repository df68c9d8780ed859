"""Shared fixtures: a migrated test database (SQLite by default, PostgreSQL when
PORTAL_TEST_DATABASE_URL is set), the app, a client, and a page helper that checks the HTML
invariants every page must hold."""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import settings
from sqlalchemy import text

from portal import clock, create_app, migrate
from portal.audit import GENESIS_HASH
from portal.db import Base, make_engine
from portal.i18n import HTML_LANG
from portal.mock_models import load_models
from tests import html_check

ROOT = Path(__file__).resolve().parent.parent

# The production layout test starts nginx, Redis and seven processes: only `make layout-test`
# (a CI stage of its own) collects it.
collect_ignore = [] if os.environ.get("PORTAL_LAYOUT_TEST") == "1" else ["layout"]

# Property tests check behaviour, not speed: no per-example deadline (the suite runs beside
# browsers on two CPUs, where a 200 ms deadline fails by chance). Speed lives in bench/.
settings.register_profile("portal", deadline=None)
settings.load_profile("portal")


_WORKER_DATABASES: dict[str, str] = {}


def worker_database(url: str) -> str:
    """Under pytest-xdist, each worker gets its own PostgreSQL database beside the one named
    (created empty here, `<name>_gw0`, ...); SQLite files are per worker already (tmp_path)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    if url in _WORKER_DATABASES:  # once per process: a second live server shares it
        return _WORKER_DATABASES[url]
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(
        admin.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    _WORKER_DATABASES[url] = parsed.set(database=name).render_as_string(hide_password=False)
    return _WORKER_DATABASES[url]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        url = worker_database(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate.upgrade(url, mocks=True)  # the test app runs every mock, as `make run` does
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
    """Empty every table after the test (tests never see each other's rows): the mocks' own
    tables first, then the production schema's."""
    yield
    with engine.begin() as connection:
        for table in reversed(load_models().sorted_tables):
            connection.execute(text(f"DELETE FROM {table.name}"))
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


def make_app(database_url: str, instance_path, **overrides):
    """The test app of the `app` fixture, with some of its settings overridden (a test that
    needs another rate limit, a mock switched off, ...)."""
    return create_app(
        "test",
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t" * 64,
            "INSTANCE_PATH": str(instance_path),
            "PUBLIC_URL": "http://localhost",  # where the Flask test client's requests go
            **overrides,
        },
    )


@pytest.fixture
def app(database_url, clean_db, tmp_path):
    app = make_app(database_url, tmp_path)
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
    lang = soup.html.get("lang")
    assert lang in HTML_LANG.values()  # not ja only when another language was chosen
    title = soup.title.get_text(strip=True)
    assert (
        title
        and any(
            service in title
            for service in (
                "オンライン手続（デモ）",
                "オンライン手続き（てつづき）（ためし）",
                "Online procedures (demo)",
            )
        )
        or (lang not in ("ja", "en") and " | " in title)
    )  # the service in the page's language
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
    html_check.keep(response.request.url, response.get_data())
    return soup


# --- The route-coverage check across test workers ---------------------------------------------
# tests/e2e/test_zz_route_coverage.py checks that every page route was audited with axe by some
# browser test. Run in one process it is an ordinary test that runs last. Under pytest-xdist each
# worker audits only its share of the pages, so the workers leave the test out, report the paths
# they audited, and the controller makes the same check over all of them when the run ends (and
# fails the run if a route was never audited).
ROUTE_CHECK = "test_every_page_route_was_audited"


# The longest single tests (minutes each), started first: pytest-xdist deals the first tests
# out one per worker, so each starts on its own worker at once instead of one of them starting
# last and keeping the run waiting while the other workers sit idle (docs/testing.md).
LONGEST_FIRST = ("tests/web/test_hostile_input.py::",)


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: only a selected check counts
def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))  # stable
    if not hasattr(config, "workerinput"):
        return
    check = [item for item in items if item.name == ROUTE_CHECK]
    if check:
        config.workeroutput_route_check = True
        items[:] = [item for item in items if item not in check]
        config.hook.pytest_deselected(items=check)


# --- Every page the browser tests visit (tests/e2e/visited.py, decision 0080) -----------------
# A run that includes the browser tests records every HTML document they load in
# build/visited-pages/ (cleared here, before the workers start; `make a11y` audits it with axe).


def _runs_browser_tests(config) -> bool:
    """Whether this run records: it reaches tests/e2e and selects no marker subset (CI's
    PostgreSQL stage, `-m "db or pg_smoke"`, runs between `make test` and `make a11y` and must
    leave make test's recording alone; `-m "not e2e"` runs no browser test)."""
    if config.option.markexpr or config.option.collectonly:  # make a11y collects named tests
        return False
    e2e = ROOT / "tests" / "e2e"
    ignored = [Path(p).resolve() for p in (config.option.ignore or [])]
    if any(e2e == p or p in e2e.parents for p in ignored):
        return False
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path == e2e or path in e2e.parents or e2e in path.parents:
            return True
    return False


def pytest_configure(config):
    if hasattr(config, "workerinput") or not _runs_browser_tests(config):
        return
    from tests.e2e import visited

    if os.environ.get(visited.ENV) is None:  # a test run inside a test run records elsewhere
        config._visited_folder = visited.start_run()


def pytest_runtest_logreport(report):
    if report.when == "call" and "/e2e/" in report.nodeid.replace(os.sep, "/"):
        _E2E_RUN[0] += 1


_E2E_RUN = [0]  # browser tests that ran in this process (the controller, under xdist)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    checked, html_errors = html_check.validate()
    if hasattr(config, "workerinput"):  # a worker: report to the controller
        from tests.e2e import axe, visited

        config.workeroutput["visited"] = dict(visited.STATS)
        config.workeroutput["audited_paths"] = sorted(axe.AUDITED_PATHS)
        config.workeroutput["axe_stats"] = dict(axe.STATS)
        config.workeroutput["check_seconds"] = sum(axe.CHECK_SECONDS.values())
        config.workeroutput["route_check"] = getattr(config, "workeroutput_route_check", False)
        config.workeroutput["html_checked"] = checked
        config.workeroutput["html_errors"] = html_errors
        return
    reports = getattr(config, "_worker_route_reports", [])
    _finish_visited(config, reports, session.exitstatus)
    config._html_check_result = (
        checked + sum(report.get("html_checked", 0) for report in reports),
        html_errors + [e for report in reports for e in report.get("html_errors", [])],
    )
    if config._html_check_result[1] and session.exitstatus == 0:
        session.exitstatus = 1
    if not any(report.get("route_check") for report in reports):
        return
    from tests.e2e.test_zz_route_coverage import missing_routes

    audited = {path for report in reports for path in report.get("audited_paths", [])}
    missing = missing_routes(audited)
    config._route_check_result = (len(audited), missing)
    if missing and session.exitstatus == 0:
        session.exitstatus = 1


def _finish_visited(config, reports, exitstatus) -> None:
    folder = getattr(config, "_visited_folder", None)
    if folder is None:
        return
    from tests.e2e import visited

    counts = [report.get("visited", {}) for report in reports] or [visited.STATS]
    documents = sum(c.get("documents", 0) for c in counts)
    seconds = sum(c.get("seconds", 0.0) for c in counts)
    run = visited.finish_run(folder, documents, int(exitstatus), _E2E_RUN[0], seconds)
    config._visited_result = run


def pytest_testnodedown(node, error):
    reports = node.config.__dict__.setdefault("_worker_route_reports", [])
    reports.append(getattr(node, "workeroutput", {}))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    checked, html_errors = getattr(config, "_html_check_result", (0, []))
    if checked:
        terminalreporter.write_line(
            f"Nu Html Checker: {checked} distinct pages validated, {len(html_errors)} errors"
        )
    for error in html_errors:
        terminalreporter.write_line(f"FAILED html check: {error}", red=True)
    run = getattr(config, "_visited_result", None)
    if run:
        terminalreporter.write_line(
            f"visited pages: {run['documents']} HTML documents loaded by {run['e2e_tests']} "
            f"browser tests, {run['states']} distinct states recorded in build/visited-pages/ "
            f"in {run['seconds']:.1f} s ({run['audited_in_suite']} audited with axe here, the "
            "others by `make a11y`; the markup of all validated above)"
        )
    reports = getattr(config, "_worker_route_reports", [])
    audited = sum(r.get("axe_stats", {}).get("audited", 0) for r in reports)
    skipped = sum(r.get("axe_stats", {}).get("skipped", 0) for r in reports)
    seconds = sum(r.get("check_seconds", 0.0) for r in reports)
    if not reports and "tests.e2e.axe" in sys.modules:  # one process (-n 0)
        axe = sys.modules["tests.e2e.axe"]
        audited, skipped = axe.STATS["audited"], axe.STATS["skipped"]
        seconds = sum(axe.CHECK_SECONDS.values())
    if audited or skipped:
        terminalreporter.write_line(
            f"axe: {audited} page states audited, {skipped} repeats of an audited state skipped; "
            f"tool checks {seconds:.1f} s ({seconds / max(1, audited):.2f} s a state)"
        )
    result = getattr(config, "_route_check_result", None)
    if result is None:
        return
    paths, missing = result
    if missing:
        terminalreporter.write_line(
            f"FAILED {ROUTE_CHECK} (all workers): page routes never audited with axe by a "
            f"browser test: {missing}",
            red=True,
        )
    else:
        terminalreporter.write_line(
            f"{ROUTE_CHECK} (all workers): every page route audited ({paths} paths)"
        )
