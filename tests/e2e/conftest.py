"""Browser-test harness: a live gunicorn server (two workers, a scratch database, a settable
clock), Debian's Chromium through pytest-playwright, phone (Pixel 7) and desktop contexts.

PORTAL_E2E_DATABASE_URL points the server at another database (CI's PostgreSQL smoke journey);
by default it gets a fresh SQLite file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import worker_database
from tests.e2e import axe, visited

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
# Relying parties registered with the mock card service for the protocol tests. Their redirect
# URIs are never contacted: the tests read the Location header.
MOCK_JPKI_CLIENTS = [
    {
        "client_id": "test-rp",
        "client_secret": "test-secret",
        "redirect_uris": ["http://127.0.0.1:49151/callback"],
    },
    {
        "client_id": "other-rp",
        "client_secret": "other-secret",
        "redirect_uris": ["http://127.0.0.1:49151/other"],
    },
]


def pytest_collection_modifyitems(config, items):
    """The route-coverage check runs after every other browser test."""
    last = [item for item in items if item.nodeid.endswith("test_every_page_route_was_audited")]
    items[:] = [item for item in items if item not in last] + last
    for item in items:
        if "/e2e/" in item.nodeid.replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@dataclass
class LiveServer:
    url: str
    clock_file: Path
    access_log: Path
    error_log: Path
    database_url: str
    env: dict

    def set_clock(self, iso: str | None) -> None:
        self.clock_file.write_text(iso or "")

    def flask(self, *args: str) -> str:
        """Run a `flask` command against this server's database and instance; its output."""
        result = subprocess.run(
            [Path(sys.executable).parent / "flask", *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_live_server(workdir: Path, extra_env: dict | None = None):
    """Migrate a fresh database and start gunicorn (2 workers) on a free loopback port.
    Returns (LiveServer, process); the caller stops the process."""
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "test",
        "PORTAL_INSTANCE_PATH": str(workdir),
        "DATABASE_URL": (
            worker_database(os.environ["PORTAL_E2E_DATABASE_URL"])
            if os.environ.get("PORTAL_E2E_DATABASE_URL")
            else f"sqlite:///{workdir / 'e2e.sqlite3'}"
        ),
        "SECRET_KEY": "e2e-" + "s" * 60,
        "PORTAL_TEST_CLOCK_FILE": str(workdir / "clock"),
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_WORKERS": "2",
        "PORTAL_ACCESS_LOG": str(workdir / "access.log"),
        "FLASK_APP": "portal",
        "PORTAL_MOCK_JPKI_CLIENTS": json.dumps(MOCK_JPKI_CLIENTS),
        # Every browser test logs in from the same address: the lockout is tested in tests/web.
        "PORTAL_RATELIMIT_LOGIN": "1000 per minute",
        "PORTAL_RATELIMIT_LOGIN_FAILURES": "1000 per 15 minutes",
        # The booking races send 50 bookings at once from one address.
        "PORTAL_RATELIMIT_BOOKING": "1000 per minute",
        # One worker's journeys run back to back from one address, faster than a person fills
        # pages: the save and submit limits (60 and 20 a minute) are tested in tests/web.
        "PORTAL_RATELIMIT_SAVE": "1000 per minute",
        "PORTAL_RATELIMIT_SUBMIT": "1000 per minute",
        # Nothing else about the address: the portal derives its public address from the bind
        # (as `make run PORT=...` does), and from that every address it gives the card service
        # (login, signing, the counter) and the payment provider (API, webhooks, returns).
        **(extra_env or {}),
    }
    bindir = Path(sys.executable).parent
    subprocess.run(
        [bindir / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    error_log = workdir / "error.log"
    with error_log.open("w") as log_file:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [bindir / "gunicorn", "--config", "python:portal.gunicorn_conf", "portal:create_app()"],
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded 2-CPU machine starts slowly
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"live server did not start:\n{error_log.read_text()}")
        time.sleep(0.2)
    server = LiveServer(
        url, workdir / "clock", workdir / "access.log", error_log, env["DATABASE_URL"], env
    )
    return server, process


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    server, process = start_live_server(tmp_path_factory.mktemp("live"))
    yield server
    stop(process)


@pytest.fixture(scope="session")
def live_app(live_server):
    """The portal app configured exactly like the live server (same database, keys and clock
    file), for preparing states through the service layer (tests/e2e/prepared.py)."""
    from unittest import mock

    from portal import create_app

    with mock.patch.dict(os.environ, live_server.env, clear=True):
        return create_app()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        ],
    }


def _device(playwright, name: str) -> dict:
    descriptor = dict(playwright.devices[name])
    descriptor.pop("default_browser_type", None)
    return descriptor


@pytest.fixture
def make_page(browser, playwright, live_server):
    """make_page(kind, javascript=True): a fresh context and page ('phone', 'small', 'tablet',
    'desktop')."""
    contexts = []

    def factory(kind: str = "phone", javascript: bool = True):
        if kind == "phone":
            options = _device(playwright, "Pixel 7")
        elif kind == "small":  # the narrowest phone we support: 320 CSS px (WCAG reflow)
            options = {**_device(playwright, "Pixel 7"), "viewport": {"width": 320, "height": 640}}
        elif kind == "tablet":  # a helper's tablet at a スマホ教室 or a branch office
            options = _device(playwright, "Galaxy Tab S4")
        else:
            options = {"viewport": {"width": 1280, "height": 800}}
        context = browser.new_context(
            **options,
            base_url=live_server.url,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            java_script_enabled=javascript,
            bypass_csp=True,  # lets axe-core be injected; the CSP itself is tested elsewhere
        )
        context.set_default_timeout(10_000)
        visited.record(
            context,
            live_server.url,
            javascript,
            mobile=bool(options.get("is_mobile")),
            touch=bool(options.get("has_touch")),
        )
        contexts.append(context)
        page = context.new_page()
        page.portal_javascript = javascript
        return page

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def axe_page(browser):
    """A JavaScript-enabled page used to audit copies of pages served to no-JS contexts."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def audit(axe_page):
    """audit(page): axe-core with WCAG 2.2 AA tags on the page as shown; no horizontal scroll."""

    def run(page) -> None:
        axe.audit(page, axe_page)

    return run
