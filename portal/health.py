"""Liveness and readiness for the proxy, the container runtime and the city's monitoring.

- `GET /healthz` (liveness): the process answers. Touches nothing else, so a slow database never
  gets a healthy instance restarted.
- `GET /readyz` (readiness): the database answers a query (503 when it does not, so the proxy
  sends residents to another instance); where configured, Redis answers a PING, and when it
  does not the answer is "degraded" but still 200 (rate limits count per process meanwhile,
  decision 0053: a Redis outage must not take every instance out of rotation). The
  workers seen lately are listed (a worker touches its heartbeat every round); they do not
  decide readiness, since the web serves without them, but monitoring alerts on none.

Neither says anything about residents, takes a session or counts against a rate limit.
"""

from __future__ import annotations

import datetime as dt

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import select, text

from portal import clock
from portal.db import db
from portal.extensions import limiter
from portal.jobs.models import WorkerHeartbeat

bp = Blueprint("health", __name__)

REDIS_TIMEOUT_SECONDS = 1.0
# A worker counts as alive when seen within this many of its own intervals (and a minute).
WORKER_GRACE_ROUNDS = 3


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return _no_store(jsonify(status="alive"))


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = {"database": _database(), "redis": _redis(current_app.config.get("REDIS_URL"))}
    # Ready means the database answers. Redis holds only the rate-limit counters, and while it
    # is down every process counts in memory (decision 0053): "degraded", still 200, because
    # taking every instance out of rotation for it would take the whole portal down.
    ready = checks["database"] == "ok"
    degraded = checks["redis"] not in {"ok", "not configured"}
    status = "not ready" if not ready else "degraded" if degraded else "ready"
    body = {"status": status, "checks": checks}
    if checks["database"] == "ok":
        body["workers_alive"] = _workers_alive()
    return _no_store(jsonify(body)), 200 if ready else 503


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        db.session.rollback()
        current_app.logger.error("readiness: database unavailable (%s)", type(error).__name__)
        return f"failed ({type(error).__name__})"
    return "ok"


def _workers_alive() -> int:
    now = clock.now()
    rows = db.session.execute(
        select(WorkerHeartbeat.interval_seconds, WorkerHeartbeat.last_seen_at)
    ).all()
    db.session.rollback()
    return sum(
        1
        for interval, seen in rows
        if now - seen <= dt.timedelta(seconds=max(60.0, WORKER_GRACE_ROUNDS * interval))
    )


def _redis(url: str | None) -> str:
    if not url:
        return "not configured"
    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return f"failed ({type(error).__name__})"
    finally:
        client.close()
    return "ok"
