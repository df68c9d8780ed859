"""Baseline WSGI apps for bench/step_pages.py: what a request costs before the portal adds anything.

- `hello_app`: bare Flask returning "hello" (the cost of gunicorn + Werkzeug + Flask routing).
- `sqlite_app`: Flask plus one SQLAlchemy read per request (`SELECT ... WHERE id = ?`) on a SQLite
  file holding one table of 100 rows, returning a tiny HTML page.
- `save_app`: the least a form step's save can do with the same libraries (decision 0098): the
  session's row read by the cookie's token digest, the form's CSRF token checked (HMAC), a
  rate-limit counter's upsert in its own write transaction, the draft's row read and updated in
  a `BEGIN IMMEDIATE` transaction, a redirect. No ORM, no hooks, no translations, no catalog:
  what the portal's step POST adds on top of the database work is the difference to it.

The SQLite file is created (if needed) when this module is imported, in every gunicorn worker;
its path comes from $BENCH_SQLITE_PATH (the benchmark passes a file in its scratch directory).
Serve with e.g. `gunicorn -k gthread -w 2 --threads 4 --pythonpath bench baseline_apps:sqlite_app`.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import html
import json
import os
import random
import secrets
import tempfile
import time

from flask import Flask, abort, redirect, request
from sqlalchemy import create_engine, event, text

ROWS = 100

hello_app = Flask("hello_app")


@hello_app.get("/")
def hello() -> str:
    return "hello"


def _sqlite_engine(path: str, own_transactions: bool = False, **pool: int):
    """An engine with the portal's journal settings (portal/db.py: WAL, synchronous NORMAL).
    `own_transactions`: also the portal's transaction handling, the driver's off so that a write
    can start with BEGIN IMMEDIATE, and its busy timeout."""
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": 30, "check_same_thread": False},
        **pool,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        if own_transactions:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        if own_transactions:
            cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _make_engine(path: str):
    engine = _sqlite_engine(path)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        )
        # Idempotent: both gunicorn workers import this module, possibly at the same moment.
        connection.execute(
            text("INSERT OR IGNORE INTO items (id, name) VALUES (:id, :name)"),
            [{"id": i, "name": f"項目 {i}"} for i in range(1, ROWS + 1)],
        )
    return engine


def _database_path(variable: str, default_name: str) -> str:
    """The file named by the environment variable (the benchmark's scratch directory), or one in
    the temporary directory."""
    return os.environ.get(variable) or os.path.join(tempfile.gettempdir(), default_name)


engine = _make_engine(_database_path("BENCH_SQLITE_PATH", "bench-baseline.sqlite3"))
sqlite_app = Flask("sqlite_app")

SELECT_ONE = text("SELECT id, name FROM items WHERE id = :id")


@sqlite_app.get("/")
def read_one() -> str:
    with engine.connect() as connection:
        row = connection.execute(SELECT_ONE, {"id": random.randint(1, ROWS)}).one()
    return (
        '<!doctype html><html lang="ja"><title>item</title>'
        f"<p>{row.id}: {html.escape(row.name)}</p></html>"
    )


# --------------------------------------------------------------------------------------------
# save_app: the least a step save can do (decision 0098)

SAVE_FIELDS = ("applicant_name", "applicant_kana", "phone", "relationship")
SAVE_FIELD_MAX = 100
# The same in every worker (a client may start on one and save on the other); not a secret.
_CSRF_KEY = hashlib.sha256(b"bench/baseline_apps.py save_app").digest()
SESSION_COOKIE = "save_session"


def _make_save_engine(path: str):
    """The portal's SQLite settings and pool size (portal/db.py, portal/config.py)."""
    engine = _sqlite_engine(path, own_transactions=True, pool_size=10)
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("BEGIN IMMEDIATE")
        driver.execute(
            "CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, data TEXT NOT NULL,"
            " expires_at REAL NOT NULL)"
        )
        driver.execute(
            "CREATE TABLE IF NOT EXISTS drafts (id INTEGER PRIMARY KEY, token_hash TEXT UNIQUE,"
            " status TEXT NOT NULL, answers TEXT NOT NULL, steps_done TEXT NOT NULL,"
            " updated_at REAL NOT NULL)"
        )
        driver.execute(
            "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL,"
            " expires_at REAL NOT NULL)"
        )
        driver.execute("COMMIT")
    return engine


save_engine = _make_save_engine(
    _database_path("BENCH_SAVE_SQLITE_PATH", "bench-baseline-save.sqlite3")
)
save_app = Flask("save_app")

NEW_SESSION = text("INSERT INTO sessions (token_hash, data, expires_at) VALUES (:t, :d, :e)")
NEW_DRAFT = text(
    "INSERT INTO drafts (token_hash, status, answers, steps_done, updated_at)"
    " VALUES (:t, 'draft', '{}', '[]', :u)"
)
READ_SESSION = text("SELECT data, expires_at FROM sessions WHERE token_hash = :t")
HIT = text(
    "INSERT INTO counters (key, count, expires_at) VALUES (:k, 1, :e) ON CONFLICT (key) DO UPDATE"
    " SET count = CASE WHEN expires_at <= :n THEN 1 ELSE count + 1 END,"
    " expires_at = CASE WHEN expires_at <= :n THEN :e ELSE expires_at END RETURNING count"
)
READ_DRAFT = text("SELECT id, answers, steps_done FROM drafts WHERE token_hash = :t")
SAVE_DRAFT = text(
    "UPDATE drafts SET answers = :a, steps_done = :s, updated_at = :u"
    " WHERE id = :id AND status = 'draft'"
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _csrf_token(raw: str) -> str:
    return hmac.new(_CSRF_KEY, raw.encode(), hashlib.sha256).hexdigest()


@save_app.get("/")
def save_ready() -> str:
    return "ready"


@save_app.post("/start")
def save_start():
    """A new session and its draft (not measured: each client starts once)."""
    token, draft, raw_csrf = (secrets.token_urlsafe(32) for _ in range(3))
    now = time.time()
    with save_engine.begin() as connection:
        data = json.dumps({"csrf": raw_csrf, "draft": draft})
        connection.execute(NEW_SESSION, {"t": _digest(token), "d": data, "e": now + 3600})
        connection.execute(NEW_DRAFT, {"t": _digest(draft), "u": now})
    response = save_app.response_class(
        f'<input type="hidden" name="csrf_token" value="{_csrf_token(raw_csrf)}">'
    )
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax")
    return response


@save_app.post("/step")
def save_step():
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        abort(401)
    with save_engine.connect() as connection:
        row = connection.execute(READ_SESSION, {"t": _digest(token)}).first()
        connection.rollback()
    now = time.time()
    if row is None or row.expires_at <= now:
        abort(401)
    data = json.loads(row.data)
    if not hmac.compare_digest(_csrf_token(data["csrf"]), request.form.get("csrf_token", "")):
        abort(400)
    # The counter's hit in a write transaction of its own, as the portal's rate limiter does.
    with save_engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("BEGIN IMMEDIATE")
        key = f"save/{request.remote_addr}"
        count = connection.execute(HIT, {"k": key, "e": now + 60, "n": now}).scalar_one()
        driver.execute("COMMIT")
    if count > 1_000_000:
        abort(429)
    values = {}
    for name in SAVE_FIELDS:
        value = request.form.get(name, "").strip()
        if not value or len(value) > SAVE_FIELD_MAX:
            abort(400)
        values[name] = value
    with save_engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("BEGIN IMMEDIATE")
        draft = connection.execute(READ_DRAFT, {"t": _digest(data["draft"])}).first()
        if draft is None:
            driver.execute("ROLLBACK")
            abort(404)
        answers = {**json.loads(draft.answers), **values}
        steps_done = json.loads(draft.steps_done)
        if "applicant" not in steps_done:
            steps_done.append("applicant")
        saved = connection.execute(
            SAVE_DRAFT,
            {
                "a": json.dumps(answers, ensure_ascii=False),
                "s": json.dumps(steps_done),
                "u": now,
                "id": draft.id,
            },
        ).rowcount
        driver.execute("COMMIT")
    if saved != 1:
        abort(409)
    return redirect("/next", 302)


# As the portal's workers do once the application is loaded (portal/gunicorn_conf.py,
# `post_worker_init`): what was loaded is frozen for the garbage collector. gunicorn imports this
# module in each worker, so this is the same moment.
gc.freeze()
