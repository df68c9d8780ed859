"""Rate-limit counters every process and instance shares (issue 24), on SQLite and PostgreSQL:
two portal apps on one database (two instances, or two gunicorn workers) together allow the
limit once, not once each; a window that has passed starts again; concurrent hits are all
counted; the worker's duty deletes expired counters. With Redis configured the same holds
through Redis."""

from __future__ import annotations

import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import func, select

from portal.db import db
from portal.rate_limits import DatabaseStorage, RateLimitCounter, purge_expired
from tests.concurrency import run_together
from tests.conftest import make_app
from tests.web.test_login_limits import StubProvider, fail

pytestmark = pytest.mark.db


def instance(database_url, tmp_path, name: str, **overrides):
    overrides = {"RATELIMIT_LOGIN_FAILURES": "4 per 15 minutes", **overrides}
    app = make_app(database_url, tmp_path / name, **overrides)
    app.extensions["identity_provider"] = StubProvider()
    return app


def test_two_instances_share_the_login_lockout(app, database_url, tmp_path):
    assert app.config["RATELIMIT_STORAGE_URI"] == "portal+db://"
    first = instance(database_url, tmp_path, "one").test_client()
    second = instance(database_url, tmp_path, "two").test_client()
    statuses = [fail(client).status_code for client in (first, second) * 3]
    # Four failures are allowed in all, whichever instance answered them; then both lock out.
    assert statuses == [400, 400, 400, 400, 429, 429]


def test_concurrent_hits_are_all_counted_and_windows_restart(app):
    limit = parse("1000 per 2 second")
    with app.app_context():
        limiter = FixedWindowRateLimiter(DatabaseStorage())

        def hit(_n: int) -> None:
            with app.app_context():
                for _ in range(10):
                    assert limiter.hit(limit, "client-a")

        assert run_together(4, hit) == []
        assert limiter.get_window_stats(limit, "client-a").remaining == 1000 - 40
        assert limiter.get_window_stats(limit, "client-b").remaining == 1000
        time.sleep(2.1)
        assert limiter.get_window_stats(limit, "client-a").remaining == 1000
        assert limiter.hit(limit, "client-a")
        assert limiter.get_window_stats(limit, "client-a").remaining == 999


def test_long_keys_are_kept_apart_and_expired_counters_are_purged(app):
    with app.app_context():
        storage = DatabaseStorage()
        long_a, long_b = "k" * 300 + "a", "k" * 300 + "b"
        assert storage.incr(long_a, 60) == 1 and storage.incr(long_b, 60) == 1
        assert storage.incr(long_a, 60) == 2 and storage.get(long_b) == 1
        storage.incr("short-lived", 0.01)
        time.sleep(0.05)
        assert purge_expired(db.engine) == 1
        assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 2
        db.session.rollback()
        storage.clear(long_a)
        assert storage.get(long_a) == 0 and storage.check() is True
        assert storage.reset() == 1


def test_with_redis_configured_the_counters_live_in_redis(database_url, tmp_path):
    redis_url = "redis://127.0.0.1:6379/14"
    storage_from_string(redis_url).reset()
    apps = [instance(database_url, tmp_path, n, REDIS_URL=redis_url) for n in ("r1", "r2")]
    assert apps[0].config["RATELIMIT_STORAGE_URI"] == redis_url
    statuses = [fail(a.test_client()).status_code for a in apps * 3]
    assert statuses == [400, 400, 400, 400, 429, 429]
    with apps[0].app_context():
        assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0
    storage_from_string(redis_url).reset()
