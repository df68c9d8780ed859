"""Benchmark: payment webhook handling under a burst of duplicated, reordered events.

    .venv/bin/python bench/webhooks.py [--concurrency C] [--events E] [--duplicates D] [--sqlite]

For each database (PostgreSQL always, SQLite too with --sqlite):

1. A scratch database: on PostgreSQL a new database created through psycopg (as .ci/run's `pg()`
   does) at $BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432), on SQLite a file
   in a temporary directory; migrated with `flask db upgrade`. It is always dropped at the end.
2. Seeded in-process with SQLAlchemy (portal.payments.models): P payments, status "created",
   600 JPY, provider "mock", provider_payment_id "pay_<n>", reference "PAY-B<n>", department
   shimin, one PaymentItem each (submission_id None).
3. An event stream: per payment a set of events (pending then paid; paid only; pending then
   failed; pending only), E x (1 - D) unique events in all (700 by default), plus E x D duplicates
   (300: same id, same body, same signature) of random events, each placed somewhere after its
   original, a third of them within the next C events (so they are in flight together). The
   unique events are shuffled first, so many "paid"/"failed" events are sent before their
   payment's "pending". Each body is signed like MockPayProvider expects (`Mock-Pay-Signature:
   t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`) with a known secret.
4. The portal under gunicorn (portal/gunicorn_conf.py, gthread 2 x 4, PORTAL_ENV=development,
   PORTAL_PAYMENT_WEBHOOK_SECRET set). Baseline first, with the same C clients: the step page GET
   of bench/step_pages.py (and, once per run, the hello baseline). Then the burst: C client
   threads (keep-alive http.client, connected before a barrier) POST all E events to
   /payments/webhooks/mock in stream order as fast as the server answers. Recorded: status codes
   and answers (applied / no_change / duplicate / other), latencies (p50/p95/p99/max), events/s,
   server CPU per event.
5. Verification on the database after the server stopped: every payment's final status is what
   its event set implies (paid if it has a paid event, otherwise failed if failed, otherwise
   pending); exactly one payment_transitions row to that status, transitions forming a valid
   chain; payment_events holds exactly the unique event ids; the number of "applied" answers equals
   the number of transitions; every unique event got exactly one non-duplicate answer. Reported:
   lost effects (payment not in its expected final state) and double effects (more than one
   transition to paid), both expected 0, with event ids, statuses and the server log's error
   lines when not.

Figures are printed with ratios against the baselines of the same run and written to
bench/results/webhooks-<UTC timestamp>.json; nothing is asserted. Helpers are imported from
bench/step_pages.py, private ones included.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/webhooks.py` puts only bench/ on the path
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import select  # noqa: E402
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
    Connection,
    Scenario,
    Server,
    _clean_env,
    _free_port,
    _group_cpu_seconds,
    _gunicorn_baseline_argv,
    _percentile,
    _spawn,
    _stop,
    _wait_ready,
    machine_info,
    run_scenario,
    start_draft,
)
from portal.db import make_engine  # noqa: E402
from portal.payments.models import (  # noqa: E402
    Payment,
    PaymentEvent,
    PaymentItem,
    PaymentTransition,
)

PG_BASE_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
WEBHOOK_SECRET = "bench-webhook-" + "w" * 50
WEBHOOK_PATH = "/payments/webhooks/mock"
SIGNATURE_HEADER = "Mock-Pay-Signature"
AMOUNT = 600
CURRENCY = "JPY"
DEPARTMENT = "shimin"
SEED = 20261123
# How a payment's events are drawn: (plan, its events in causal order, weight). The weights are
# shares of payments; the number of payments follows from the number of unique events wanted.
PLANS = (
    ("pending-paid", ("pending", "paid"), 0.65),
    ("paid-only", ("paid",), 0.10),
    ("pending-failed", ("pending", "failed"), 0.13),
    ("pending-only", ("pending",), 0.12),
)
METHOD = {"pending-paid": "konbini", "paid-only": "card", "pending-failed": "card"}
ANSWERS = ("applied", "no_change", "duplicate")
WEBHOOK_BURST = "portal: webhook POST (burst)"


# --------------------------------------------------------------------------------------------
# Scratch databases


def _pg_admin_url() -> str:
    return PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://") + "/postgres"


def pg_create(name: str) -> None:
    try:
        conn = psycopg.connect(_pg_admin_url(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL is not reachable at {PG_BASE_URL} (set BENCH_PG_URL): {error}"
        ) from None
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(name: str) -> None:
    with psycopg.connect(_pg_admin_url(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def portal_env(instance: Path, database_url: str) -> dict[str, str]:
    instance.mkdir(parents=True, exist_ok=True)
    return {
        **_clean_env(),
        "FLASK_APP": "portal",
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PORTAL_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PORTAL_WORKERS": str(WORKERS),
        "PORTAL_THREADS": str(THREADS),
        "PORTAL_ACCESS_LOG": "/dev/null",
        "PORTAL_RATELIMIT_SAVE": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_SUBMIT": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_RESUME": UNREACHABLE_LIMIT,
    }


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{result.stdout}{result.stderr}")


# --------------------------------------------------------------------------------------------
# Payments and events


@dataclass
class SeededPayment:
    n: int
    plan: str
    kinds: tuple[str, ...]
    public_id: str
    provider_payment_id: str
    reference: str

    @property
    def expected(self) -> str:
        if "paid" in self.kinds:
            return "paid"
        if "failed" in self.kinds:
            return "failed"
        return "pending"


@dataclass
class Event:
    id: str
    kind: str  # pending | paid | failed
    payment: SeededPayment
    body: bytes = b""
    signature: str = ""


def plan_payments(unique_events: int, rng: random.Random) -> list[SeededPayment]:
    """Payments with event sets by PLANS' weights, together exactly `unique_events` events."""
    payments: list[SeededPayment] = []
    total = 0
    plans = [(name, kinds) for name, kinds, _ in PLANS]
    weights = [w for *_, w in PLANS]
    while total < unique_events:
        name, kinds = rng.choices(plans, weights)[0]
        if total + len(kinds) > unique_events:  # the last one: a one-event plan fills the gap
            name, kinds = rng.choice([(n, k) for n, k in plans if len(k) == 1])
        n = len(payments) + 1
        payments.append(
            SeededPayment(
                n=n,
                plan=name,
                kinds=kinds,
                public_id=f"{rng.getrandbits(128):032x}",
                provider_payment_id=f"pay_{n}",
                reference=f"PAY-B{n:05d}",
            )
        )
        total += len(kinds)
    return payments


def seed(database_url: str, payments: list[SeededPayment]) -> float:
    engine = make_engine(database_url)
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    try:
        with Session(engine) as session, session.begin():
            session.add_all(
                Payment(
                    public_id=p.public_id,
                    reference=p.reference,
                    department=DEPARTMENT,
                    provider="mock",
                    provider_payment_id=p.provider_payment_id,
                    checkout_url=f"http://127.0.0.1/mock-pay/checkout/{p.provider_payment_id}",
                    amount=AMOUNT,
                    currency=CURRENCY,
                    status="created",
                    created_at=now,
                    updated_at=now,
                    items=[
                        PaymentItem(
                            submission_id=None,
                            description=f"ベンチマーク手数料 {p.reference}",
                            amount=AMOUNT,
                        )
                    ],
                )
                for p in payments
            )
    finally:
        engine.dispose()
    return time.perf_counter() - started


def build_stream(
    payments: list[SeededPayment], duplicates: int, concurrency: int, rng: random.Random
) -> tuple[list[Event], list[Event]]:
    """(unique events, the stream to send): the unique events shuffled, then `duplicates` copies
    of random ones, each inserted after its original (a third within the next `concurrency`)."""
    unique: list[Event] = []
    for p in payments:
        for kind in p.kinds:
            unique.append(Event(id=f"evt_{rng.getrandbits(96):024x}", kind=kind, payment=p))
    stream = unique[:]
    rng.shuffle(stream)
    for _ in range(duplicates):
        original = rng.choice(unique)
        position = stream.index(original)  # its first occurrence
        if rng.random() < 1 / 3:
            at = position + 1 + rng.randrange(concurrency)
        else:
            at = rng.randrange(position + 1, len(stream) + 1)
        stream.insert(min(at, len(stream)), original)
    return unique, stream


def sign(events: list[Event], now: int) -> None:
    """Each unique event's JSON body and signature header (duplicates share both)."""
    for event in events:
        p = event.payment
        payment = {
            "id": p.provider_payment_id,
            "status": event.kind,
            "amount": AMOUNT,
            "currency": CURRENCY,
            "reference": p.public_id,
            "method": METHOD.get(p.plan, "konbini"),
            "checkout_url": f"http://127.0.0.1/mock-pay/checkout/{p.provider_payment_id}",
            "payment_number": f"{p.n:04d}-{(p.n * 7919) % 10000:04d}"
            if event.kind == "pending"
            else None,
            "expires_at": (
                dt.datetime.fromtimestamp(now, dt.UTC) + dt.timedelta(days=3)
            ).isoformat(),
        }
        body = {"id": event.id, "type": f"payment.{event.kind}", "data": {"payment": payment}}
        event.body = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hmac.new(
            WEBHOOK_SECRET.encode(), f"{now}.".encode() + event.body, hashlib.sha256
        ).hexdigest()
        event.signature = f"t={now},v1={digest}"


def stream_shape(unique: list[Event], stream: list[Event], concurrency: int) -> dict:
    first_at: dict[str, int] = {}
    for i, event in enumerate(stream):
        first_at.setdefault(event.id, i)
    by_payment: dict[int, dict[str, int]] = defaultdict(dict)
    for event in unique:
        by_payment[event.payment.n][event.kind] = first_at[event.id]
    reordered = sum(
        1
        for kinds in by_payment.values()
        if "pending" in kinds
        and any(k in kinds and kinds[k] < kinds["pending"] for k in ("paid", "failed"))
    )
    with_both = sum(1 for kinds in by_payment.values() if "pending" in kinds and len(kinds) == 2)
    close = 0
    seen: dict[str, int] = {}
    for i, event in enumerate(stream):
        if event.id in seen and i - seen[event.id] <= concurrency:
            close += 1
        seen[event.id] = i
    sends = Counter(e.id for e in stream)
    return {
        "events_sent": len(stream),
        "unique_events": len(unique),
        "duplicates": len(stream) - len(unique),
        "events_sent_3_or_more_times": sum(1 for n in sends.values() if n >= 3),
        "duplicates_within_concurrency_of_previous_send": close,
        "unique_by_type": dict(Counter(e.kind for e in unique)),
        "payments_with_pending_and_final_event": with_both,
        "payments_whose_final_event_is_sent_before_pending": reordered,
    }


# --------------------------------------------------------------------------------------------
# The burst


@dataclass
class Answer:
    index: int
    event_id: str
    outcome: str  # applied | no_change | duplicate | HTTP <code> <text> | connection error
    status: int | None
    started: float
    seconds: float


def burst(port: int, pid: int, stream: list[Event], concurrency: int) -> tuple[dict, list[Answer]]:
    connections = [Connection(port) for _ in range(concurrency)]
    answers: list[Answer | None] = [None] * len(stream)
    counter = itertools.count()
    barrier = threading.Barrier(concurrency + 1)

    def client(connection: Connection) -> None:
        barrier.wait()
        perf = time.perf_counter
        while (i := next(counter)) < len(stream):
            event = stream[i]
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: event.signature}
            started = perf()
            status = None
            try:
                connection.request("POST", WEBHOOK_PATH, body=event.body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode(errors="replace").strip()
                status = response.status
                outcome = text if status == 200 and text in ANSWERS else f"HTTP {status} {text}"
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                connection.close()
                outcome = f"connection error {type(exc).__name__}"
            answers[i] = Answer(i, event.id, outcome[:120], status, started, perf() - started)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in connections]
    try:
        for connection in connections:
            connection.connect()
        connects_before = sum(c.connects for c in connections)
        for thread in threads:
            thread.start()
        server_cpu_before = _group_cpu_seconds(pid)
        client_cpu_before = time.process_time()
        barrier.wait()
        released = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - released
        server_cpu = _group_cpu_seconds(pid) - server_cpu_before
        client_cpu = time.process_time() - client_cpu_before
        reconnects = sum(c.connects for c in connections) - connects_before
    finally:
        for connection in connections:
            connection.close()

    done = [a for a in answers if a is not None]
    latencies = sorted(a.seconds for a in done)
    kinds = Counter(a.outcome for a in done)
    statuses = Counter(a.status for a in done if a.status is not None)
    last_end = max(a.started + a.seconds for a in done) - released
    result = {
        "scenario": WEBHOOK_BURST,
        "method": "POST",
        "path": WEBHOOK_PATH,
        "concurrency": concurrency,
        "requests": len(done),
        "seconds": round(last_end, 3),
        "req_per_s": len(done) / last_end if last_end > 0 else 0.0,
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p95_ms": _percentile(latencies, 95) * 1000,
        "p99_ms": _percentile(latencies, 99) * 1000,
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
        "wall_seconds": round(wall, 3),
        "answers": {
            "applied": kinds.get("applied", 0),
            "no_change": kinds.get("no_change", 0),
            "duplicate": kinds.get("duplicate", 0),
            "other": {k: v for k, v in kinds.items() if k not in ANSWERS},
        },
        "status_codes": {str(k): v for k, v in sorted(statuses.items())},
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
        "connection_errors": sum(v for k, v in kinds.items() if k.startswith("connection error")),
        "errors": sum(v for k, v in kinds.items() if k not in ANSWERS),
        "connections_opened_during_run": reconnects,
        "server_cpu_ms_per_request": server_cpu * 1000 / len(done) if done else float("nan"),
        "client_cpu_ms_per_request": client_cpu * 1000 / len(done) if done else float("nan"),
    }
    return result, done


def warm_up(port: int, n: int = 8) -> Counter:
    """A few POSTs with a wrong signature (400, nothing written): the route and the provider
    object are set up in the workers before the burst, without touching payment_events."""
    statuses: Counter = Counter()
    connection = Connection(port)
    try:
        for i in range(n):
            body = json.dumps({"id": f"evt_warmup_{i}", "type": "payment.paid"}).encode()
            connection.request(
                "POST",
                WEBHOOK_PATH,
                body=body,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: "t=0,v1=00"},
            )
            response = connection.getresponse()
            response.read()
            statuses[response.status] += 1
    finally:
        connection.close()
    return statuses


# --------------------------------------------------------------------------------------------
# Verification


def verify(
    database_url: str,
    payments: list[SeededPayment],
    unique: list[Event],
    answers: list[Answer],
) -> dict:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = {
                p.provider_payment_id: p
                for p in session.scalars(
                    select(Payment).where(
                        Payment.provider_payment_id.in_([p.provider_payment_id for p in payments])
                    )
                )
            }
            by_db_id = {p.id: pid for pid, p in rows.items()}
            transitions: dict[str, list[PaymentTransition]] = defaultdict(list)
            for t in session.scalars(select(PaymentTransition).order_by(PaymentTransition.id)):
                transitions[by_db_id.get(t.payment_id, f"db#{t.payment_id}")].append(t)
            events = list(session.scalars(select(PaymentEvent)))
    finally:
        engine.dispose()

    events_by_payment: dict[str, list[Event]] = defaultdict(list)
    for event in unique:
        events_by_payment[event.payment.provider_payment_id].append(event)
    answers_by_event: dict[str, list[Answer]] = defaultdict(list)
    for a in answers:
        answers_by_event[a.event_id].append(a)

    def describe(p: SeededPayment) -> dict:
        row = rows.get(p.provider_payment_id)
        return {
            "payment": p.provider_payment_id,
            "reference": p.reference,
            "plan": p.plan,
            "expected": p.expected,
            "status_in_db": row.status if row else None,
            "paid_at": row.paid_at.isoformat() if row and row.paid_at else None,
            "transitions": [
                f"{t.from_status}->{t.to_status} ({t.source})"
                for t in transitions.get(p.provider_payment_id, [])
            ],
            "events": [
                {
                    "id": e.id,
                    "type": e.kind,
                    "answers": [
                        f"#{a.index}: {a.outcome} in {a.seconds * 1000:.0f} ms"
                        for a in answers_by_event.get(e.id, [])
                    ],
                }
                for e in events_by_payment[p.provider_payment_id]
            ],
        }

    lost, double, wrong_transitions, bad_chain = [], [], [], []
    final_counts: Counter = Counter()
    for p in payments:
        row = rows.get(p.provider_payment_id)
        status = row.status if row else None
        final_counts[status] += 1
        own = transitions.get(p.provider_payment_id, [])
        to = Counter(t.to_status for t in own)
        if status != p.expected:
            lost.append(describe(p))
        if to["paid"] > 1:
            double.append(describe(p))
        if to[p.expected] != 1:
            wrong_transitions.append(describe(p))
        chain_ok = all(
            t.from_status == (own[i - 1].to_status if i else "created") for i, t in enumerate(own)
        ) and (not own or own[-1].to_status == status)
        if not chain_ok:
            bad_chain.append(describe(p))
    stray = sorted(k for k in transitions if k not in {p.provider_payment_id for p in payments})

    unique_ids = {e.id for e in unique}
    event_ids = Counter(e.event_id for e in events)
    missing_events = sorted(unique_ids - set(event_ids))
    extra_events = sorted(set(event_ids) - unique_ids)
    repeated_events = sorted(k for k, n in event_ids.items() if n > 1)

    # Per unique event: exactly one answer applied/no_change, every other send "duplicate".
    not_answered_once = []
    for event in unique:
        got = answers_by_event.get(event.id, [])
        firsts = [a for a in got if a.outcome in ("applied", "no_change")]
        if len(firsts) != 1 or any(a.outcome not in ANSWERS for a in got):
            not_answered_once.append(
                {
                    "id": event.id,
                    "type": event.kind,
                    "payment": event.payment.provider_payment_id,
                    "answers": [f"#{a.index}: {a.outcome}" for a in got],
                }
            )
    applied_answers = sum(1 for a in answers if a.outcome == "applied")
    transition_rows = sum(len(v) for v in transitions.values())
    pending_no_change = sum(
        1
        for e in unique
        if e.kind == "pending"
        and any(a.outcome == "no_change" for a in answers_by_event.get(e.id, []))
    )
    return {
        "payments": len(payments),
        "final_status_expected": dict(Counter(p.expected for p in payments)),
        "final_status_in_db": {str(k): v for k, v in final_counts.items()},
        "lost_effects": len(lost),
        "double_effects": len(double),
        "payments_without_exactly_one_transition_to_final": len(wrong_transitions),
        "payments_with_invalid_transition_chain": len(bad_chain),
        "transitions_of_other_payments": stray,
        "transition_rows": transition_rows,
        "transition_rows_by_target": dict(
            Counter(t.to_status for ts in transitions.values() for t in ts)
        ),
        "applied_answers": applied_answers,
        "applied_answers_equal_transition_rows": applied_answers == transition_rows,
        "payment_events_rows": len(events),
        "payment_events_unique_ids": len(event_ids),
        "payment_events_missing": missing_events,
        "payment_events_unexpected": extra_events,
        "payment_events_repeated": repeated_events,
        "payment_events_outcomes": dict(Counter(e.outcome for e in events)),
        "events_not_answered_exactly_once": not_answered_once,
        "pending_events_answered_no_change": pending_no_change,
        "details": {
            "lost": lost,
            "double": double,
            "without_exactly_one_transition_to_final": wrong_transitions,
            "invalid_chain": bad_chain,
        },
        "ok": not lost
        and not double
        and not wrong_transitions
        and not bad_chain
        and not stray
        and not missing_events
        and not extra_events
        and not repeated_events
        and not not_answered_once
        and applied_answers == transition_rows,
    }


def server_errors(log_path: Path, limit: int = 80) -> list[str]:
    """Lines of the server's log that report a problem (tracebacks with their context)."""
    lines = log_path.read_text(errors="replace").splitlines()
    keep: list[str] = []
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback"):
            in_traceback = True
        flagged = in_traceback or any(w in line for w in ("ERROR", "Error", "CRITICAL", "WARNING"))
        if flagged and "webhook refused (signature)" not in line:  # the warm-up's own 400s
            keep.append(line)
        if in_traceback and line and not line.startswith((" ", "Traceback")):
            in_traceback = False
    return keep[-limit:]


# --------------------------------------------------------------------------------------------
# One database


def run_database(
    kind: str,
    workdir: Path,
    args: argparse.Namespace,
    servers: list[Server],
    cleanups: list,
) -> dict:
    rng = random.Random(SEED)
    unique_count = args.events - round(args.events * args.duplicates)
    payments = plan_payments(unique_count, rng)
    unique, stream = build_stream(payments, args.events - unique_count, args.concurrency, rng)
    shape = stream_shape(unique, stream, args.concurrency)

    if kind == "postgresql":
        name = f"portal_bench_webhooks_{os.getpid()}_{int(time.time())}"
        pg_create(name)
        cleanups.append(lambda: pg_drop(name))
        database_url = f"{PG_BASE_URL}/{name}"
        shown_url = database_url
    else:
        database_url = f"sqlite:///{workdir / 'portal.sqlite3'}"
        shown_url = "sqlite:///<scratch>/portal.sqlite3"
    env = portal_env(workdir / "portal-instance", database_url)
    print(f"[{kind}] migrating {shown_url} ...", flush=True)
    migrate(env)
    seed_seconds = seed(database_url, payments)
    print(
        f"[{kind}] seeded {len(payments)} payments in {seed_seconds:.2f} s; stream of "
        f"{len(stream)} events ({len(unique)} unique)",
        flush=True,
    )

    port = _free_port()
    argv = [
        str(BIN / "gunicorn"), "--config", "python:portal.gunicorn_conf", NO_CONTROL_SOCKET,
        "portal:create_app()",
    ]  # fmt: skip
    portal = _spawn(
        f"portal-{kind}",
        argv,
        {**env, "PORTAL_BIND": f"{HOST}:{port}"},
        workdir / "portal.log",
        port,
        "/healthz",
    )
    servers.append(portal)
    try:
        _wait_ready(portal)

        def prepare_step(client) -> None:
            start_draft(client)
            return None

        print(f"[{kind}] baseline {STEP_GET!r} ...", flush=True)
        step = run_scenario(
            Scenario(STEP_GET, port, portal.process.pid, "GET", STEP, prepare_step),
            args.seconds,
            args.concurrency,
            args.warmup,
            MAX_REQUESTS,
        )
        warm = warm_up(port)
        sign(unique, int(time.time()))
        print(f"[{kind}] burst: {len(stream)} webhooks, {args.concurrency} clients ...", flush=True)
        result, answers = burst(port, portal.process.pid, stream, args.concurrency)
        time.sleep(0.2)  # let the log catch up
    finally:
        _stop(portal)
        servers.remove(portal)
    errors = server_errors(portal.log_path)
    print(f"[{kind}] verifying the database ...", flush=True)
    check = verify(database_url, payments, unique, answers)
    result["server_log_problem_lines"] = errors
    result["warm_up_statuses"] = {str(k): v for k, v in warm.items()}
    return {
        "database": kind,
        "seeded_payments": len(payments),
        "seed_seconds": round(seed_seconds, 3),
        "plans": dict(Counter(p.plan for p in payments)),
        "stream": shape,
        "step_get": step,
        "burst": result,
        "verification": check,
        "non_200_answers": [
            {"index": a.index, "event_id": a.event_id, "outcome": a.outcome}
            for a in answers
            if a.outcome not in ANSWERS
        ][:100],
    }


# --------------------------------------------------------------------------------------------
# Report


def ratios(run: dict, hello: dict) -> dict[str, float]:
    def div(a: float, b: float) -> float:
        return a / b if b else float("nan")

    burst_, step = run["burst"], run["step_get"]
    out = {}
    for base, label in ((step, "step page GET"), (hello, "hello GET")):
        out[f"webhook ÷ {label}: req/s"] = div(burst_["req_per_s"], base["req_per_s"])
        for key in ("p50_ms", "p95_ms", "p99_ms"):
            out[f"webhook ÷ {label}: {key.removesuffix('_ms')}"] = div(burst_[key], base[key])
        out[f"webhook ÷ {label}: server CPU/req"] = div(
            burst_["server_cpu_ms_per_request"], base["server_cpu_ms_per_request"]
        )
    return out


def print_run(run: dict, ratio: dict) -> None:
    b, s, v, shape = run["burst"], run["step_get"], run["verification"], run["stream"]
    print()
    print(f"=== {run['database']}")
    print(
        f"stream: {shape['events_sent']} events, {shape['unique_events']} unique "
        f"({shape['unique_by_type']}), {shape['duplicates']} duplicates "
        f"({shape['duplicates_within_concurrency_of_previous_send']} within "
        f"{b['concurrency']} sends of the previous copy); {run['seeded_payments']} payments "
        f"{run['plans']}; {shape['payments_whose_final_event_is_sent_before_pending']} of "
        f"{shape['payments_with_pending_and_final_event']} payments with pending + final event "
        "get the final one sent first"
    )
    header = f"{'scenario':<32} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
    header += f"{'p99 ms':>8} {'max ms':>8} {'errors':>7} {'srv CPU ms':>10}"
    print(header)
    print("-" * len(header))
    for r in (s, b):
        print(
            f"{r['scenario']:<32} {r['requests']:>9} {r['req_per_s']:>9.1f} {r['p50_ms']:>8.2f} "
            f"{r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['max_ms']:>8.2f} {r['errors']:>7} "
            f"{r['server_cpu_ms_per_request']:>10.2f}"
        )
    a = b["answers"]
    print(
        f"answers: applied {a['applied']}  no_change {a['no_change']}  duplicate {a['duplicate']}"
        f"  other {a['other'] or 0}  5xx {b['5xx']}  connection errors {b['connection_errors']}"
        f"  (status codes {b['status_codes']}; burst wall {b['wall_seconds']:.2f} s)"
    )
    print(
        f"check: lost effects {v['lost_effects']}  double effects {v['double_effects']}  "
        f"final status {v['final_status_in_db']} (expected {v['final_status_expected']})"
    )
    print(
        f"       transitions {v['transition_rows']} {v['transition_rows_by_target']} = applied "
        f"answers {v['applied_answers']}: {v['applied_answers_equal_transition_rows']}; "
        f"payments without exactly one transition to final "
        f"{v['payments_without_exactly_one_transition_to_final']}, invalid chains "
        f"{v['payments_with_invalid_transition_chain']}"
    )
    print(
        f"       payment_events {v['payment_events_rows']} rows, {v['payment_events_unique_ids']} "
        f"ids, missing {len(v['payment_events_missing'])}, unexpected "
        f"{len(v['payment_events_unexpected'])}, outcomes {v['payment_events_outcomes']}; "
        f"events not answered exactly once {len(v['events_not_answered_exactly_once'])}; "
        f"pending events that arrived after the final one (no_change) "
        f"{v['pending_events_answered_no_change']}  -> {'OK' if v['ok'] else 'FAILED'}"
    )
    for label in ("lost", "double", "without_exactly_one_transition_to_final", "invalid_chain"):
        for item in v["details"][label][:10]:
            print(f"  {label}: {json.dumps(item, ensure_ascii=False)}")
    for item in v["events_not_answered_exactly_once"][:10]:
        print(f"  event not answered exactly once: {json.dumps(item, ensure_ascii=False)}")
    if run["non_200_answers"]:
        print(f"  non-200 answers (first 10): {run['non_200_answers'][:10]}")
    if b["server_log_problem_lines"]:
        print("  server log problem lines:")
        print("\n".join(f"    {line}" for line in b["server_log_problem_lines"][-40:]))
    print("ratios:")
    for key, value in ratio.items():
        print(f"  {key:<40} {value:8.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=16, help="client threads (default 16)")
    parser.add_argument("--events", type=int, default=1000, help="events sent (default 1000)")
    parser.add_argument(
        "--duplicates", type=float, default=0.3, help="share of duplicates (default 0.3)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per baseline (default 5)")
    parser.add_argument("--warmup", type=float, default=WARMUP_SECONDS, help="baseline warm-up")
    parser.add_argument("--sqlite", action="store_true", help="run on SQLite too")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.events < 2 or not 0 <= args.duplicates < 1:
        parser.error("--concurrency >= 1, --events >= 2, 0 <= --duplicates < 1")
    if args.seconds <= 0 or args.warmup < 0:
        parser.error("--seconds must be positive")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    machine = machine_info()
    started_at = dt.datetime.now(dt.UTC)
    settings = {
        "workers": WORKERS,
        "threads": THREADS,
        "worker_class": "gthread",
        "access_log": "off (/dev/null)",
        "concurrency": args.concurrency,
        "events": args.events,
        "duplicate_share": args.duplicates,
        "baseline_seconds": args.seconds,
        "baseline_warmup": args.warmup,
        "portal_env": "development",
        "databases": ["postgresql"] + (["sqlite"] if args.sqlite else []),
        "postgresql": PG_BASE_URL,
        "seed": SEED,
        "gunicorn_control_socket": "off",
    }
    servers: list[Server] = []
    cleanups: list = []
    runs: list[dict] = []
    hello_result: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        workdir = Path(tmp)
        try:
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
            _wait_ready(hello)
            print(f"baseline {HELLO!r} ...", flush=True)
            hello_result = run_scenario(
                Scenario(HELLO, hello_port, hello.process.pid, "GET", "/"),
                args.seconds,
                args.concurrency,
                args.warmup,
                MAX_REQUESTS,
            )
            _stop(hello)
            servers.remove(hello)
            for kind in settings["databases"]:
                kind_dir = workdir / kind
                kind_dir.mkdir()
                runs.append(run_database(kind, kind_dir, args, servers, cleanups))
        finally:
            for server in servers:
                _stop(server)
            for cleanup in cleanups:
                with contextlib.suppress(Exception):
                    cleanup()

    machine["load_average_at_end"] = list(os.getloadavg())
    print()
    print(
        f"machine: nproc={machine['nproc']}  python {machine['python']}  {machine['cpu_model']}  "
        f"load avg {machine['load_average_at_start'][0]:.2f} at start, "
        f"{machine['load_average_at_end'][0]:.2f} at end"
    )
    print(
        f"settings: gunicorn gthread {WORKERS} x {THREADS}, access log off, PORTAL_ENV=development;"
        f" {args.concurrency} clients (keep-alive); baselines {args.seconds:g} s after "
        f"{args.warmup:g} s warm-up"
    )
    h = hello_result
    print(
        f"{h['scenario']:<32} {h['requests']:>9} {h['req_per_s']:>9.1f} {h['p50_ms']:>8.2f} "
        f"{h['p95_ms']:>8.2f} {h['p99_ms']:>8.2f} errors {h['errors']}  server CPU "
        f"{h['server_cpu_ms_per_request']:.2f} ms/req"
    )
    for run in runs:
        run["ratios"] = ratios(run, hello_result)
        print_run(run, run["ratios"])

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"webhooks-{started_at:%Y%m%dT%H%M%SZ}.json"
    document = {
        "benchmark": "webhooks",
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine,
        "settings": settings,
        "hello_get": hello_result,
        "runs": runs,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    print(f"\nresults written to {path.relative_to(ROOT)}")
    for run in runs:
        if not run["verification"]["ok"] or run["burst"]["errors"]:
            print(
                f"WARNING [{run['database']}]: {run['burst']['errors']} non-200 answers, "
                f"verification {'OK' if run['verification']['ok'] else 'FAILED'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
