"""Health, readiness and request ids (issue 24): the liveness and readiness endpoints answer what
the proxy and monitoring need (the database and Redis checked, workers seen lately counted), every
response carries a request id (the proxy's when well formed, never a raw value), and every log
line, the worker's lines about a job the request enqueued included, carries it. (The access
line's id: tests/e2e/test_logs.py.)"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from portal import clock, create_app
from portal.db import db
from portal.jobs import queue
from portal.jobs.models import Job, WorkerHeartbeat
from portal.jobs.worker import heartbeat
from portal.observability import JsonFormatter, RequestIdFilter

HEX32 = re.compile(r"[0-9a-f]{32}")
NOW = dt.datetime(2026, 4, 1, 0, 0, tzinfo=dt.UTC)


def make_app(tmp_path, **overrides):
    settings = {
        "SECRET_KEY": "t" * 64,
        "INSTANCE_PATH": str(tmp_path),
        "PUBLIC_URL": "http://localhost",
        **overrides,
    }
    return create_app("test", settings)


def test_liveness_answers_without_a_session_or_a_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readiness_checks_the_database_and_counts_the_workers_seen_lately(app, client):
    clock.set_override(NOW)
    with app.app_context():
        db.session.add_all(
            [
                WorkerHeartbeat(
                    name="web1:100",
                    interval_seconds=5,
                    started_at=NOW - dt.timedelta(hours=1),
                    last_seen_at=NOW - dt.timedelta(seconds=20),
                ),
                WorkerHeartbeat(  # stopped answering ten minutes ago
                    name="web2:200",
                    interval_seconds=5,
                    started_at=NOW - dt.timedelta(hours=1),
                    last_seen_at=NOW - dt.timedelta(minutes=10),
                ),
            ]
        )
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "not configured"},
        "workers_alive": 1,
    }
    assert "Set-Cookie" not in response.headers


def test_readiness_fails_when_the_database_does_not_answer(tmp_path):
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'no.sqlite3'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "failed (OperationalError)"
    assert "workers_alive" not in body


def test_readiness_pings_redis_when_it_is_configured(app, tmp_path, database_url):
    """The machine's Redis (127.0.0.1:6379, as CI has it) answers; a closed port does not."""
    ready = make_app(
        tmp_path / "a", DATABASE_URL=database_url, REDIS_URL="redis://127.0.0.1:6379/15"
    )
    response = ready.test_client().get("/readyz")
    assert response.get_json()["checks"]["redis"] == "ok"
    assert response.status_code == 200

    closed = make_app(tmp_path / "b", DATABASE_URL=database_url, REDIS_URL="redis://127.0.0.1:1/0")
    response = closed.test_client().get("/readyz")
    # Degraded, not unready: the rate limits count per process meanwhile (decision 0053), and a
    # Redis outage must not take every instance out of rotation.
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["checks"]["redis"] == "failed (ConnectionError)"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (None, False),
        ("0f1e2d3c4b5a69788796a5b4c3d2e1f0", True),  # nginx's $request_id
        ("lb-7.request_42", True),
        ("short", False),
        ("x" * 65, False),
        ("abc def ghi jkl", False),
        ("abcdefgh;Set-Cookie: a=b", False),
        ("abcdefgh\tinjected\x00", False),
        ("a" * 100_000, False),
        ("日本語のリクエストID", False),
    ],
)
def test_every_response_has_a_request_id_and_never_echoes_a_malformed_one(client, sent, kept):
    headers = {"X-Request-ID": sent} if sent is not None else {}
    response = client.get("/healthz", headers=headers)
    request_id = response.headers["X-Request-ID"]
    if kept:
        assert request_id == sent
    else:
        assert HEX32.fullmatch(request_id)


def test_log_lines_written_during_a_request_carry_its_id(app, caplog):
    @app.get("/test-only/log-something")
    def log_something():
        logging.getLogger("tests.view").warning("something happened")
        return "ok"

    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    response = app.test_client().get(
        "/test-only/log-something", headers={"X-Request-ID": "proxy-id-0001"}
    )
    assert response.headers["X-Request-ID"] == "proxy-id-0001"
    lines = [r for r in caplog.records if r.name == "tests.view"]
    assert [r.request_id for r in lines] == ["proxy-id-0001"]
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "outside", (), None)
    RequestIdFilter().filter(outside)
    assert outside.request_id == "-"


def test_a_job_carries_the_id_of_the_request_that_enqueued_it_into_the_worker_log(app, caplog):
    class Nothing(BaseModel):
        pass

    def run(_payload, _context):
        logging.getLogger("tests.job").info("the job ran")
        return "done"

    kind = queue.JobKind("observed", Nothing, run)
    with app.test_request_context("/", headers={"X-Request-ID": "proxy-id-0002"}):
        app.preprocess_request()
        queue.enqueue(db.session, kind, Nothing(), now=NOW)
        db.session.commit()
    with app.app_context():
        assert db.session.scalar(select(Job.request_id)) == "proxy-id-0002"

    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    with app.app_context():
        ran = queue.run_due(db.session_factory, {"observed": kind}, now=NOW)
    assert [r.outcome for r in ran] == ["done"]
    job_lines = [r for r in caplog.records if r.name == "tests.job"]
    assert [r.request_id for r in job_lines] == ["proxy-id-0002"]


def test_json_lines_hold_time_level_logger_message_and_request_id():
    record = logging.LogRecord(
        "portal.x", logging.WARNING, __file__, 1, "hello %s", ("世界",), None
    )
    record.request_id = "abc-12345678"
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "portal.x"
    assert line["message"] == "hello 世界" and line["request_id"] == "abc-12345678"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])


def test_an_unknown_log_format_is_refused(tmp_path, monkeypatch):
    from portal.config import ConfigError

    monkeypatch.setenv("PORTAL_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="PORTAL_LOG_FORMAT"):
        make_app(tmp_path)


def test_the_worker_says_it_is_alive_each_round_and_leaves_when_it_stops(app):
    clock.set_override(NOW)
    with app.app_context():
        heartbeat("host:1", 5.0, NOW)
        clock.set_override(NOW + dt.timedelta(seconds=5))
        heartbeat("host:1", 5.0, NOW)
        row = db.session.get(WorkerHeartbeat, "host:1")
        assert (row.started_at, row.last_seen_at) == (NOW, NOW + dt.timedelta(seconds=5))
        db.session.rollback()
        heartbeat("host:1", 5.0, NOW, leaving=True)
        assert db.session.get(WorkerHeartbeat, "host:1") is None


def test_a_named_instance_says_which_it_is(tmp_path):
    named = make_app(tmp_path, INSTANCE_NAME="web2").test_client()
    assert named.get("/healthz").headers["X-Portal-Instance"] == "web2"
    unnamed = make_app(tmp_path).test_client()
    assert "X-Portal-Instance" not in unnamed.get("/healthz").headers


def test_behind_a_trusted_proxy_its_scheme_is_the_requests(tmp_path):
    from flask import request

    behind = make_app(tmp_path, TRUSTED_PROXIES=1).test_client()
    with behind:
        behind.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert request.scheme == "https"
    direct = make_app(tmp_path).test_client()
    with direct:
        direct.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert request.scheme == "http"
