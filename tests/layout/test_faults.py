"""Faults during a stream of submissions (issue 24, decision 0053), on a layout of its own:
a web instance killed, a worker killed, the database's connections cut, Redis stopped.

Four resident clients (threads, each a cookie-keeping session through nginx over https) submit
certificate requests one after another, as residents would: a page that says to retry (the
portal's 409/503 busy page or nginx's static one, each 「混み合っています」 with Retry-After) is
retried after a short wait; anything else that is not the expected page (a bare 500, a hang, an
unexpected status) is a failure. After each fault:

- every reference a client was shown exists exactly once in the database, and every submission
  in the database is one a client was shown (a client whose submit got a retry page sends it
  again until it gets the reference: the same one when the first attempt had been made);
- residents saw only pages that say to retry, each within a bounded time;
- the recovery time is printed and written to instance/layout-faults.json: how long residents
  met retry pages after the fault, and how long the failed part took to come back.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field

import psycopg
import pytest
import requests
from sqlalchemy import create_engine, text

from tests.layout.conftest import ROOT, load_layout_module

JUMINHYO = "/procedures/juminhyo-copy"
REFERENCE = re.compile(r'<strong class="reference">(ISM-[0-9A-Z]{4}-[0-9A-Z]{4})</strong>')
BUSY = "混み合っています"
RETRY_STATUSES = {409, 503}
CLIENTS = 4
REQUEST_TIMEOUT = 40  # nginx answers within 30 s (proxy_read_timeout): more is a hang
RESULTS = ROOT / "instance" / "layout-faults.json"
STEPS = {
    "applicant": {
        "applicant_name": "大原 太郎",
        "applicant_kana": "オオハラ タロウ",
        "phone": "090-1234-5678",
        "relationship": "self",
    },
    "target": {"scope": "self"},
    "copies-purpose": {"copies": "1", "purpose": "pension"},
    "delivery": {"delivery": "counter"},
}


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    module = load_layout_module()
    started = module.Layout(
        tmp_path_factory.mktemp("faults"),
        worker_interval=1.0,
        extra_env={
            # Every client shares 127.0.0.1: the per-address limits would be what is measured.
            "PORTAL_RATELIMIT_SAVE": "100000 per minute",
            "PORTAL_RATELIMIT_SUBMIT": "100000 per minute",
            # Fail fast when every connection is taken (the 503 busy page), as under overload.
            "PORTAL_DB_POOL_TIMEOUT": "5",
        },
    ).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def engine(layout):
    engine = create_engine(layout.database_url, pool_pre_ping=True)  # it is cut too
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def results():
    collected: dict[str, dict] = {}
    yield collected
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(collected, indent=2, ensure_ascii=False) + "\n")
    print(f"\nFault results ({RESULTS}):")
    for name, result in collected.items():
        print(f"  {name}: {json.dumps(result, ensure_ascii=False)}")


class Unexpected(AssertionError):
    pass


@dataclass
class Stream:
    """CLIENTS residents submitting until stopped; what each was shown, with times."""

    layout: object
    references: list[str] = field(default_factory=list)
    retry_pages: list[tuple[float, int, str]] = field(default_factory=list)  # time, status, path
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0
    journeys: int = 0
    stop_flag: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stop_flag.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT * 3)
        assert not any(thread.is_alive() for thread in self.threads), "a client hung"

    def wait_for_references(self, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while len(self.references) < count:
            assert not self.failures, self.failures
            assert time.monotonic() < deadline, f"{len(self.references)} of {count} references"
            time.sleep(0.1)

    # One resident: journeys one after another.
    def _client(self) -> None:
        while not self.stop_flag.is_set():
            session = requests.Session()
            session.verify = str(self.layout.ca_file)
            session.trust_env = False
            session.headers["Referer"] = f"{self.layout.url}/"
            try:
                reference = self._journey(session)
            except Unexpected as error:
                with self.lock:
                    self.failures.append(str(error))
                return
            with self.lock:
                self.journeys += 1
                self.references.append(reference)

    def _journey(self, session: requests.Session) -> str:
        self._post(session, f"{JUMINHYO}/start", {}, form=JUMINHYO)
        for step, answers in STEPS.items():
            self._post(session, f"{JUMINHYO}/apply/{step}", answers)
        done = self._post(session, f"{JUMINHYO}/check", {"declaration": "yes"})
        found = REFERENCE.search(done)
        if not found:
            raise Unexpected(f"the submit was answered without a reference: {page_text(done)}")
        return found.group(1)

    def _post(self, session, path: str, data: dict, form: str | None = None) -> str:
        """The page a POST ends on, sent again (with a fresh CSRF token from `form`'s page) as
        often as a retry page asks: a resident pressing Back and sending again."""
        url_form = form or path
        for _ in range(60):
            page = self._get(session, url_form)
            started = time.monotonic()
            try:
                response = session.post(
                    self.layout.url + path,
                    data={**data, "csrf_token": csrf(page)},
                    timeout=REQUEST_TIMEOUT,
                )
            except requests.Timeout as error:
                raise Unexpected(f"POST {path}: no answer within {REQUEST_TIMEOUT} s") from error
            except requests.ConnectionError as error:
                raise Unexpected(f"POST {path}: connection failed: {error}") from error
            if self._answer(response, "POST", path, time.monotonic() - started):
                return response.text
        raise Unexpected(f"POST {path}: still busy after 60 tries")

    def _get(self, session, path: str) -> str:
        for _ in range(60):
            started = time.monotonic()
            try:
                response = session.get(self.layout.url + path, timeout=REQUEST_TIMEOUT)
            except requests.Timeout as error:
                raise Unexpected(f"GET {path}: no answer within {REQUEST_TIMEOUT} s") from error
            except requests.ConnectionError as error:
                raise Unexpected(f"GET {path}: connection failed: {error}") from error
            if self._answer(response, "GET", path, time.monotonic() - started):
                return response.text
        raise Unexpected(f"GET {path}: still busy after 60 tries")

    def _answer(self, response: requests.Response, method: str, path: str, took: float) -> bool:
        """True for the page itself; False (after a short wait) for a retry page; raises for
        anything else."""
        with self.lock:
            self.slowest = max(self.slowest, took)
        if response.status_code == 200:
            return True
        if response.status_code in RETRY_STATUSES and BUSY in response.text:
            if not response.headers.get("Retry-After"):
                raise Unexpected(f"{method} {path}: a busy page without Retry-After")
            with self.lock:
                self.retry_pages.append((time.monotonic(), response.status_code, path))
            time.sleep(0.3)
            return False
        raise Unexpected(f"{method} {path}: {response.status_code} {page_text(response.text)}")


def page_text(html: str) -> str:
    """The title, the heading and the first paragraphs of a page, for a failure message."""
    import html as entities

    body = html.split("<main", 1)[-1]
    words = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", entities.unescape(words))[:400]


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not match:
        raise Unexpected(f"no CSRF token on the page: {html[:300]!r}")
    return match.group(1)


def run_fault(layout, engine, results, name: str, inject, repair, recovered) -> None:
    """A stream of submissions; `inject` after a few references, `repair` 3 s later, then until
    `recovered()` is true and a few more references have come; then the accounting."""
    stream = Stream(layout)
    with engine.connect() as conn:
        before = set(conn.execute(text("SELECT reference FROM submissions")).scalars())
    stream.start()
    try:
        stream.wait_for_references(CLIENTS, 60)
        injected_at = time.monotonic()
        inject()
        time.sleep(3)
        repaired_at = time.monotonic()
        repair()
        deadline = time.monotonic() + 60
        while not recovered():
            assert time.monotonic() < deadline, f"{name}: not recovered after 60 s"
            time.sleep(0.2)
        recovered_at = time.monotonic()
        stream.wait_for_references(len(stream.references) + CLIENTS, 60)
    finally:
        stream.stop()
    assert not stream.failures, stream.failures
    after_fault = [t for t, _, _ in stream.retry_pages if t >= injected_at]
    result = {
        "journeys": stream.journeys,
        "retry_pages": len(stream.retry_pages),
        "retry_statuses": sorted({status for _, status, _ in stream.retry_pages}),
        "residents_met_retry_pages_for_s": round(max(after_fault) - injected_at, 2)
        if after_fault
        else 0.0,
        "back_after_repair_s": round(recovered_at - repaired_at, 2),
        "slowest_answer_s": round(stream.slowest, 2),
    }
    results.setdefault(name, {}).update(result)
    print(f"\n{name}: {result}")

    # The accounting: every reference shown exists exactly once; nothing else was made.
    shown = stream.references
    assert len(shown) == len(set(shown)), "a reference was shown to two journeys"
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT reference, count(*) FROM submissions WHERE reference IS NOT NULL "
                "GROUP BY reference"
            )
        ).all()
    counts = {reference: count for reference, count in rows if reference not in before}
    assert all(count == 1 for count in counts.values()), counts
    missing = set(shown) - set(counts)
    assert not missing, f"acknowledged but not in the database: {missing}"
    # Every client finishes the journey it is on before it stops (a retry page is answered by
    # sending again), so nothing may exist that no client was shown.
    unknown = set(counts) - set(shown)
    assert not unknown, f"made without anyone being told: {unknown}"


def readyz(layout) -> dict:
    try:
        response = requests.get(f"{layout.url}/readyz", verify=str(layout.ca_file), timeout=5)
        return response.json()
    except (requests.RequestException, ValueError):
        return {}


def test_a_web_instance_killed_during_submissions(layout, engine, results):
    run_fault(
        layout,
        engine,
        results,
        "web instance killed",
        inject=lambda: layout.kill("web1"),
        repair=lambda: layout.restart("web1"),
        recovered=lambda: _port_open(layout.ports["web1"]),
    )


def test_a_worker_killed_during_submissions(layout, engine, results):
    run_fault(
        layout,
        engine,
        results,
        "worker killed",
        inject=lambda: layout.kill("worker1"),
        repair=lambda: layout.restart("worker1"),
        recovered=lambda: readyz(layout).get("workers_alive", 0) >= 2,
    )


def test_database_connections_cut_during_submissions(layout, engine, results):
    def cut() -> None:
        url = layout.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        results.setdefault("database connections cut", {})["connections_cut"] = cut[0]

    run_fault(
        layout,
        engine,
        results,
        "database connections cut",
        inject=cut,
        repair=cut,  # and once more while the instances reconnect
        recovered=lambda: readyz(layout).get("status") == "ready",
    )


def test_redis_stopped_during_submissions(layout, engine, results):
    statuses: list[str] = []

    def stopped() -> None:
        layout.kill("redis")
        time.sleep(1)
        statuses.append(readyz(layout).get("status", "?"))

    run_fault(
        layout,
        engine,
        results,
        "redis stopped",
        inject=stopped,
        repair=lambda: layout.restart("redis"),
        recovered=lambda: readyz(layout).get("checks", {}).get("redis") == "ok",
    )
    # While Redis was down the instances stayed in rotation, saying so.
    assert statuses == ["degraded"], statuses


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
