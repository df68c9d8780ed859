"""Baseline WSGI apps for bench/step_pages.py: what a request costs before the portal adds anything.

- `hello_app`: bare Flask returning "hello" (the cost of gunicorn + Werkzeug + Flask routing).
- `sqlite_app`: Flask plus one SQLAlchemy read per request (`SELECT ... WHERE id = ?`) on a SQLite
  file holding one table of 100 rows, returning a tiny HTML page.

The SQLite file is created (if needed) when this module is imported, in every gunicorn worker;
its path comes from $BENCH_SQLITE_PATH (the benchmark passes a file in its scratch directory).
Serve with e.g. `gunicorn -k gthread -w 2 --threads 4 --pythonpath bench baseline_apps:sqlite_app`.
"""

from __future__ import annotations

import gc
import html
import os
import random
import tempfile

from flask import Flask
from sqlalchemy import create_engine, event, text

ROWS = 100

hello_app = Flask("hello_app")


@hello_app.get("/")
def hello() -> str:
    return "hello"


def _make_engine(path: str):
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        # The same journal settings as the portal's SQLite engine (portal/db.py).
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

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


_sqlite_path = os.environ.get("BENCH_SQLITE_PATH") or os.path.join(
    tempfile.gettempdir(), "bench-baseline.sqlite3"
)
engine = _make_engine(_sqlite_path)
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


# As the portal's workers do once the application is loaded (portal/gunicorn_conf.py,
# `post_worker_init`): what was loaded is frozen for the garbage collector. gunicorn imports this
# module in each worker, so this is the same moment.
gc.freeze()
