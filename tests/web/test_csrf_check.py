"""Decision 0094: a posted CSRF token equal to the one Flask-WTF signed for the session's raw
token (kept by decision 0089) is accepted without its signature checked again; every other
token still goes through Flask-WTF's own check and is refused as before, and Flask-WTF's https
referrer check still applies."""

from __future__ import annotations

import flask_wtf.csrf
import pytest
from itsdangerous import URLSafeTimedSerializer

import portal.web
from tests.conftest import csrf_token

BASE = "/procedures/juminhyo-copy"
SALT = "wtf-csrf-token"  # Flask-WTF's


@pytest.fixture
def checks(monkeypatch):
    """The calls that reached Flask-WTF's own check (the tokens posted)."""
    calls: list[object] = []
    original = portal.web._flask_wtf_validate_csrf

    def counted(data, *args, **kwargs):
        calls.append(data)
        return original(data, *args, **kwargs)

    monkeypatch.setattr(portal.web, "_flask_wtf_validate_csrf", counted)
    return calls


def raw_token(app, signed: str) -> str:
    return URLSafeTimedSerializer(app.secret_key, salt=SALT).loads(signed)


def test_the_kept_token_is_accepted_without_flask_wtf_checking_it_again(app, checks):
    assert flask_wtf.csrf.validate_csrf is portal.web.validate_csrf  # where protect() finds it
    client = app.test_client()
    token = csrf_token(client.get(BASE).text)
    assert client.post(f"{BASE}/start", data={"csrf_token": token}).status_code == 302
    assert checks == []


def test_another_sessions_token_is_refused(app, checks):
    resident, other = app.test_client(), app.test_client()
    token = csrf_token(resident.get(BASE).text)
    other.get(BASE)
    assert other.post(f"{BASE}/start", data={"csrf_token": token}).status_code == 400
    assert checks == [token]  # not the kept token of this session: Flask-WTF's check refused it


def test_a_tampered_token_is_refused(app, checks):
    client = app.test_client()
    token = csrf_token(client.get(BASE).text)
    payload, stamp, signature = token.rsplit(".", 2)
    # The signature's first character changed: its last one carries two padding bits that
    # base64 decoding ignores, so changing it between "A" and "B" left the same signature (the
    # test failed once in sixteen runs, whenever the signature ended in "A").
    tampered = [
        f"{payload}.{stamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",
        f"{payload}x.{stamp}.{signature}",
        token + " ",
        token[:-1],
    ]
    for posted in tampered:
        assert client.post(f"{BASE}/start", data={"csrf_token": posted}).status_code == 400
    assert checks == tampered
    assert client.post(f"{BASE}/start", data={"csrf_token": token}).status_code == 302


def test_a_token_signed_with_another_key_is_refused(app, checks):
    client = app.test_client()
    token = csrf_token(client.get(BASE).text)
    raw = raw_token(app, token)
    forged = URLSafeTimedSerializer("another-" + "k" * 56, salt=SALT).dumps(raw)
    assert client.post(f"{BASE}/start", data={"csrf_token": forged}).status_code == 400
    assert checks == [forged]
    # And the kept token stops being accepted once the key changes (0089's key in the cache).
    app.secret_key = app.config["SECRET_KEY"] = "rotated-" + "k" * 56
    assert client.post(f"{BASE}/start", data={"csrf_token": token}).status_code == 400
    assert checks == [forged, token]


def test_the_https_referrer_check_still_applies_to_the_kept_token(app, checks):
    client = app.test_client()
    token = csrf_token(client.get(BASE, base_url="https://localhost").text)
    data = {"csrf_token": token}
    https = {"base_url": "https://localhost"}
    assert client.post(f"{BASE}/start", data=data, **https).status_code == 400  # no referrer
    elsewhere = {"Referer": "https://evil.example/procedures/juminhyo-copy"}
    assert client.post(f"{BASE}/start", data=data, headers=elsewhere, **https).status_code == 400
    here = {"Referer": "https://localhost/procedures/juminhyo-copy"}
    assert client.post(f"{BASE}/start", data=data, headers=here, **https).status_code == 302
    assert checks == []  # the token itself was the kept one every time


def test_a_configured_time_limit_goes_to_flask_wtf(app, checks):
    client = app.test_client()
    token = csrf_token(client.get(BASE).text)
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    assert client.post(f"{BASE}/start", data={"csrf_token": token}).status_code == 302
    assert checks == [token]
