"""Benchmark: the staff inbox with 200 000 submissions on PostgreSQL, next to bare-app baselines.

    .venv/bin/python bench/inbox.py [--rows N] [--seconds S] [--concurrency C] [--plain-index]

1. A scratch PostgreSQL database (`bench_inbox_<pid>` at $BENCH_PG_URL, default
   postgresql+psycopg://postgres@127.0.0.1:5432), migrated with `flask db upgrade`, always dropped
   at the end (also on failure or Ctrl-C).
2. Seeded with N submitted applications (200 000 by default) plus --drafts drafts (10 000), loaded
   with COPY. Each row is what `submit` leaves: the snapshot of its procedure and workflow as
   `start_draft` stores it (the same JSON per procedure), the catalog's example answers in stored
   form (made once per procedure through `portal.demo.example_answers`) with the applicant (the
   first person field) renamed from 40 x 40 common names and kana, `applicant_search` from
   `portal.submissions.service.normalize_search`, a unique reference, hashes and times. Spread:
   子育て支援課 45 %, 市民課 30 %, 介護保険課 20 %, 危機管理課 5 %, evenly over each department's
   online procedures; submission times uniform over the last three years; a case younger than
   its processing days is in an open state (submitted 40 %, in_review 35 %, waiting_resident 10 %,
   resident_answered 5 %, approval_requested 10 %), an older one mostly decided (completed 88 %,
   rejected 4 %, withdrawn 3 %, approved 2 %, waiting_resident 1 %, in_review 1 %, submitted and
   approval_requested 0.5 % each: those still open are overdue). Rows go in in time order, as a
   live table grows. With --plain-index, `ix_submissions_inbox` is made again as migration 0017
   made it, (department, submitted_at, id) without the INCLUDE (status, procedure_id,
   applicant_search) of 0018, to compare. Then VACUUM ANALYZE. The index's definition goes into
   the results. C staff members (clerk of kosodate) with known TOTP secrets.
3. Servers, all gunicorn gthread 2 workers x 4 threads, access log off, as bench/step_pages.py:
   hello and flask+sqlite (bench/baseline_apps.py) and the portal (portal/gunicorn_conf.py,
   PORTAL_ENV=development, the scratch database, login rate limits raised out of reach). Each
   client signs in once (password, then the TOTP code) before the runs; its session is reused.
   $PGOPTIONS (e.g. "-c max_parallel_workers_per_gather=0") reaches every connection, the
   portal's and this process's, and is recorded.
4. Scenarios, C keep-alive clients each for S seconds after a warm-up (bench/step_pages.py's load
   generator): the two baselines; the inbox of 子育て支援課 (≈90 000 cases) first page; filtered
   by procedure + status; page 50 through its keyset cursor; overdue only; the search POST by
   surname in hiragana (やまだ, ≈1 in 40 cases match) and by full name in hiragana (いのうえ ちひろ,
   ≈1 in 1 600: the LIKE has to read most of the department). Each is checked once first (status
   200, rows on the page).
5. In-process, without HTTP: the two queries of each scenario (rows and counts, through
   `portal.staff.inbox`) timed 30 times each, and their EXPLAIN (ANALYZE, BUFFERS) plans.

Printed: requests, req/s, p50/p95/p99 per scenario, the p95 of each inbox scenario next to the
baselines' (and the 200 ms aim of issue 12), ratios, and the query times; everything goes to
bench/results/inbox-<UTC timestamp>.json. Nothing is asserted (bench/ is not collected by
pytest, and CI does not run it).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/inbox.py` puts only bench/ on the path
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import pyotp  # noqa: E402

import portal.models  # noqa: E402, F401 - every table, so the ORM resolves foreign keys
from bench.step_pages import (  # noqa: E402
    BIN,
    HELLO,
    HOST,
    MAX_REQUESTS,
    NO_CONTROL_SOCKET,
    RESULTS_DIR,
    SECRET_KEY,
    SQLITE,
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
    run_scenario,
)

PG_BASE_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
SEED = 20260520
PASSWORD = "bench-inbox-password"
DEPARTMENT = "kosodate"
SHARES = {"kosodate": 0.45, "shimin": 0.30, "kaigo": 0.20, "kikikanri": 0.05}
YEARS = 3
PAGE = 50  # the page reached through the keyset cursor
QUERY_REPEATS = 30
AIM_MS = 200  # issue 12: p95 per page under 200 ms
FILTER_PROCEDURE = "jidoteate-nintei"
FILTER_STATUS = "in_review"
SURNAME_TYPED = "やまだ"
FULL_NAME_TYPED = "いのうえ ちひろ"

SURNAMES = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"),
    ("石井", "イシイ"), ("小川", "オガワ"), ("前田", "マエダ"), ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"), ("近藤", "コンドウ"),
    ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト"),
]  # fmt: skip
GIVEN_NAMES = [
    ("陽翔", "ハルト"), ("蓮", "レン"), ("湊", "ミナト"), ("大翔", "ヒロト"),
    ("悠真", "ユウマ"), ("樹", "イツキ"), ("朝陽", "アサヒ"), ("蒼", "アオイ"),
    ("陽向", "ヒナタ"), ("律", "リツ"), ("結翔", "ユイト"), ("颯真", "ソウマ"),
    ("太郎", "タロウ"), ("健太", "ケンタ"), ("誠", "マコト"), ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"), ("拓也", "タクヤ"), ("直樹", "ナオキ"), ("浩二", "コウジ"),
    ("陽葵", "ヒマリ"), ("凛", "リン"), ("詩", "ウタ"), ("陽菜", "ヒナ"),
    ("結菜", "ユイナ"), ("芽依", "メイ"), ("葵", "アオイ"), ("紬", "ツムギ"),
    ("澪", "ミオ"), ("さくら", "サクラ"), ("花子", "ハナコ"), ("美咲", "ミサキ"),
    ("陽子", "ヨウコ"), ("恵子", "ケイコ"), ("由美", "ユミ"), ("愛", "アイ"),
    ("優子", "ユウコ"), ("真由美", "マユミ"), ("千尋", "チヒロ"), ("彩", "アヤ"),
]  # fmt: skip
YOUNG = [("submitted", 40), ("in_review", 35), ("waiting_resident", 10),
         ("resident_answered", 5), ("approval_requested", 10)]  # fmt: skip
OLD = [("completed", 880), ("rejected", 40), ("withdrawn", 30), ("approved", 20),
       ("waiting_resident", 10), ("in_review", 10), ("submitted", 5),
       ("approval_requested", 5)]  # fmt: skip
COLUMNS = (
    "public_id", "procedure_id", "department", "prefilled", "snapshot", "answers", "steps_done",
    "status", "payment_status", "appointment_status", "reference", "draft_token_hash",
    "status_token_hash", "created_at", "updated_at", "submitted_at", "applicant_search",
)  # fmt: skip

FIRST = "portal: inbox first page"
FILTERED = "portal: inbox procedure+status"
DEEP = f"portal: inbox page {PAGE} (cursor)"
OVERDUE = "portal: inbox overdue only"
SEARCH_SURNAME = "portal: search POST surname"
SEARCH_FULL = "portal: search POST full name"
INBOX_SCENARIOS = (FIRST, FILTERED, DEEP, OVERDUE, SEARCH_SURNAME, SEARCH_FULL)
ROW_LINK = re.compile(rb'href="/staff/submissions/[^"/]+"')


# --------------------------------------------------------------------------------------------
# The scratch database


def _pg_admin_url() -> str:
    return PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://") + "/postgres"


def _pg_url(name: str) -> str:
    return PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://") + f"/{name}"


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
        "PORTAL_WORKERS": str(WORKERS),
        "PORTAL_THREADS": str(THREADS),
        "PORTAL_ACCESS_LOG": "/dev/null",
        # Every client signs in from 127.0.0.1 within seconds.
        "PORTAL_RATELIMIT_LOGIN": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_LOGIN_FAILURES": UNREACHABLE_LIMIT,
    }


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{result.stdout}{result.stderr}")


@contextlib.contextmanager
def environment(env: dict[str, str]):
    """The portal's environment in this process too (its instance holds the My Number key)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def make_app(env: dict[str, str]):
    from portal import create_app

    with environment(env):
        return create_app("development")


def templates(app) -> dict[str, dict]:
    """Per online procedure of the benchmark's departments: its snapshot JSON, its example
    answers in stored form and the name of the person field that holds the applicant."""
    from portal import clock
    from portal.db import db
    from portal.demo import example_answers
    from portal.submissions import service

    catalog = app.extensions["catalog"]
    out: dict[str, dict] = {}
    with app.app_context():
        for procedure in catalog.procedures:
            if procedure.department not in SHARES or procedure.channel == "counter":
                continue
            if procedure.ended is not None:
                continue
            draft, _token = service.start_draft(db.session, catalog, procedure, clock.now())
            try:
                answers = example_answers(app, db.session, draft, procedure, clock.today_local())
            except Exception as error:  # noqa: BLE001 - a procedure we cannot fill is left out
                print(f"  skipped {procedure.id}: {type(error).__name__}", flush=True)
                db.session.rollback()
                continue
            person = next(
                (
                    f.name
                    for f in procedure.fields()
                    if f.type == "person" and isinstance(answers.get(f.name), dict)
                ),
                None,
            )
            out[procedure.id] = {
                "department": procedure.department,
                "processing_days": procedure.processing_days,
                "snapshot": json.dumps(draft.snapshot, ensure_ascii=False),
                "answers": answers,
                "person": person,
                "steps_done": json.dumps([s.id for s in procedure.steps]),
            }
            db.session.rollback()
    return out


def _reference(n: int) -> str:
    """A unique ISM-XXXX-XXXX for row n (a bijection of n, so no two rows share one)."""
    from portal.security import REFERENCE_ALPHABET

    value = (n * 0x9E3779B1 + 12345) % 32**8
    chars = ""
    for _ in range(8):
        value, digit = divmod(value, 32)
        chars += REFERENCE_ALPHABET[digit]
    return f"ISM-{chars[:4]}-{chars[4:]}"


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    names, weights = zip(*choices, strict=True)
    return rng.choices(names, weights)[0]


def seed(database: str, forms: dict[str, dict], rows: int, drafts: int, now: dt.datetime) -> dict:
    """COPY the submissions in; returns counts by department and status."""
    from portal.submissions.service import normalize_search

    rng = random.Random(SEED)
    by_department: dict[str, list[str]] = {}
    for procedure_id, form in forms.items():
        by_department.setdefault(form["department"], []).append(procedure_id)
    departments = [d for d in SHARES if d in by_department]
    weights = [SHARES[d] for d in departments]
    span = dt.timedelta(days=365 * YEARS).total_seconds()
    summary: dict[str, dict[str, int]] = {}
    started = time.perf_counter()
    # Rows go in in time order, as a live table grows (the physical order follows the index).
    times = sorted(now - dt.timedelta(seconds=rng.random() * span) for _ in range(rows + drafts))
    is_drafts = [True] * drafts + [False] * rows
    rng.shuffle(is_drafts)
    submitted_number = itertools.count()
    with psycopg.connect(_pg_url(database)) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY submissions ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for n, (submitted_at, is_draft) in enumerate(zip(times, is_drafts, strict=True)):
                department = rng.choices(departments, weights)[0]
                procedure_id = rng.choice(by_department[department])
                form = forms[procedure_id]
                answers = form["answers"]
                search = None
                if form["person"]:
                    (surname, surname_kana), (given, given_kana) = (
                        rng.choice(SURNAMES),
                        rng.choice(GIVEN_NAMES),
                    )
                    person = {
                        **answers[form["person"]],
                        "name": f"{surname} {given}",
                        "kana": f"{surname_kana} {given_kana}",
                        "birth_date": f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-"
                        f"{rng.randint(1, 28):02d}",
                    }
                    answers = {**answers, form["person"]: person}
                    search = normalize_search(f"{person['name']} {person['kana']}")
                if is_draft:
                    status, reference, submitted, search = "draft", None, None, None
                else:
                    age = (now - submitted_at).days
                    young = age < form["processing_days"]
                    status = _weighted(rng, YOUNG if young else OLD)
                    reference, submitted = _reference(next(submitted_number)), submitted_at
                summary.setdefault(department, {}).setdefault(status, 0)
                summary[department][status] += 1
                copy.write_row(
                    (
                        uuid.UUID(int=rng.getrandbits(128)).hex,
                        procedure_id,
                        department,
                        "{}",
                        form["snapshot"],
                        json.dumps(answers, ensure_ascii=False),
                        form["steps_done"],
                        status,
                        "none",
                        "none",
                        reference,
                        hashlib.sha256(f"draft-{n}".encode()).hexdigest(),
                        None if is_draft else hashlib.sha256(f"status-{n}".encode()).hexdigest(),
                        submitted_at,
                        submitted_at,
                        submitted,
                        search,
                    )
                )
                if n and n % 50_000 == 0:
                    print(f"  {n} rows ({time.perf_counter() - started:.0f} s)", flush=True)
        conn.commit()
    load_seconds = time.perf_counter() - started
    with psycopg.connect(_pg_url(database), autocommit=True) as conn:
        analyze_started = time.perf_counter()
        conn.execute("VACUUM ANALYZE submissions")
        analyze_seconds = time.perf_counter() - analyze_started
        size = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('submissions'))"
        ).fetchone()[0]
    return {
        "rows": rows,
        "drafts": drafts,
        "copy_seconds": round(load_seconds, 1),
        "vacuum_analyze_seconds": round(analyze_seconds, 1),
        "table_size": size,
        "by_department": summary,
    }


def plain_inbox_index(database: str) -> float:
    """`ix_submissions_inbox` as migration 0017 made it (no INCLUDE), for comparison."""
    started = time.perf_counter()
    with psycopg.connect(_pg_url(database), autocommit=True) as conn:
        conn.execute("DROP INDEX ix_submissions_inbox")
        conn.execute(
            "CREATE INDEX ix_submissions_inbox ON submissions (department, submitted_at, id)"
        )
        conn.execute("VACUUM ANALYZE submissions")
    return round(time.perf_counter() - started, 1)


def inbox_index(database: str) -> str:
    with psycopg.connect(_pg_url(database)) as conn:
        row = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_submissions_inbox'"
        ).fetchone()
    return row[0] if row else "(missing)"


def create_members(app, count: int) -> list[tuple[str, str]]:
    """`count` clerks of the benchmark's department; (login id, TOTP secret) each."""
    from portal import clock
    from portal.db import db
    from portal.staff import service

    members = []
    with app.app_context():
        for n in range(count):
            login_id = f"bench-clerk-{n + 1:02d}"
            _member, secret = service.create_member(
                db.session,
                login_id=login_id,
                display_name=f"ベンチ 職員{n + 1}",
                password=PASSWORD,
                roles=[("clerk", DEPARTMENT)],
                key=app.extensions["submission_services"].my_number_key,
                now=clock.now(),
                totp_secret=pyotp.random_base32(),
            )
            members.append((login_id, secret))
        db.session.commit()
    return members


# --------------------------------------------------------------------------------------------
# Scenarios


def sign_in(port: int, login_id: str, secret: str) -> dict[str, str]:
    """Password, then the code, as a browser would; the session cookies."""
    client = Client(port)
    try:
        _, _, body = client.request("GET", "/staff/login")
        form = {"login_id": login_id, "password": PASSWORD, "csrf_token": _csrf(body)}
        status, headers, _ = client.request("POST", "/staff/login", _form(form))
        if status != 302 or not headers.get("Location", "").endswith("/staff/login/code"):
            raise RuntimeError(f"sign-in of {login_id}: password step answered {status}")
        _, _, body = client.request("GET", "/staff/login/code")
        form = {"code": pyotp.TOTP(secret).now(), "csrf_token": _csrf(body)}
        status, headers, _ = client.request("POST", "/staff/login/code", _form(form))
        if status != 302 or not headers.get("Location", "").endswith("/staff/"):
            raise RuntimeError(f"sign-in of {login_id}: code step answered {status}")
        return dict(client.cookies)
    finally:
        client.close()


def _form(data: dict[str, str]) -> bytes:
    return urllib.parse.urlencode(data).encode()


def _query(**params: str) -> str:
    return "/staff/inbox?" + urllib.parse.urlencode(params)


def deep_cursor(app) -> str:
    """The cursor of page PAGE of the department's inbox (its (PAGE-1)*50th row)."""
    from sqlalchemy import select

    from portal.db import db
    from portal.staff.exports import encode_cursor
    from portal.submissions.models import Submission

    with app.app_context():
        row = db.session.execute(
            select(Submission.submitted_at, Submission.id)
            .where(Submission.department == DEPARTMENT, Submission.submitted_at.is_not(None))
            .order_by(Submission.submitted_at.desc(), Submission.id.desc())
            .offset((PAGE - 1) * 50 - 1)
            .limit(1)
        ).one()
        return encode_cursor(row)


def scenarios(servers: dict[str, Server], jars: list[dict], cursor: str) -> list[Scenario]:
    hello, sqlite, portal = servers["hello"], servers["sqlite"], servers["portal"]
    next_jar = iter(jars * 100)

    def signed_in(client: Client) -> None:
        client.cookies.update(next(next_jar))
        return None

    def searching(term: str):
        def prepare(client: Client) -> bytes:
            signed_in(client)
            _, _, body = client.request("GET", _query(department=DEPARTMENT))
            data = {"q": term, "department": DEPARTMENT, "csrf_token": _csrf(body)}
            return _form(data)

        return prepare

    def get(name: str, path: str) -> Scenario:
        ok = lambda s: s == 200  # noqa: E731
        return Scenario(name, portal.port, portal.process.pid, "GET", path, signed_in, ok, "200")

    def post(name: str, term: str) -> Scenario:
        ok = lambda s: s == 200  # noqa: E731
        return Scenario(
            name,
            portal.port,
            portal.process.pid,
            "POST",
            "/staff/inbox/search",
            searching(term),
            ok,
            "200",
        )

    return [
        Scenario(HELLO, hello.port, hello.process.pid, "GET", "/"),
        Scenario(SQLITE, sqlite.port, sqlite.process.pid, "GET", "/"),
        get(FIRST, _query(department=DEPARTMENT)),
        get(
            FILTERED,
            _query(department=DEPARTMENT, procedure=FILTER_PROCEDURE, status=FILTER_STATUS),
        ),
        get(DEEP, _query(department=DEPARTMENT, cursor=cursor)),
        get(OVERDUE, _query(department=DEPARTMENT, overdue="1")),
        post(SEARCH_SURNAME, SURNAME_TYPED),
        post(SEARCH_FULL, FULL_NAME_TYPED),
    ]


def check_once(scenario: Scenario) -> dict:
    """One request before the timing: it must answer 200 with rows (not an error page)."""
    client = Client(scenario.port)
    try:
        body = scenario.prepare(client)
        status, _, data = client.request(scenario.method, scenario.path, body)
    finally:
        client.close()
    rows = len(ROW_LINK.findall(data))
    return {"status": status, "rows_on_page": rows, "bytes": len(data)}


# --------------------------------------------------------------------------------------------
# The queries alone


def query_timings(app, cursor: str) -> dict[str, dict]:
    """Each scenario's two queries (rows, counts) in-process: median and p95 of
    QUERY_REPEATS runs, and their EXPLAIN (ANALYZE, BUFFERS) plans."""
    from sqlalchemy import event

    from portal import clock
    from portal.db import db
    from portal.staff import inbox
    from portal.staff.exports import decode_cursor

    catalog = app.extensions["catalog"]
    cases = {
        FIRST: ({}, None, None),
        FILTERED: ({"procedure": FILTER_PROCEDURE, "status": FILTER_STATUS}, None, None),
        DEEP: ({}, decode_cursor(cursor), None),
        OVERDUE: ({"overdue": "1"}, None, None),
        SEARCH_SURNAME: ({}, None, SURNAME_TYPED),
        SEARCH_FULL: ({}, None, FULL_NAME_TYPED),
    }
    out = {}
    with app.app_context():
        scope = inbox.scope_of(catalog, {DEPARTMENT}, DEPARTMENT)
        engine = db.session.get_bind()
        for name, (raw, after, term) in cases.items():
            filters, errors = inbox.read_filters(scope, raw)
            assert filters is not None, errors
            timings: dict[str, list[float]] = {"rows": [], "counts": []}
            statements: dict[str, tuple] = {}
            for repeat in range(QUERY_REPEATS + 1):
                now = clock.now()
                for part in ("rows", "counts"):
                    captured: list[tuple] = []

                    def capture(_conn, _cursor, statement, parameters, *_args, _c=captured):
                        _c.append((statement, parameters))

                    event.listen(engine, "before_cursor_execute", capture)
                    started = time.perf_counter()
                    if part == "rows":
                        inbox.page(catalog, scope, filters, now, after, term)
                    else:
                        inbox.counts(catalog, scope, filters, now)
                    elapsed = time.perf_counter() - started
                    event.remove(engine, "before_cursor_execute", capture)
                    db.session.rollback()
                    if repeat:  # the first run warms the caches
                        timings[part].append(elapsed * 1000)
                    statements[part] = captured[-1]
            plans = {}
            for part, (statement, parameters) in statements.items():
                connection = db.session.connection()
                plan = connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                ).scalars()
                plans[part] = list(plan)
                db.session.rollback()
            out[name] = {
                part: {
                    "median_ms": statistics.median(values),
                    "p95_ms": _percentile(sorted(values), 95),
                }
                for part, values in timings.items()
            }
            out[name]["plans"] = plans
    return out


# --------------------------------------------------------------------------------------------
# Report


def ratios(by_name: dict[str, dict]) -> dict[str, float]:
    out = {}
    for name in INBOX_SCENARIOS:
        for base, short in ((HELLO, "hello"), (SQLITE, "sqlite-read")):
            p, b = by_name[name], by_name[base]
            key = name.removeprefix("portal: ")
            out[f"{key} p95 ÷ {short} p95"] = p["p95_ms"] / b["p95_ms"] if b["p95_ms"] else 0.0
    return out


def submitted_in(data: dict, department: str) -> int:
    return sum(n for s, n in data["by_department"][department].items() if s != "draft")


def print_report(document: dict) -> None:
    machine, settings, results = document["machine"], document["settings"], document["scenarios"]
    print()
    print(
        f"machine: nproc={machine['nproc']}  python {machine['python']}  {machine['cpu_model']}"
        f"  load avg {machine['load_average_at_start'][0]:.2f} at start, "
        f"{machine['load_average_at_end'][0]:.2f} at end"
    )
    busy = max(machine["load_average_at_start"][0], machine["load_average_at_end"][0])
    if busy > machine["nproc"] / 2:
        print(
            f"WARNING: 1-minute load average reached {busy:.2f} on {machine['nproc']} CPUs: "
            "other work shared the machine, so the figures are noisy."
        )
    data = document["data"]
    print(
        f"data: {data['rows']} submitted + {data['drafts']} drafts on PostgreSQL "
        f"{document['postgresql_version']}, COPY {data['copy_seconds']} s, VACUUM ANALYZE "
        f"{data['vacuum_analyze_seconds']} s, table {data['table_size']}; "
        f"{DEPARTMENT}: {submitted_in(data, DEPARTMENT)} submitted cases"
    )
    print(f"index: {settings['inbox_index']}; PGOPTIONS={settings['pgoptions'] or '(none)'}")
    print(
        f"settings: gunicorn gthread {WORKERS} x {THREADS}, access log off, PORTAL_ENV=development;"
        f" {settings['concurrency']} clients (keep-alive, each signed in as its own clerk), "
        f"{settings['seconds']:g} s per scenario after {settings['warmup']:g} s warm-up"
    )
    print()
    header = f"{'scenario':<34} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
    header += f"{'p99 ms':>8} {'errors':>7} {'rows':>5}"
    print(header)
    print("-" * len(header))
    for r in results:
        rows = document["checks"].get(r["scenario"], {}).get("rows_on_page", "")
        print(
            f"{r['scenario']:<34} {r['requests']:>9} {r['req_per_s']:>8.1f} {r['p50_ms']:>8.2f} "
            f"{r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7} {rows:>5}"
        )
    by_name = {r["scenario"]: r for r in results}
    print()
    print(
        f"p95 per page (aim < {AIM_MS} ms) next to the baselines: hello "
        f"{by_name[HELLO]['p95_ms']:.2f} ms, flask+sqlite {by_name[SQLITE]['p95_ms']:.2f} ms"
    )
    for name in INBOX_SCENARIOS:
        p95 = by_name[name]["p95_ms"]
        verdict = "under" if p95 < AIM_MS else "OVER"
        print(f"  {name:<34} {p95:8.2f} ms  ({verdict} {AIM_MS} ms)")
    print()
    print("the queries alone, in-process (median / p95 of 30, ms):")
    for name, timing in document["queries"].items():
        rows, counts = timing["rows"], timing["counts"]
        plan = timing["plans"]["rows"][0].strip()
        print(
            f"  {name:<34} rows {rows['median_ms']:7.2f} / {rows['p95_ms']:7.2f}   counts "
            f"{counts['median_ms']:7.2f} / {counts['p95_ms']:7.2f}   rows plan: {plan[:60]}"
        )
    print()
    for r in results:
        if r["error_kinds"]:
            print(f"errors in {r['scenario']!r} (expected {r['expect']}): {r['error_kinds']}")
    print("ratios (portal ÷ baseline):")
    for key, value in document["ratios"].items():
        print(f"  {key:<48} {value:8.2f}")


def run_http(workdir, env, members, cursor, args, servers, results, checks) -> None:
    """Start the servers (appended to `servers` for the caller to stop), sign the clerks in,
    run every scenario."""
    baseline_env = {**_clean_env(), "BENCH_SQLITE_PATH": str(workdir / "base.sqlite3")}
    by_name: dict[str, Server] = {}
    for name, wsgi in (("hello", "hello_app"), ("sqlite", "sqlite_app")):
        port = _free_port()
        argv = _gunicorn_baseline_argv(port, f"baseline_apps:{wsgi}")
        server = _spawn(name, argv, baseline_env, workdir / f"{name}.log", port, "/")
        servers.append(server)
        by_name[name] = server
    port = _free_port()
    argv = [
        str(BIN / "gunicorn"), "--config", "python:portal.gunicorn_conf", NO_CONTROL_SOCKET,
        "portal:create_app()",
    ]  # fmt: skip
    portal_env_ = {**env, "PORTAL_BIND": f"{HOST}:{port}"}
    server = _spawn("portal", argv, portal_env_, workdir / "portal.log", port, "/healthz")
    servers.append(server)
    by_name["portal"] = server
    for server in by_name.values():
        _wait_ready(server)
    print(f"signing in {len(members)} clerks ...", flush=True)
    jars = [sign_in(by_name["portal"].port, *member) for member in members]
    for scenario in scenarios(by_name, jars, cursor):
        if scenario.name in INBOX_SCENARIOS:
            checks[scenario.name] = check_once(scenario)
            print(f"  check {scenario.name!r}: {checks[scenario.name]}", flush=True)
        print(f"running {scenario.name!r} ...", flush=True)
        result = run_scenario(
            scenario, args.seconds, args.concurrency, args.warmup, args.max_requests
        )
        results.append(result)
        if result["error_kinds"]:
            log = next(s for s in servers if s.port == scenario.port).log_path
            tail = log.read_text(errors="replace").splitlines()[-20:]
            print(f"  errors: {result['error_kinds']}; log ends:", flush=True)
            print("\n".join(f"    {line}" for line in tail), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="submitted cases (200000)")
    parser.add_argument("--drafts", type=int, default=10_000, help="drafts besides (10000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario (default 10)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--warmup", type=float, default=WARMUP_SECONDS, help="uncounted seconds")
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS)
    parser.add_argument(
        "--plain-index",
        action="store_true",
        help="make ix_submissions_inbox again without its INCLUDE columns (as before migration "
        "0018), to compare",
    )
    args = parser.parse_args(argv)
    if args.rows < PAGE * 50 * 3 or args.drafts < 0:
        parser.error(f"--rows must be at least {PAGE * 50 * 3}")
    if args.seconds <= 0 or args.concurrency < 1 or args.warmup < 0 or args.max_requests < 1:
        parser.error("--seconds and --max-requests must be positive, --concurrency at least 1")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    machine = machine_info()
    started_at = dt.datetime.now(dt.UTC)
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
        "postgresql": PG_BASE_URL,
        "department": DEPARTMENT,
        "seed": SEED,
        "gunicorn_control_socket": "off",
        # libpq settings for every connection (the portal's and this process's), e.g.
        # "-c max_parallel_workers_per_gather=0"
        "pgoptions": os.environ.get("PGOPTIONS", ""),
        "plain_index": args.plain_index,
    }
    database = f"bench_inbox_{os.getpid()}"
    servers: list[Server] = []
    results: list[dict] = []
    checks: dict[str, dict] = {}
    app = None
    with tempfile.TemporaryDirectory(prefix="bench-inbox-") as tmp:
        workdir = Path(tmp)
        try:
            pg_create(database)
            env = portal_env(workdir / "portal-instance", f"{PG_BASE_URL}/{database}")
            print(f"migrating {PG_BASE_URL}/{database} ...", flush=True)
            migrate(env)
            app = make_app(env)
            print("answers per procedure (catalog examples) ...", flush=True)
            forms = templates(app)
            now = dt.datetime.now(dt.UTC)
            print(f"loading {args.rows} + {args.drafts} submissions with COPY ...", flush=True)
            data = seed(database, forms, args.rows, args.drafts, now)
            print(
                f"  loaded in {data['copy_seconds']} s, VACUUM ANALYZE "
                f"{data['vacuum_analyze_seconds']} s, table {data['table_size']}",
                flush=True,
            )
            if args.plain_index:
                data["plain_index_seconds"] = plain_inbox_index(database)
                print(f"  plain inbox index in {data['plain_index_seconds']} s", flush=True)
            settings["inbox_index"] = inbox_index(database)
            print(f"  {settings['inbox_index']}", flush=True)
            members = create_members(app, args.concurrency)
            cursor = deep_cursor(app)
            with psycopg.connect(_pg_url(database)) as conn:
                pg_version = conn.execute("SHOW server_version").fetchone()[0]
            try:
                run_http(workdir, env, members, cursor, args, servers, results, checks)
            finally:
                for server in servers:
                    _stop(server)
            print("timing the queries in-process ...", flush=True)
            queries = query_timings(app, cursor)
        finally:
            if app is not None:
                app.extensions["portal_db"].engine.dispose()
            pg_drop(database)
            print(f"dropped the scratch database {database}", flush=True)

    machine["load_average_at_end"] = list(os.getloadavg())
    document = {
        "benchmark": "inbox",
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine,
        "settings": settings,
        "postgresql_version": pg_version,
        "data": data,
        "deep_page": PAGE,
        "checks": checks,
        "scenarios": results,
        "ratios": ratios({r["scenario"]: r for r in results}),
        "queries": queries,
    }
    print_report(document)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"inbox-{started_at:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nresults written to {path.relative_to(ROOT)}")
    if sum(r["errors"] for r in results):
        print("WARNING: error responses; the figures above are not comparable.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
