"""The April peak at 3x the model, against the production layout (docs/benchmarks.md, issue 24).

    make bench-peak                      # = python bench/april_peak.py --minutes 10
    .venv/bin/python bench/april_peak.py --minutes 1 --scale 3

Needs the bench extra (`make bench-deps`: Locust, pinned in requirements/bench.txt). Never in CI.

It starts the production layout (scripts/layout.py: nginx with TLS, 2 web instances in
production mode, 2 workers, PostgreSQL, Redis) with the bare Flask + SQLite read app of
bench/baseline_apps.py behind the same nginx (/__baseline/, its own gunicorn with the same 2
processes x 4 threads), then runs Locust in this process with the mixed scenario sized from the
model (docs/benchmarks.md) times --scale:

  certificate residents  card login (mock card service), the certificate request's pages and
                         step saves, the submit (answered with its reference), and for about
                         40 % the fee paid by card at the mock provider and back
  booking residents      the calendar, a day, a booked time
  browsing residents     the home page, procedure pages
  staff                  signed in (password and authenticator code), the inbox and a case
  baseline               GET /__baseline/ (one SQLite read), at a low steady rate

and prints, per request kind, the count, p50/p95/p99, the 5xx count and failures; the journeys
completed (cookies kept, every submit answered with a reference) and the submissions lost (a
reference shown to a resident that is not in the database exactly once). The same goes to
bench/results/april_peak-<timestamp>.json. Timings are never asserted: the load generator
shares the machine with everything it measures.
"""

from __future__ import annotations

# Locust patches the standard library for gevent when imported: before anything else.
import locust  # noqa: I001,F401  (isort: skip)

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import gevent
from locust import HttpUser, between, constant_pacing, events, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
REFERENCE = re.compile(r'<strong class="reference">(ISM-[0-9A-Z]{4}-[0-9A-Z]{4})</strong>')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
JUMINHYO = "/procedures/juminhyo-copy"
BROWSE = [
    "/",
    "/procedures/juminhyo-copy",
    "/procedures/koseki-shomei",
    "/procedures/hoiku-riyou",
    "/procedures/inkan-toroku",
    "/procedures/shotoku-shomei",
    "/appointments",
]
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
# Adult demo cards of the mock card service (portal/demo_data/people.yaml) and their PINs: one
# per logged-in resident, since a resident's drafts belong to the person (two users sharing a
# card would share drafts). Residents beyond these apply without logging in (the certificate
# request allows it).
PERSONAS = [("adult", "1234"), ("parent", "2345"), ("spouse", "3456"), ("elderly", "1111"),
            ("family", "2222"), ("care-manager", "3333"), ("foreign", "4444"),
            ("gaiji", "5555"), ("moved", "7777"), ("mover", "1357")]  # fmt: skip
CARD = {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123", "name": "TARO OHARA"}
STAFF_PASSWORD = "april-peak-" + "x" * 12
STAFF_COUNT = 15
# Kinds whose p95 aim is 1 s (they write); every other kind aims at 300 ms.
WRITES = {"step save", "submit", "booking", "payment", "login"}

# What the users report (filled during the run).
shown_references: list[str] = []
journeys = Counter()
status_5xx: Counter = Counter()
layout = None  # the started Layout


def load_layout_module():
    spec = importlib.util.spec_from_file_location("portal_layout", ROOT / "scripts" / "layout.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["portal_layout"] = module
    spec.loader.exec_module(module)
    return module


class JourneyFailed(Exception):
    pass


class Resident(HttpUser):
    abstract = True

    def on_start(self) -> None:
        self.client.verify = str(layout.ca_file)
        self.client.trust_env = False
        self.client.headers["Referer"] = f"{self.host}/"

    def call(self, method: str, path: str, kind: str, expect=(200,), **kwargs):
        """One request, counted under `kind`; anything but `expect` fails the journey."""
        with self.client.request(
            method, path, name=kind, catch_response=True, timeout=60, **kwargs
        ) as response:
            if response.status_code not in expect:
                response.failure(f"{response.status_code} for {method} {path}")
                raise JourneyFailed(f"{kind}: {response.status_code} {method} {path}")
            response.success()
            return response

    def form(self, path: str, kind: str, data: dict, page_kind: str = "page", **kwargs):
        """GET a form page, then POST it with its CSRF token."""
        page = self.call("GET", path, page_kind)
        token = CSRF.search(page.text)
        if not token:
            raise JourneyFailed(f"no CSRF token on {path}")
        return self.call(
            "POST",
            kwargs.pop("action", path),
            kind,
            data={**data, "csrf_token": token.group(1)},
            **kwargs,
        )


class CertificateResident(Resident):
    """Card login, the certificate request, the submit with its reference; 40 % pay by card.

    Paced to the model, not as fast as the portal answers: a journey makes 5 step saves (the
    start and 4 steps), so 14 residents starting one every 14 s make the 5 step saves a second
    of the 3x model (and 1 submission a second, 1.8x the submissions' aim, since the
    certificate is shorter than the moving journeys the model's saves come from). Unpaced, the
    residents drove the instances to saturation and the percentiles measured the queue."""

    wait_time = constant_pacing(14)
    personas: list[tuple[str, str]] = []

    def on_start(self) -> None:
        super().on_start()
        self.persona = CertificateResident.personas.pop() if CertificateResident.personas else None

    @task
    def journey(self) -> None:
        self.client.cookies.clear()
        try:
            if self.persona:
                self.card_login(*self.persona)
            self.call("GET", JUMINHYO, "page")
            self.form(JUMINHYO, "step save", {}, action=f"{JUMINHYO}/start")
            for step, answers in STEPS.items():
                self.form(f"{JUMINHYO}/apply/{step}", "step save", answers)
            done = self.form(f"{JUMINHYO}/check", "submit", {"declaration": "yes"})
            found = REFERENCE.search(done.text)
            if not found:
                raise JourneyFailed("a submit answered without a reference")
            shown_references.append(found.group(1))
            if random.random() < 0.4:
                self.pay(done)
                journeys["paid"] += 1
            journeys["certificate completed"] += 1
            journeys["... with card login" if self.persona else "... without login"] += 1
        except JourneyFailed as error:
            journeys[f"certificate failed: {str(error)[:70]}"] += 1

    def card_login(self, card: str, pin: str) -> None:
        page = self.call("GET", "/login", "login")
        started = self.call(
            "POST",
            "/login",
            "login",
            expect=(302, 303),
            allow_redirects=False,
            data={"csrf_token": CSRF.search(page.text).group(1)},
        )
        authorize = started.headers["Location"].removeprefix(self.host)
        reader = self.call("GET", authorize, "login")
        chosen = self.call(
            "POST",
            authorize,
            "login",
            expect=(302, 303),
            allow_redirects=False,
            data={
                "csrf_token": CSRF.search(reader.text).group(1),
                "card": card,
                "pin": pin,
                "action": "login",
            },
        )
        self.call("GET", chosen.headers["Location"].removeprefix(self.host), "login")

    def pay(self, done) -> None:
        status_token = re.search(r'name="status_token" value="([^"]+)"', done.text)
        if not status_token:
            raise JourneyFailed("no fee to pay on the done page")
        started = self.call(
            "POST",
            "/payments/start",
            "payment",
            expect=(303,),
            allow_redirects=False,
            data={
                "csrf_token": CSRF.search(done.text).group(1),
                "status_token": status_token.group(1),
            },
        )
        checkout = started.headers["Location"].removeprefix(self.host)
        chosen = self.form(
            checkout,
            "payment",
            {"method": "card", "action": "choose"},
            expect=(303,),
            allow_redirects=False,
        )
        card = chosen.headers["Location"].removeprefix(self.host)
        paid = self.form(card, "payment", CARD)
        if "/mock-pay/" in paid.url:
            raise JourneyFailed(f"the payment did not come back: {paid.url}")


class BookingResident(Resident):
    """The calendar, a day with free times, a booking."""

    wait_time = constant_pacing(8)

    @task
    def book(self) -> None:
        self.client.cookies.clear()
        query = "service=juminhyo&people=1"
        try:
            calendar = self.call("GET", f"/appointments/shimin-main?{query}", "page")
            days = re.findall(
                r'href="(/appointments/shimin-main/\d{4}-\d{2}-\d{2})\?', calendar.text
            )
            if not days:
                raise JourneyFailed("no bookable day")
            day = f"{random.choice(days[:10])}?{query}"
            page = self.call("GET", day, "page")
            times = re.findall(r'name="time" value="(\d\d:\d\d)"', page.text)
            if not times:
                journeys["booking day full"] += 1
                return
            number = random.randrange(10**8)
            self.call(
                "POST",
                day,
                "booking",
                expect=(303,),
                allow_redirects=False,
                data={
                    "csrf_token": CSRF.search(page.text).group(1),
                    "time": random.choice(times),
                    "name": "夷隅 花子",
                    "email": f"peak{number}@example.jp",
                    "phone": "",
                },
            )
            journeys["booking completed"] += 1
        except JourneyFailed:
            journeys["booking failed"] += 1


class BrowsingResident(Resident):
    wait_time = between(0.8, 1.6)

    @task
    def browse(self) -> None:
        try:
            self.call("GET", random.choice(BROWSE), "browse")
        except JourneyFailed:
            journeys["browse failed"] += 1


class Staff(Resident):
    """A clerk: signed in once, then the inbox and a case, one request each `pace` seconds."""

    wait_time = constant_pacing(0.67)
    accounts: list[tuple[str, str]] = []

    def on_start(self) -> None:
        super().on_start()
        import pyotp

        login_id, secret = Staff.accounts.pop()
        self.form(
            "/staff/login",
            "staff",
            {"login_id": login_id, "password": STAFF_PASSWORD},
            expect=(302, 303),
            allow_redirects=False,
        )
        self.form(
            "/staff/login/code",
            "staff",
            {"code": pyotp.TOTP(secret).now()},
            expect=(302, 303),
            allow_redirects=False,
        )
        self.cases: list[str] = []

    @task
    def work(self) -> None:
        try:
            if self.cases and random.random() < 0.6:
                self.call("GET", random.choice(self.cases), "staff")
                return
            inbox = self.call("GET", "/staff/inbox?department=shimin", "staff")
            self.cases = re.findall(r'href="(/staff/submissions/[^"?#]+)"', inbox.text)[:20]
        except JourneyFailed:
            journeys["staff failed"] += 1


class Baseline(Resident):
    """The bare Flask + SQLite read app behind the same nginx and TLS."""

    wait_time = constant_pacing(0.5)

    @task
    def read(self) -> None:
        try:
            self.call("GET", "/__baseline/", "baseline (flask+sqlite)")
        except JourneyFailed:
            journeys["baseline failed"] += 1


@events.request.add_listener
def _count_5xx(name, response=None, **_kwargs) -> None:
    if response is not None and getattr(response, "status_code", 0) >= 500:
        status_5xx[name] += 1


def create_staff(env: dict) -> list[tuple[str, str]]:
    code = f"""
import re
from portal import create_app, clock
from portal.db import db
from portal.staff import service
app = create_app()
with app.app_context():
    key = app.extensions["submission_services"].my_number_key
    for i in range({STAFF_COUNT}):
        member, secret = service.create_member(
            db.session, login_id=f"peak{{i:02d}}", display_name=f"繁忙 {{i}}",
            password={STAFF_PASSWORD!r}, roles=[("clerk", "shimin")], key=key, now=clock.now())
        print(member.login_id, secret)
    db.session.commit()
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [tuple(line.split()) for line in out.splitlines() if line.startswith("peak")]


def lost_submissions(database_url: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "SELECT reference, count(*) FROM submissions WHERE reference IS NOT NULL "
                    "GROUP BY reference"
                )
            ).all()
        )
    engine.dispose()
    shown = Counter(shown_references)
    return {
        "references_shown": len(shown_references),
        "lost": sorted(r for r in shown if rows.get(r) != 1),
        "shown_twice": sorted(r for r, n in shown.items() if n > 1),
        "in_database_not_shown": len(set(rows) - set(shown)),
    }


def main(argv: list[str] | None = None) -> int:
    global layout
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--scale", type=float, default=3.0, help="times the modelled peak")
    args = parser.parse_args(argv)
    scale = args.scale / 3.0  # the user counts below are sized for 3x

    module = load_layout_module()
    workdir = Path(tempfile.mkdtemp(prefix="april-peak-"))
    baseline_port = module.free_port()
    layout = module.Layout(
        workdir,
        worker_interval=1.0,
        # Every simulated resident shares 127.0.0.1: per-address limits would be what is
        # measured, so they are raised (the limits themselves are tested elsewhere).
        extra_env={
            f"PORTAL_RATELIMIT_{name}": "1000000 per minute"
            for name in ("LOGIN", "SAVE", "SUBMIT", "RESUME", "BOOKING")
        },
        conn_address=64,
        extra_locations=(
            f"        location /__baseline/ {{ proxy_pass http://127.0.0.1:{baseline_port}/; }}\n"
        ),
    )
    baseline = None
    try:
        print("Starting the production layout and the baseline app...", flush=True)
        baseline = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-k",
                "gthread",
                "-w",
                "2",
                "--threads",
                "4",
                "--pythonpath",
                str(ROOT / "bench"),
                "-b",
                f"127.0.0.1:{baseline_port}",
                "baseline_apps:sqlite_app",
            ],
            env={**os.environ, "BENCH_SQLITE_PATH": str(workdir / "baseline.sqlite3")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        layout.start()
        Staff.accounts = create_staff(layout.env)
        CertificateResident.personas = list(PERSONAS)
        counts = {
            CertificateResident: max(1, round(14 * scale)),
            BookingResident: max(1, round(2 * scale)),
            BrowsingResident: max(1, round(2 * scale)),
            Staff: max(1, min(STAFF_COUNT, round(STAFF_COUNT * scale))),
            Baseline: 1,
        }
        for user_class, count in counts.items():
            user_class.fixed_count = count
            user_class.host = layout.url
        env = Environment(user_classes=list(counts), events=events, host=layout.url)
        runner = env.create_local_runner()
        total = sum(counts.values())
        print(
            f"{layout.url}: {total} users for {args.minutes:g} min at {args.scale:g}x", flush=True
        )
        started = time.monotonic()
        runner.start(total, spawn_rate=10)
        gevent.sleep(args.minutes * 60)
        runner.quit()
        elapsed = time.monotonic() - started
        report(env, elapsed, args, counts)
    finally:
        if baseline is not None:
            baseline.terminate()
            baseline.wait(timeout=10)
        layout.stop()
    return 0


def report(env: Environment, elapsed: float, args, counts) -> None:
    kinds = {}
    for entry in sorted(env.stats.entries.values(), key=lambda e: e.name):
        kind = kinds.setdefault(entry.name, {"requests": 0, "failures": 0, "entries": []})
        kind["entries"].append(entry)
    rows = []
    for name, kind in kinds.items():
        merged = kind["entries"][0]
        for other in kind["entries"][1:]:
            merged.extend(other)
        aim = 1000 if name in WRITES else 300
        p95 = merged.get_response_time_percentile(0.95)
        rows.append(
            {
                "kind": name,
                "requests": merged.num_requests,
                "per_second": round(merged.num_requests / elapsed, 2),
                "p50_ms": merged.get_response_time_percentile(0.5),
                "p95_ms": p95,
                "p99_ms": merged.get_response_time_percentile(0.99),
                "failures": merged.num_failures,
                "5xx": status_5xx[name],
                "aim_p95_ms": None if name.startswith("baseline") else aim,
            }
        )
    lost = lost_submissions(layout.database_url)
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs (shared), Python {platform.python_version()}",
        "minutes": round(elapsed / 60, 2),
        "scale": args.scale,
        "users": {cls.__name__: n for cls, n in counts.items()},
        "kinds": rows,
        "journeys": dict(journeys),
        "submissions": lost,
        "total_5xx": sum(status_5xx.values()),
    }
    print(f"\nApril peak at {args.scale:g}x for {elapsed / 60:.1f} min ({result['machine']})")
    print(
        f"{'kind':26} {'requests':>8} {'/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'fail':>5} {'5xx':>4}  aim p95"
    )
    for row in rows:
        aim = f"< {row['aim_p95_ms']} ms" if row["aim_p95_ms"] else "-"
        print(
            f"{row['kind']:26} {row['requests']:>8} {row['per_second']:>6} {row['p50_ms']:>6} "
            f"{row['p95_ms']:>6} {row['p99_ms']:>6} {row['failures']:>5} {row['5xx']:>4}  {aim}"
        )
    print(f"journeys: {dict(journeys)}")
    print(
        f"submissions: {lost['references_shown']} references shown, "
        f"{len(lost['lost'])} lost, {len(lost['shown_twice'])} shown twice, "
        f"{lost['in_database_not_shown']} in the database that no resident was shown"
    )
    print(f"5xx: {result['total_5xx']}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"april_peak-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
