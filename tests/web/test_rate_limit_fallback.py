"""Redis down (decision 0053): the rate limits fall back to counting in each process's memory,
logged; nothing a resident does fails because of it, and the limits still hold (per process)."""

from __future__ import annotations

import logging

import pytest
from flask import redirect, request

from portal import create_app
from portal.identity.providers import Identity
from tests.conftest import csrf_token

CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused


class StubProvider:
    name = "stub"

    def begin_login(self, return_url: str):
        return redirect(return_url)

    def finish_login(self) -> Identity:
        assert request.args.get("code")
        return Identity("jpki", "sub-1", "大原 太郎", "", "", "")


@pytest.fixture
def client(database_url, clean_db, tmp_path):
    app = create_app(
        "test",
        {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path),
            "REDIS_URL": CLOSED_REDIS,
            "RATELIMIT_STORAGE_URI": CLOSED_REDIS,
            "RATELIMIT_LOGIN": "3 per hour",
        },
    )
    app.extensions["identity_provider"] = StubProvider()
    return app.test_client()


def test_with_redis_down_the_login_limit_counts_in_memory_and_nothing_fails(client, caplog):
    assert client.application.config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] == 0.5
    token = csrf_token(client.get("/login").text)
    with caplog.at_level(logging.WARNING):
        answers = [client.post("/login", data={"csrf_token": token}).status_code for _ in range(5)]
    # Three allowed, then refused: the limit holds in this process while Redis is away.
    assert answers == [302, 302, 302, 429, 429], answers
    assert any("falling back to in-memory storage" in r.getMessage() for r in caplog.records)
    # The rest of the portal serves; readiness says "degraded" but keeps the instance in rotation.
    assert client.get("/").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "degraded"
