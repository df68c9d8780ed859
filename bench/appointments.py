"""Benchmark: appointment availability (20 counters x 90 days) and a flash crowd of bookers.

    .venv/bin/python bench/appointments.py [--seconds N] [--concurrency C] [--bookers B]

Part 1, availability. A temporary copy of procedure_catalog.yaml gets 20 counters that take
appointments: the catalog's own ones plus generated clones of shimin-main's booking block
(bench-counter-01 ...), and every counter's horizon_days is set to 90 so that a calendar really
covers 90 days. A scratch SQLite database is migrated with `flask db upgrade` and pre-booked
in-process through `portal.appointments.booking.book` (one call per appointment, the same guarded
UPDATE the booking form uses; seeded random: busy near days, quieter later, some days booked out).
Then two gunicorn servers start with the settings of `make run` (portal/gunicorn_conf.py):
hello (bench/baseline_apps.py) and the portal on that catalog and database. Measured, each with
C keep-alive clients for N seconds after a warm-up:

  baseline: hello GET            GET / on hello
  portal: step page GET          the step page of bench/step_pages.py (the baseline of this run)
  portal: calendar GET           GET /appointments/<counter>?service=..&people=1&month=YYYY-MM,
                                 rotating over 20 counters x the 3-4 months covering 90 days
  portal: day page GET           GET /appointments/<counter>/<day>?service=..&people=1, rotating
                                 over every open day of the 90 for every counter

and, in-process, the pure computation: `availability.calendar_days` for the 20 counters x the
months covering 90 days, on the pre-booked slot counts, timed with time.perf_counter.

Part 2, flash crowd. B bookers (own cookie jar each) open the day page of one counter for the
next open day at least 2 days ahead (csrf token), then all POST a booking at once (a
threading.Barrier), spread over the morning's first few start times. Reported: 303 (booked),
409 (taken), other 4xx, 5xx, connection errors, p50/p95/max of the POSTs; then the scratch
database is read to check that no appointment_slots row holds more visitors than its capacity.

Figures are printed with ratios against the baselines of the same run and written to
bench/results/appointments-<UTC timestamp>.json; nothing is asserted. The servers are always
stopped. The server and load-generator helpers are imported from bench/step_pages.py, private
ones (`_spawn`, `_wait_ready`, `_stop`, `_free_port`, `_clean_env`, ...) included.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import itertools
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/appointments.py` puts only bench/ on the path
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import portal.models  # noqa: E402, F401 - every table, so the ORM resolves foreign keys
from bench.step_pages import (  # noqa: E402
    BIN,
    HELLO,
    HOST,
    MAX_REQUESTS,
    NO_CONTROL_SOCKET,
    RESULTS_DIR,
    SECRET_KEY,
    STEP,
    STEP_GET,
    THREADS,
    UNREACHABLE_LIMIT,
    WARMUP_SECONDS,
    WORKERS,
    Client,
    Scenario,
    Server,
    _clean_env,
    _csrf,
    _free_port,
    _gunicorn_baseline_argv,
    _percentile,
    _spawn,
    _stop,
    _wait_ready,
    machine_info,
    print_report,
    run_scenario,
    start_draft,
)
from portal.appointments import availability, booking  # noqa: E402
from portal.appointments.models import Appointment, AppointmentSlot  # noqa: E402
from portal.catalog import load_catalog  # noqa: E402
from portal.catalog.schema import Counter  # noqa: E402
from portal.clock import TOKYO  # noqa: E402
from portal.db import make_engine  # noqa: E402

CATALOG = ROOT / "procedure_catalog.yaml"
TEMPLATE_COUNTER = "shimin-main"
DAYS = 90  # the window the calendars cover, from today
SEED = 20261122
CALENDAR_GET = "portal: calendar GET"
DAY_GET = "portal: day page GET"
# Share of a slot's seats booked in advance, by how far ahead the day is, and the share of days
# in that range that are booked out: busy next two weeks, a quiet third month. Modest on purpose:
# every appointment goes through booking.book (a few ms each), about 12,000 of them by default.
FILL = ((14, 0.35, 0.15), (30, 0.15, 0.05), (DAYS, 0.03, 0.0))


# --------------------------------------------------------------------------------------------
# Catalog and dates


def write_catalog(path: Path, counters: int) -> None:
    """The project's catalog with `counters` booking counters, every horizon set to DAYS."""
    text = CATALOG.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    existing = [c for c in data["counters"] if c.get("booking")]
    template = next(c for c in data["counters"] if c["id"] == TEMPLATE_COUNTER)
    clones = [
        {
            "id": f"bench-counter-{n:02d}",
            "name": f"ベンチマーク窓口 {n:02d}",
            "department": template["department"],
            "location": f"ベンチマーク庁舎 {n}番窓口",
            "hours": template["hours"],
            "booking": copy.deepcopy(template["booking"]),  # no YAML aliases
        }
        for n in range(1, max(0, counters - len(existing)) + 1)
    ]
    # Text edits rather than a YAML round trip, so the rest of the catalog stays byte for byte.
    head, sep, tail = text.partition("\ncounters:\n")
    if not sep:
        raise RuntimeError(f"{CATALOG} has no top-level 'counters:' list")
    end = re.search(r"^\S", tail, re.MULTILINE)
    section, rest = (tail[: end.start()], tail[end.start() :]) if end else (tail, "")
    section = re.sub(r"(\n\s+horizon_days:) \d+", rf"\1 {DAYS}", section)
    if clones:
        dumped = yaml.safe_dump(clones, allow_unicode=True, sort_keys=False, width=200)
        dumped = re.sub(r"(?m)^(?!$)", "  ", dumped)  # indent under counters:
        dumped = re.sub(r"(\n\s+horizon_days:) \d+", rf"\1 {DAYS}", dumped)
        section = dumped + section
    path.write_text(head + sep + section + rest, encoding="utf-8")
    # The files the entry file lists (one per procedure and life event), unchanged.
    shutil.copytree(CATALOG.parent / "catalog", path.parent / "catalog", dirs_exist_ok=True)


def months_covering(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def one_slot_service(counter: Counter):
    """A service that fits in one slot (each booking then takes exactly one seat)."""
    b = counter.booking
    return min(b.services, key=lambda s: (availability.slots_needed(b, s.minutes), s.minutes))


def crowd_day(counter: Counter, minutes: int, now: dt.datetime, starts: int):
    """The next day at least 2 days ahead with `starts` bookable start times (the office calendar,
    the counter's weekdays, notice and horizon decide), and those first start times."""
    day = now.astimezone(TOKYO).date() + dt.timedelta(days=2)
    for _ in range(counter.booking.horizon_days):
        free = availability.bookable_starts(counter.booking, day, minutes, now)
        if len(free) >= starts:
            return day, free[:starts]
        day += dt.timedelta(days=1)
    raise RuntimeError(f"{counter.id} has no day with {starts} free start times in its horizon")


# --------------------------------------------------------------------------------------------
# Pre-booking (in-process, through portal.appointments.booking.book)


def prebook(db_url: str, counters: list[Counter], now: dt.datetime, skip: tuple) -> dict:
    rng = random.Random(SEED)
    engine = make_engine(db_url)
    today = now.astimezone(TOKYO).date()
    appointments = seats = slots_touched = 0
    started = time.perf_counter()
    try:
        for counter in counters:
            b = counter.booking
            service = one_slot_service(counter)
            with Session(engine) as session, session.begin():
                for offset in range(1, DAYS):
                    day = today + dt.timedelta(days=offset)
                    if (counter.id, day) == skip:
                        continue
                    starts = availability.slot_starts(b, day)
                    if not starts:
                        continue
                    share, full_share = next((p, f) for d, p, f in FILL if offset < d)
                    full = rng.random() < full_share
                    seats += len(starts) * b.capacity
                    for start in starts:
                        taken_here = sum(full or rng.random() < share for _ in range(b.capacity))
                        slots_touched += taken_here > 0
                        for _ in range(taken_here):
                            booking.book(
                                session,
                                counter_id=counter.id,
                                slot_starts=availability.covered_slots(b, start, service.minutes),
                                slot_minutes=b.slot_minutes,
                                capacity=b.capacity,
                                services=[service.id],
                                now=now,
                                details={"name": "ベンチマーク", "email": "prebook@example.jp"},
                            )
                            appointments += 1
    finally:
        engine.dispose()
    return {
        "method": "in-process portal.appointments.booking.book, one call per appointment",
        "appointments": appointments,
        "seats_in_window": seats,
        "share_of_seats_booked": appointments / seats if seats else 0.0,
        "slot_rows_with_visitors": slots_touched,
        "seconds": round(time.perf_counter() - started, 2),
        "profile": [
            {"days_ahead_below": d, "seat_share": p, "booked_out_day_share": f} for d, p, f in FILL
        ],
    }


# --------------------------------------------------------------------------------------------
# Pure computation


def time_calendars(
    db_url: str, counters: list[Counter], months: list[dt.date], now: dt.datetime, reps: int
) -> dict:
    """availability.calendar_days for every counter and month, on the database's slot counts
    (read once, outside the timing), `reps` times."""
    engine = make_engine(db_url)
    try:
        start = dt.datetime.combine(months[0], dt.time(0), tzinfo=TOKYO)
        end = dt.datetime.combine(
            (months[-1] + dt.timedelta(days=32)).replace(day=1), dt.time(0), tzinfo=TOKYO
        )
        with Session(engine) as session:
            inputs = [
                (c.booking, c.booking.services[0].minutes, booking.taken(session, c.id, start, end))
                for c in counters
            ]
    finally:
        engine.dispose()
    runs, cpu, days_computed = [], [], 0
    statuses: Tally = Tally()
    for rep in range(reps):
        began, began_cpu = time.perf_counter(), time.process_time()
        for b, minutes, taken in inputs:
            for month in months:
                result = availability.calendar_days(b, month, minutes, now, (), taken)
                if rep == 0:
                    days_computed += len(result)
                    statuses.update(status for _, status in result)
        runs.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    calendars = len(counters) * len(months)
    return {
        "counters": len(counters),
        "months": [m.strftime("%Y-%m") for m in months],
        "calendars_per_repetition": calendars,
        "days_per_repetition": days_computed,
        "repetitions": reps,
        "seconds_per_repetition": [round(r, 5) for r in runs],
        "median_ms": median(runs) * 1000,
        "min_ms": min(runs) * 1000,
        "median_ms_per_calendar": median(runs) * 1000 / calendars,
        "median_us_per_day": median(runs) * 1e6 / days_computed,
        "median_cpu_ms_per_calendar": median(cpu) * 1000 / calendars,
        "day_statuses": dict(statuses),
    }


# --------------------------------------------------------------------------------------------
# Servers


def start_servers(workdir: Path, catalog: Path, servers: list[Server]) -> dict[str, Server]:
    """hello and the portal (on the bench catalog and the pre-booked database), like
    bench/step_pages.start_servers, which has no way to pass the portal extra settings."""
    hello_port = _free_port()
    hello = _spawn(
        "hello",
        _gunicorn_baseline_argv(hello_port, "baseline_apps:hello_app"),
        {**_clean_env(), "BENCH_SQLITE_PATH": str(workdir / "baseline.sqlite3")},
        workdir / "hello.log",
        hello_port,
        "/",
    )
    servers.append(hello)
    portal_port = _free_port()
    portal_argv = [
        str(BIN / "gunicorn"), "--config", "python:portal.gunicorn_conf", NO_CONTROL_SOCKET,
        "portal:create_app()",
    ]  # fmt: skip
    env = {**portal_env(workdir, catalog), "PORTAL_BIND": f"{HOST}:{portal_port}"}
    portal = _spawn("portal", portal_argv, env, workdir / "portal.log", portal_port, "/healthz")
    servers.append(portal)
    for server in servers:
        _wait_ready(server)
    return {"hello": hello, "portal": portal}


def portal_env(workdir: Path, catalog: Path) -> dict[str, str]:
    instance = workdir / "portal-instance"
    instance.mkdir(exist_ok=True)
    return {
        **_clean_env(),
        "FLASK_APP": "portal",
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_CATALOG_PATH": str(catalog),
        "DATABASE_URL": db_url(workdir),
        "SECRET_KEY": SECRET_KEY,
        "PORTAL_WORKERS": str(WORKERS),
        "PORTAL_THREADS": str(THREADS),
        "PORTAL_ACCESS_LOG": "/dev/null",
        "PORTAL_RATELIMIT_SAVE": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_SUBMIT": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_RESUME": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_BOOKING": UNREACHABLE_LIMIT,
    }


def db_path(workdir: Path) -> Path:
    return workdir / "portal.sqlite3"


def db_url(workdir: Path) -> str:
    return f"sqlite:///{db_path(workdir)}"


def migrate(workdir: Path, catalog: Path) -> None:
    result = subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"],
        env=portal_env(workdir, catalog),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{result.stdout}{result.stderr}")


# --------------------------------------------------------------------------------------------
# HTTP scenarios


def rotating(paths: list[str], offset: int):
    """A Scenario.prepare that makes the client send each request to the next of `paths`
    (run_scenario sends one fixed path; the client's request method is wrapped instead)."""

    def prepare(client: Client) -> None:
        cycle = itertools.cycle(paths[offset % len(paths) :] + paths[: offset % len(paths)])
        send = client.request
        client.request = lambda method, _path, body=None: send(method, next(cycle), body)
        return None

    return prepare


def scenario_list(
    servers: dict[str, Server], calendar_paths: list[str], day_paths: list[str], concurrency: int
) -> list[Scenario]:
    hello, portal = servers["hello"], servers["portal"]
    rng = random.Random(SEED)
    calendar_paths = rng.sample(calendar_paths, len(calendar_paths))
    day_paths = rng.sample(day_paths, len(day_paths))
    offsets = itertools.count()

    def prepare_step(client: Client) -> None:
        start_draft(client)
        return None

    def prepare_rotating(paths: list[str]):
        def prepare(client: Client) -> None:
            return rotating(paths, next(offsets) * len(paths) // concurrency)(client)

        return prepare

    pid = portal.process.pid
    return [
        Scenario(HELLO, hello.port, hello.process.pid, "GET", "/"),
        Scenario(STEP_GET, portal.port, pid, "GET", STEP, prepare_step),
        Scenario(
            CALENDAR_GET,
            portal.port,
            pid,
            "GET",
            f"/appointments/<counter>?service=..&people=1&month=.. ({len(calendar_paths)} URLs)",
            prepare_rotating(calendar_paths),
            ok=lambda s: s == 200,
            expect="200",
        ),
        Scenario(
            DAY_GET,
            portal.port,
            pid,
            "GET",
            f"/appointments/<counter>/<day>?service=..&people=1 ({len(day_paths)} URLs)",
            prepare_rotating(day_paths),
            ok=lambda s: s == 200,
            expect="200",
        ),
    ]


def ratios(by_name: dict[str, dict]) -> dict[str, float]:
    def div(a: float, b: float) -> float:
        return a / b if b else float("nan")

    out = {}
    pairs = [
        (CALENDAR_GET, STEP_GET, "calendar ÷ step page"),
        (DAY_GET, STEP_GET, "day page ÷ step page"),
        (CALENDAR_GET, HELLO, "calendar ÷ hello"),
    ]
    for top, base, label in pairs:
        if top not in by_name or base not in by_name:
            continue
        t, b = by_name[top], by_name[base]
        out[f"{label}: req/s"] = div(t["req_per_s"], b["req_per_s"])
        for key in ("p50_ms", "p95_ms", "p99_ms"):
            out[f"{label}: {key.removesuffix('_ms')}"] = div(t[key], b[key])
        out[f"{label}: server CPU/req"] = div(
            t["server_cpu_ms_per_request"], b["server_cpu_ms_per_request"]
        )
    return out


# --------------------------------------------------------------------------------------------
# Flash crowd


def flash_crowd(
    port: int, counter: Counter, service_id: str, day: dt.date, starts: list[dt.datetime], n: int
) -> dict:
    query = urllib.parse.urlencode({"service": service_id, "people": 1})
    path = f"/appointments/{counter.id}/{day.isoformat()}"
    times = [f"{s.astimezone(TOKYO):%H:%M}" for s in starts]
    clients = [Client(port) for _ in range(n)]
    bodies: list[bytes] = [b""] * n

    def open_day_page(i: int) -> None:
        status, _, page = clients[i].request("GET", f"{path}?{query}")
        if status != 200:
            raise RuntimeError(f"GET {path} returned {status}")
        form = {
            "csrf_token": _csrf(page),
            "service": service_id,
            "people": "1",
            "time": times[i % len(times)],
            "name": f"ベンチ 予約者{i:03d}",
            "email": f"booker{i:03d}@example.jp",  # one holder each (3 upcoming per resident)
        }
        bodies[i] = urllib.parse.urlencode(form).encode()
        # gunicorn closes idle keep-alive connections after 2 s; connect again at the barrier.
        clients[i].close()

    began = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(open_day_page, range(n)))
    get_seconds = time.perf_counter() - began

    barrier = threading.Barrier(n + 1)
    outcomes: list[tuple[str, float]] = [("not run", 0.0)] * n

    def post(i: int) -> None:
        client = clients[i]
        try:
            client.connection.connect()
        except OSError as exc:
            outcomes[i] = (f"connect {type(exc).__name__}", 0.0)
            barrier.wait()
            return
        barrier.wait()
        started = time.perf_counter()
        try:
            status, _, _ = client.request("POST", path, bodies[i])
            outcomes[i] = (str(status), time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            outcomes[i] = (type(exc).__name__, time.perf_counter() - started)
        finally:
            client.close()

    threads = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    barrier.wait()
    released = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - released

    kinds = Tally(kind for kind, _ in outcomes)
    latencies = sorted(seconds for kind, seconds in outcomes if kind.isdigit())
    codes = {int(k): v for k, v in kinds.items() if k.isdigit()}
    return {
        "counter": counter.id,
        "capacity": counter.booking.capacity,
        "service": service_id,
        "day": day.isoformat(),
        "start_times": times,
        "bookers": n,
        "seats_at_those_times": counter.booking.capacity * len(times),
        "day_page_gets_seconds": round(get_seconds, 2),
        "booked_303": codes.get(303, 0),
        "taken_409": codes.get(409, 0),
        "other_4xx": {c: v for c, v in codes.items() if 400 <= c < 500 and c != 409},
        "5xx": sum(v for c, v in codes.items() if c >= 500),
        "other_status": {c: v for c, v in codes.items() if c < 400 and c != 303},
        "connection_errors": {k: v for k, v in kinds.items() if not k.isdigit()},
        "post_wall_seconds": round(wall, 3),
        "post_p50_ms": _percentile(latencies, 50) * 1000,
        "post_p95_ms": _percentile(latencies, 95) * 1000,
        "post_max_ms": (latencies[-1] * 1000) if latencies else float("nan"),
    }


def check_capacity(workdir: Path, crowd: dict, starts: list[dt.datetime]) -> dict:
    """Read the scratch database: slot rows over capacity (any counter), and the crowd's slots."""
    with sqlite3.connect(f"file:{db_path(workdir)}?mode=ro", uri=True) as raw:
        over = raw.execute(
            "SELECT COUNT(*) FROM appointment_slots WHERE booked > capacity"
        ).fetchone()[0]
        rows = raw.execute("SELECT COUNT(*) FROM appointment_slots").fetchone()[0]
    engine = make_engine(db_url(workdir))
    try:
        with Session(engine) as session:
            slots = session.execute(
                select(AppointmentSlot.starts_at, AppointmentSlot.booked, AppointmentSlot.capacity)
                .where(
                    AppointmentSlot.counter_id == crowd["counter"],
                    AppointmentSlot.starts_at.in_(starts),
                )
                .order_by(AppointmentSlot.starts_at)
            ).all()
            booked = session.scalar(
                select(func.count())
                .select_from(Appointment)
                .where(
                    Appointment.counter_id == crowd["counter"],
                    Appointment.starts_at.in_(starts),
                    Appointment.status == "booked",
                )
            )
    finally:
        engine.dispose()
    crowd_slots = [
        {
            "start": f"{s.starts_at.astimezone(TOKYO):%H:%M}",
            "booked": s.booked,
            "capacity": s.capacity,
        }
        for s in slots
    ]
    return {
        "slot_rows": rows,
        "slot_rows_over_capacity": over,
        "crowd_slots": crowd_slots,
        "crowd_appointments_in_db": booked,
        "crowd_visitors_in_slots": sum(s["booked"] for s in crowd_slots),
        "ok": over == 0
        and booked == crowd["booked_303"] == sum(s["booked"] for s in crowd_slots)
        and all(s["booked"] <= s["capacity"] for s in crowd_slots),
    }


# --------------------------------------------------------------------------------------------
# Report


def print_extra(prebooked: dict, pure: dict, crowd: dict, check: dict, by_name: dict) -> None:
    print()
    print(
        f"pre-booked: {prebooked['appointments']} appointments "
        f"({prebooked['share_of_seats_booked']:.0%} of {prebooked['seats_in_window']} seats in "
        f"{DAYS} days, {prebooked['seconds']:.1f} s via booking.book)"
    )
    print(
        f"pure computation, availability.calendar_days: {pure['counters']} counters x "
        f"{len(pure['months'])} months ({pure['days_per_repetition']} days): median "
        f"{pure['median_ms']:.1f} ms (min {pure['min_ms']:.1f}, {pure['repetitions']} reps) = "
        f"{pure['median_ms_per_calendar']:.2f} ms per calendar, "
        f"{pure['median_us_per_day']:.1f} µs per day; statuses {pure['day_statuses']}"
    )
    cal = by_name.get(CALENDAR_GET)
    if cal:
        share = pure["median_cpu_ms_per_calendar"] / cal["server_cpu_ms_per_request"]
        print(
            f"  one calendar's computation ({pure['median_cpu_ms_per_calendar']:.2f} ms CPU) is "
            f"{share:.0%} of the calendar GET's server CPU per request "
            f"({cal['server_cpu_ms_per_request']:.2f} ms)"
        )
    print()
    print(
        f"flash crowd: {crowd['bookers']} bookers, {crowd['counter']} (capacity "
        f"{crowd['capacity']}) {crowd['day']} at {', '.join(crowd['start_times'])} "
        f"({crowd['seats_at_those_times']} seats)"
    )
    print(
        f"  303 booked {crowd['booked_303']}   409 taken {crowd['taken_409']}   other 4xx "
        f"{crowd['other_4xx'] or 0}   5xx {crowd['5xx']}   other {crowd['other_status'] or 0}   "
        f"connection errors {crowd['connection_errors'] or 0}"
    )
    print(
        f"  POST latency p50 {crowd['post_p50_ms']:.0f} ms  p95 {crowd['post_p95_ms']:.0f} ms  "
        f"max {crowd['post_max_ms']:.0f} ms  (all answered in {crowd['post_wall_seconds']:.2f} s)"
    )
    slots = ", ".join(f"{s['start']} {s['booked']}/{s['capacity']}" for s in check["crowd_slots"])
    print(
        f"capacity check (scratch SQLite): {check['slot_rows_over_capacity']} of "
        f"{check['slot_rows']} appointment_slots rows have booked > capacity; crowd slots {slots}; "
        f"{check['crowd_appointments_in_db']} appointments in the database for "
        f"{crowd['booked_303']} answers 303 -> {'OK' if check['ok'] else 'FAILED'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per scenario (default 8)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--warmup", type=float, default=WARMUP_SECONDS, help="uncounted seconds")
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS)
    parser.add_argument("--counters", type=int, default=20, help="booking counters (default 20)")
    parser.add_argument("--repetitions", type=int, default=5, help="of the pure computation")
    parser.add_argument("--bookers", type=int, default=200, help="flash crowd size (default 200)")
    parser.add_argument("--crowd-counter", default="shimin-main")
    parser.add_argument("--crowd-starts", type=int, default=4, help="start times they spread over")
    args = parser.parse_args(argv)
    if min(args.seconds, args.concurrency, args.max_requests, args.repetitions) <= 0:
        parser.error("--seconds, --concurrency, --max-requests and --repetitions must be positive")
    if args.bookers < 1 or args.crowd_starts < 1 or args.counters < 1 or args.warmup < 0:
        parser.error("--bookers, --crowd-starts and --counters must be at least 1")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    machine = machine_info()
    started_at = dt.datetime.now(dt.UTC)
    now = started_at
    today = now.astimezone(TOKYO).date()
    months = months_covering(today, today + dt.timedelta(days=DAYS - 1))
    settings = {
        "workers": WORKERS,
        "threads": THREADS,
        "worker_class": "gthread",
        "access_log": "off (/dev/null)",
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "max_requests": args.max_requests,
        "portal_env": "development",
        "database": "SQLite (scratch file, WAL)",
        "portal_rate_limits": f"on, every limit (booking too) raised to {UNREACHABLE_LIMIT}",
        "gunicorn_control_socket": "off",
        "counters": args.counters,
        "horizon_days": DAYS,
        "today_tokyo": today.isoformat(),
        "bookers": args.bookers,
    }
    servers: list[Server] = []
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-appointments-") as tmp:
        workdir = Path(tmp)
        catalog_path = workdir / "procedure_catalog.yaml"
        write_catalog(catalog_path, args.counters)
        counters = [c for c in load_catalog(catalog_path).counters if c.booking is not None]
        by_id = {c.id: c for c in counters}
        if args.crowd_counter not in by_id:
            parser.error(f"--crowd-counter: {args.crowd_counter!r} takes no appointments")
        crowd_counter = by_id[args.crowd_counter]
        crowd_service = one_slot_service(crowd_counter)
        day, crowd_starts = crowd_day(crowd_counter, crowd_service.minutes, now, args.crowd_starts)
        print(
            f"{len(counters)} booking counters, {DAYS} days from {today} (Asia/Tokyo), months "
            f"{', '.join(m.strftime('%Y-%m') for m in months)}; scratch directory {tmp}",
            flush=True,
        )
        migrate(workdir, catalog_path)
        print("pre-booking through portal.appointments.booking.book ...", flush=True)
        prebooked = prebook(db_url(workdir), counters, now, (crowd_counter.id, day))
        print(f"  {prebooked['appointments']} appointments in {prebooked['seconds']:.1f} s")
        print("timing availability.calendar_days in-process ...", flush=True)
        pure = time_calendars(db_url(workdir), counters, months, now, args.repetitions)

        calendar_paths, day_paths = [], []
        for c in counters:
            query = {"service": c.booking.services[0].id, "people": 1}
            for month in months:
                q = urllib.parse.urlencode({**query, "month": month.strftime("%Y-%m")})
                calendar_paths.append(f"/appointments/{c.id}?{q}")
            for offset in range(DAYS):
                d = today + dt.timedelta(days=offset)
                if availability.slot_starts(c.booking, d):
                    q = urllib.parse.urlencode(query)
                    day_paths.append(f"/appointments/{c.id}/{d.isoformat()}?{q}")
        try:
            print("starting servers ...", flush=True)
            by_name = start_servers(workdir, catalog_path, servers)
            for server in servers:
                print(f"  {server.name:<7} http://{HOST}:{server.port}", flush=True)
            for scenario in scenario_list(by_name, calendar_paths, day_paths, args.concurrency):
                print(f"running {scenario.name!r} ...", flush=True)
                result = run_scenario(
                    scenario, args.seconds, args.concurrency, args.warmup, args.max_requests
                )
                results.append(result)
                if result["error_kinds"]:
                    server = next(s for s in servers if s.port == scenario.port)
                    tail = server.log_path.read_text(errors="replace").splitlines()[-20:]
                    print(f"  errors: {result['error_kinds']}; {server.name} log ends:")
                    print("\n".join(f"    {line}" for line in tail), flush=True)
            print(f"flash crowd: {args.bookers} bookers ...", flush=True)
            crowd = flash_crowd(
                by_name["portal"].port,
                crowd_counter,
                crowd_service.id,
                day,
                crowd_starts,
                args.bookers,
            )
            if crowd["5xx"] or crowd["connection_errors"]:
                tail = by_name["portal"].log_path.read_text(errors="replace").splitlines()[-20:]
                print("  portal log ends:\n" + "\n".join(f"    {line}" for line in tail))
        finally:
            for server in servers:
                _stop(server)
        check = check_capacity(workdir, crowd, crowd_starts)

    machine["load_average_at_end"] = list(os.getloadavg())
    by_name = {r["scenario"]: r for r in results}
    ratio = ratios(by_name)
    print_report(machine, settings, results, ratio)
    print_extra(prebooked, pure, crowd, check, by_name)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"appointments-{started_at:%Y%m%dT%H%M%SZ}.json"
    document = {
        "benchmark": "appointments",
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine,
        "settings": settings,
        "prebooked": prebooked,
        "pure_computation": pure,
        "scenarios": results,
        "ratios": ratio,
        "flash_crowd": crowd,
        "capacity_check": check,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    print(f"\nresults written to {path.relative_to(ROOT)}")
    errors = sum(r["errors"] for r in results)
    if errors:
        print(f"WARNING: {errors} error responses; the figures above are not comparable.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
