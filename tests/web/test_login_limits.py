"""Login attempts are limited per client address: starting logins (RATELIMIT_LOGIN) and failed
login callbacks (RATELIMIT_LOGIN_FAILURES, a lockout that successful logins do not count towards).
A limited resident gets a Japanese page that says to wait about 15 minutes."""

from __future__ import annotations

import pytest
from flask import redirect, request
from limits import parse

from portal import create_app
from portal.extensions import limiter
from portal.identity.providers import Identity, ProviderError
from tests.conftest import check_page, csrf_token

LIMITED = "ログインの試行回数が上限に達しました"


class StubProvider:
    """Logs in at once: ?fail=1 on the callback fails, anything else succeeds."""

    name = "stub"

    def begin_login(self, return_url: str):
        return redirect(return_url)

    def finish_login(self) -> Identity:
        if request.args.get("fail"):
            raise ProviderError("invalid")
        return Identity("jpki", "sub-1", "大原 太郎", "", "", "")


@pytest.fixture
def make_client(database_url, clean_db, tmp_path):
    def factory(**limits):
        app = create_app(
            "test", {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path), **limits}
        )
        app.extensions["identity_provider"] = StubProvider()
        return app.test_client()

    return factory


def fail(client, **kwargs):
    return client.get("/login/callback?fail=1", **kwargs)


def start(client):
    token = csrf_token(client.get("/login").text)
    return client.post("/login", data={"csrf_token": token})


def assert_limited_page(response) -> None:
    soup = check_page(response, 429)
    assert soup.h1.get_text() == LIMITED
    assert "しばらく（15分ほど）たってからもう一度お試しください" in soup.main.get_text()


def test_failed_logins_lock_out_the_address(make_client):
    client = make_client(RATELIMIT_LOGIN_FAILURES="3 per 15 minutes")
    assert [fail(client).status_code for _ in range(3)] == [400, 400, 400]
    assert_limited_page(fail(client))
    # Locked out: neither a new login nor a successful callback gets through.
    assert_limited_page(start(client))
    assert_limited_page(client.get("/login/callback"))
    # Other addresses are not affected.
    assert fail(client, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 400


def test_successful_logins_do_not_count_towards_the_lockout(make_client):
    client = make_client(RATELIMIT_LOGIN_FAILURES="2 per 15 minutes")
    for _ in range(4):
        response = client.get("/login/callback")
        assert response.status_code == 302
    assert "大原 太郎 さん" in client.get("/").text
    assert [fail(client).status_code for _ in range(3)] == [400, 400, 429]


def test_a_refused_attempt_does_not_prolong_the_lockout(make_client):
    client = make_client(RATELIMIT_LOGIN_FAILURES="2 per 15 minutes")
    assert [fail(client).status_code for _ in range(2)] == [400, 400]
    assert [fail(client).status_code for _ in range(3)] == [429, 429, 429]
    key = parse("2 per 15 minutes").key_for("127.0.0.1", "login-failures")
    with client.application.app_context():
        assert limiter.limiter.storage.get(key) == 2, "only the two failures were counted"


def test_starting_logins_is_limited(make_client):
    client = make_client(RATELIMIT_LOGIN="3 per minute")
    assert [start(client).status_code for _ in range(3)] == [302, 302, 302]
    assert_limited_page(start(client))
    # The login page itself stays readable.
    check_page(client.get("/login"))


def behind_proxy(chain: str) -> dict:
    """What one proxy (nginx) sends: the X-Forwarded-For chain it built, from its own address."""
    return {"headers": {"X-Forwarded-For": chain}, "environ_base": {"REMOTE_ADDR": "10.0.0.2"}}


def test_behind_one_trusted_proxy_each_client_address_has_its_own_lockout(make_client):
    client = make_client(RATELIMIT_LOGIN_FAILURES="2 per 15 minutes", TRUSTED_PROXIES=1)
    first = [fail(client, **behind_proxy("198.51.100.1")).status_code for _ in range(3)]
    assert first == [400, 400, 429]
    # Another resident behind the same proxy is not locked out by the first one.
    assert fail(client, **behind_proxy("198.51.100.2")).status_code == 400
    # Only the proxy's own entry is believed: one the client put before it changes nothing.
    assert fail(client, **behind_proxy("203.0.113.9, 198.51.100.1")).status_code == 429


def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(make_client):
    client = make_client(RATELIMIT_LOGIN_FAILURES="2 per 15 minutes")
    statuses = [fail(client, **behind_proxy(f"198.51.100.{n}")).status_code for n in range(3)]
    assert statuses == [400, 400, 429]  # all one address: the proxy's
