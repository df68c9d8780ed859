"""Hostile input across the URL map (issue 25): every endpoint, as someone allowed there, with a
valid CSRF token and hostile values in its real fields, query string, headers and path.

Class "a 500 from input": control characters, lone surrogates, noncharacters, values far longer
than any column and impossible dates give no 5xx anywhere. Each endpoint must also show that some
try reached the code that reads its input (not a 401/403/404/405, a CSRF refusal or a login
redirect), except those in UNREACHABLE, each with its reason.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from portal import clock
from tests.conftest import make_app
from tests.web.hostile import World, header_value, tries

HOSTILE = {
    "nul": "a\x00b",
    "controls": "\x01\x08\x0b\x1b\x1f\t\x7f\x85\x9f",
    "surrogate": "\ud800x",
    "nonchar-bidi": "\ufffe\uffff\u202e",
    "long": "x" * 100_000,
    "year-0": "0000-01-01",
    "year-99999": "99999-12-31",
    "month-13": "2026-13-01",
    "wareki-feb-30": "令和8年2月30日",
}
HEADERS = (
    "User-Agent",
    "Accept-Language",
    "Referer",
    "X-Forwarded-For",
    "Mock-Pay-Signature",
    "Idempotency-Key",
)

# Endpoints no try may reach, and why.
UNREACHABLE = {
    # File downloads: the only input is the path, and a path that names no upload is a 404.
    "bundles.member_file": "a file download; its only input is the path",
    "staff.case_file": "a file download; its only input is the path",
    "staff.counter_file": "a file download; its only input is the path",
    "submissions.draft_file": "a file download; its only input is the path",
    "submissions.status_file": "a file download; its only input is the path",
    "staff.appointments_closure_delete": "takes no input but the path; no closure in the world",
    # Pages of a state the world is not in (404 until it is); they read no query or form.
    "bundles.visit_plan": "only after a bundle with counter visits was filed",
    "payments.receipt": "only for a paid payment",
    "mock_pay.qr_app": "only for a payment the resident chose to pay by QR code",
    "submissions.my_application": "only for a submitted application of the signed-in resident",
    "counter.confirm": "only on the visitor's screen after staff issued a confirmation link",
    "counter.done": "only on the visitor's screen after a counter confirmation",
    "counter.open_link": "its only input is the link's token; an unknown token is a 404",
    "kiosk.begin": "starts a visit and reads nothing but its CSRF token; the sweep's terminal is "
    "in a visit already (its pages are swept)",
    "staff.wipe_kiosk": "only for a kiosk out of service after a failed wipe; its only input is "
    "the path",
    "mock_jpki.create_sign_transaction": "the mock card service's client API (a 401 without "
    "the relying party's credentials; the portal's provider is the only caller)",
    # Signs the member out everywhere, the sweeping member included: the answer is the redirect
    # to the staff login, which is what it should do.
    "staff.sign_out_everywhere": "its answer is the redirect to the staff login",
}


@pytest.fixture
def world(database_url, clean_db, tmp_path):
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=False)
    yield World(app)
    clock.set_override(None)


# Also on PostgreSQL in CI: it refuses what SQLite stores (NUL in text, values past a column).
@pytest.mark.db
def test_no_input_gives_a_5xx_anywhere(world):
    started = time.perf_counter()
    failures, reached, count = [], set(), 0
    seen: dict = {}
    targets = world.targets()
    for target in targets:
        for value in HOSTILE.values():
            headers = dict.fromkeys(HEADERS, header_value(value))
            for outcome in tries(world, target, value, headers):
                count += 1
                if outcome.status >= 500:
                    failures.append(outcome.describe())
                if outcome.reached:
                    reached.add(target.endpoint)
                seen.setdefault(target.endpoint, set()).add((outcome.method, outcome.status))
    unreached = sorted({t.endpoint for t in targets} - reached - set(UNREACHABLE))
    print(f"{count} requests to {len(targets)} endpoints in {time.perf_counter() - started:.1f} s")
    assert not failures, "\n".join(failures)
    assert not unreached, "no try reached the input of " + "\n".join(
        f"{e}: {sorted(seen.get(e, []))}" for e in unreached
    )


# Class "a redirect off the site": redirect targets as an attacker would write them.
OFF_SITE = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\t//evil.example",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "http:evil.example",
    "/x\r\nSet-Cookie: injected=1",
    "/" + "y" * 100_000,
]
# As a browser asks (pages that also answer JSON redirect only a browser).
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
OUR_HOSTS = {"", "localhost"}
# Where the portal sends people on purpose: the payment provider's and the card service's pages
# (their addresses are configuration, never input).
PROVIDER_HOSTS = {"pay.example"}


def off_site(outcome) -> list[str]:
    """What is wrong with the headers of one answer: a Location to another host, a header that
    echoes the hostile value or is longer than any header of ours, an injected header."""
    problems = []
    for name, header in outcome.headers:
        if name == "Location":
            host = urlsplit(header).hostname or ""
            if host not in OUR_HOSTS | PROVIDER_HOSTS or header.lstrip().startswith(("//", "/\\")):
                problems.append(f"Location {header[:80]!r}")
            if urlsplit(header).scheme not in ("", "http", "https"):
                problems.append(f"Location {header[:80]!r}")
        if len(header) > 2000 and name != "Content-Security-Policy":
            problems.append(f"{name} of {len(header)} characters")
        if "evil.example" in header or "injected" in header:
            problems.append(f"{name} echoes the value: {header[:80]!r}")
        if name == "Set-Cookie" and "injected" in header:
            problems.append("injected cookie")
    return problems


def test_no_redirect_leads_off_the_site_and_no_header_echoes_input(world):
    failures, count = [], 0
    targets = world.targets()
    for target in targets:
        for value in OFF_SITE:
            for outcome in tries(world, target, value, BROWSER, query=("lang", "return_to", "url")):
                count += 1
                problems = off_site(outcome)
                if problems:
                    failures.append(f"{outcome.describe()}: {problems}")
    # The path itself, as a server receives it (PATH_INFO decoded; a test client would read
    # "//evil.example/" as a host): the language switch comes back to the path it was asked on.
    client = world.clients["resident"]
    for path in ("//evil.example/", "//evil.example/%2F..", "/\\evil.example", "/\t/evil.example"):
        for query in ("lang=en", "lang=en&next=//evil.example", "lang=ja&x=" + "z" * 100_000):
            response = client.get("/", environ_overrides={"PATH_INFO": path, "QUERY_STRING": query})
            count += 1
            location = response.headers.get("Location", "")
            if urlsplit(location).hostname not in (None, "localhost") or location.startswith(
                ("//", "/\\")
            ):
                failures.append(f"GET {path}?{query[:30]} -> Location {location[:80]!r}")
            if len(location) > 2000:
                failures.append(f"GET {path}?{query[:30]} -> Location of {len(location)}")
    print(f"{count} requests to {len(targets)} endpoints")
    assert not failures, "\n".join(failures)
