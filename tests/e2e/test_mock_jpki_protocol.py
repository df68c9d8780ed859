"""The mock card service speaks OpenID Connect as the real one does: checked with an independent
client (tests/e2e/oidc_client.py) against the live server. Exact `error` codes for every refusal,
and the client's own checks reject tampered, misaddressed, replayed and expired ID tokens."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from tests.e2e.oidc_client import RelyingParty

PERSONAS = {
    p["id"]: p
    for p in yaml.safe_load(
        (Path(__file__).parents[2] / "portal/demo_data/people.yaml").read_text(encoding="utf-8")
    )["personas"]
}
PIN = PERSONAS["adult"]["auth_pin"]


@pytest.fixture
def rp(live_server):
    live_server.set_clock(None)
    yield RelyingParty(live_server.url)
    live_server.set_clock(None)


def login(rp, **overrides):
    params = rp.authorization_params(**overrides)
    response = rp.authorize(params, card="adult", pin=PIN)
    assert response.status == 302, response.body[:500]
    return params, response.location_params


def test_discovery_and_keys(rp):
    config = rp.discovery()
    assert config["issuer"].endswith("/mock-jpki")
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["response_types_supported"] == ["code"]
    assert set(config["scopes_supported"]) >= {
        "openid",
        "name",
        "address",
        "birthdate",
        "gender",
        "sign",
    }
    keys = rp.request(config["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    assert "d" not in keys[0]  # the public half only


def test_the_whole_flow(rp):
    params, result = login(rp)
    assert result["state"] == params["state"]
    token = rp.token(result["code"], params["_verifier"])
    assert token.status == 200, token.body
    body = token.json()
    assert body["token_type"].lower() == "bearer"
    claims = rp.verify_id_token(body["id_token"], params["nonce"])
    assert claims["acr"] == "aal3"
    assert claims["name"] == PERSONAS["adult"]["name"]
    assert claims["birthdate"] == str(PERSONAS["adult"]["birth_date"])
    assert PERSONAS["adult"]["my_number"] not in json.dumps(claims)
    info = rp.request(
        f"{rp.base}/mock-jpki/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert info["sub"] == claims["sub"] and info["address"]["formatted"]

    other = RelyingParty(rp.base, "other-rp", "other-secret", "http://127.0.0.1:49151/other")
    params2, result2 = login(other)
    claims2 = other.verify_id_token(
        other.token(result2["code"], params2["_verifier"]).json()["id_token"], params2["nonce"]
    )
    assert claims2["sub"] != claims["sub"], "sub is pairwise"


@pytest.mark.parametrize(
    ("override", "keeps_state"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, True),
        ({"code_challenge_method": "plain"}, True),
        ({"nonce": None}, True),
        ({"state": None}, False),
    ],
)
def test_authorization_requests_missing_a_required_part(rp, override, keeps_state):
    params = rp.authorization_params(**override)
    response = rp.authorize(params, card="adult", pin=PIN)
    assert response.status == 302
    result = response.location_params
    assert result["error"] == "invalid_request"
    assert ("state" in result) == keeps_state


def test_unsupported_response_type(rp):
    response = rp.authorize(rp.authorization_params(response_type="token"))
    assert response.status == 302
    assert response.location_params["error"] == "unsupported_response_type"


def test_unknown_client_and_unregistered_redirect_get_no_redirect(rp):
    unknown = rp.authorize(rp.authorization_params(client_id="nobody"))
    assert unknown.status == 400 and "invalid_client" in unknown.body
    elsewhere = rp.authorize(rp.authorization_params(redirect_uri="https://evil.example/cb"))
    assert elsewhere.status == 400 and "Location" not in elsewhere.headers


def test_cancel_gives_access_denied(rp):
    params = rp.authorization_params()
    response = rp.authorize(params, card="adult", pin="", action="cancel")
    assert response.status == 302
    result = response.location_params
    assert (result["error"], result["state"]) == ("access_denied", params["state"])
    assert "code" not in result


def test_wrong_verifier_is_invalid_grant(rp):
    params, result = login(rp)
    response = rp.token(result["code"], "x" * 50)
    assert response.status == 400 and response.json()["error"] == "invalid_grant"


def test_a_code_works_once(rp):
    params, result = login(rp)
    assert rp.token(result["code"], params["_verifier"]).status == 200
    again = rp.token(result["code"], params["_verifier"])
    assert again.status == 400 and again.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_the_authorization_request(rp):
    params, result = login(rp)
    response = rp.token(
        result["code"], params["_verifier"], redirect_uri="http://127.0.0.1:49151/other"
    )
    assert response.status == 400 and response.json()["error"] == "invalid_grant"


def test_unknown_client_at_the_token_endpoint(rp):
    params, result = login(rp)
    response = rp.token(result["code"], params["_verifier"], client_id="nobody", secret="x")
    assert response.status == 401 and response.json()["error"] == "invalid_client"
    wrong_secret = rp.token(result["code"], params["_verifier"], secret="wrong")
    assert wrong_secret.json()["error"] == "invalid_client"


def test_an_expired_code_is_invalid_grant(rp, live_server):
    params, result = login(rp)
    live_server.set_clock("2099-01-01T00:00:00+00:00")
    response = rp.token(result["code"], params["_verifier"])
    assert response.status == 400 and response.json()["error"] == "invalid_grant"


def test_the_client_rejects_bad_id_tokens(rp, live_server):
    params, result = login(rp)
    id_token = rp.token(result["code"], params["_verifier"]).json()["id_token"]
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))

    tampered = dict(claims, name="別人 なりすまし")
    forged = base64.urlsafe_b64encode(json.dumps(tampered).encode()).decode().rstrip("=")
    with pytest.raises(ValueError, match="bad signature"):
        rp.verify_id_token(f"{header}.{forged}.{signature}", params["nonce"])
    with pytest.raises(ValueError, match="wrong nonce"):
        rp.verify_id_token(id_token, "another-nonce")
    other = RelyingParty(rp.base, "other-rp", "other-secret", "http://127.0.0.1:49151/other")
    with pytest.raises(ValueError, match="wrong aud"):
        other.verify_id_token(id_token, params["nonce"])
    with pytest.raises(ValueError, match="expired"):
        rp.verify_id_token(id_token, params["nonce"], now=claims["exp"] + 1)

    # A token issued an hour ago by the provider's clock is expired now.
    live_server.set_clock("2020-01-01T09:00:00+09:00")
    params, result = login(rp)
    old = rp.token(result["code"], params["_verifier"]).json()["id_token"]
    live_server.set_clock(None)
    with pytest.raises(ValueError, match="expired"):
        rp.verify_id_token(old, params["nonce"])


def test_failure_simulators(rp, live_server):
    import subprocess
    import sys
    import time

    fault = live_server.clock_file.parent / "mock_jpki" / "fault"
    fault.parent.mkdir(parents=True, exist_ok=True)
    try:
        fault.write_text("down")
        assert rp.request(f"{rp.base}/mock-jpki/jwks").status == 503
        page = rp.request(f"{rp.base}/mock-jpki/authorize?client_id=test-rp")
        assert page.status == 503 and "ただいまご利用いただけません" in page.body
        fault.write_text("slow:1.5")
        started = time.monotonic()
        assert rp.request(f"{rp.base}/mock-jpki/jwks").status == 200
        assert time.monotonic() - started >= 1.5
    finally:
        fault.unlink(missing_ok=True)
    assert rp.request(f"{rp.base}/mock-jpki/jwks").status == 200
    # The CLI writes the same switch.
    env = {
        "PORTAL_ENV": "test",
        "PORTAL_INSTANCE_PATH": str(live_server.clock_file.parent),
        "FLASK_APP": "portal",
        "PATH": "",
    }
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run([flask, "mock-jpki", "fault", "down"], env=env, check=True, capture_output=True)
    assert fault.read_text() == "down"
    subprocess.run([flask, "mock-jpki", "fault", "off"], env=env, check=True, capture_output=True)
    assert not fault.exists()


def _sign_params(rp):
    digest = base64.urlsafe_b64encode(b"\x02" * 32).decode().rstrip("=")
    created = rp.request(
        f"{rp.base}/mock-jpki/sign/transactions",
        json.dumps({"documents": [{"title": "文書", "digest": digest}]}).encode(),
        {
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(b"test-rp:test-secret").decode(),
        },
    )
    assert created.status == 201
    return rp.authorization_params(
        scope="openid sign", sign_transaction_id=created.json()["sign_transaction_id"]
    )


def test_five_wrong_signature_passwords_lock_signing(rp, live_server):
    for left in (4, 3, 2, 1):
        page = rp.authorize(_sign_params(rp), card="foreign", pin="WRONG0000")
        assert page.status == 200 and f"あと{left}回間違えると" in page.body
    locked = rp.authorize(_sign_params(rp), card="foreign", pin="WRONG0000")
    assert locked.status == 403 and "署名用のパスワードがロックされています" in locked.body
    right = PERSONAS["foreign"]["sign_password"]
    still = rp.authorize(_sign_params(rp), card="foreign", pin=right)
    assert still.status == 403 and "ロックされています" in still.body
    # Logging in (the other certificate) still works: only signing is locked.
    params, result = login(rp)
    assert result["code"]
    live_server.flask("mock-jpki", "reset-pin", "foreign")  # unlocked, as other tests expect it


def test_sign_transactions_need_client_authentication_and_valid_digests(rp):
    bad = rp.request(
        f"{rp.base}/mock-jpki/sign/transactions", b"{}", {"Content-Type": "application/json"}
    )
    assert bad.status == 401 and bad.json()["error"] == "invalid_client"
    auth = {
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(b"test-rp:test-secret").decode(),
    }
    malformed = rp.request(
        f"{rp.base}/mock-jpki/sign/transactions",
        json.dumps({"documents": [{"title": "x", "digest": "short"}]}).encode(),
        auth,
    )
    assert malformed.status == 400 and malformed.json()["error"] == "invalid_request"
    unknown = rp.authorize(rp.authorization_params(scope="openid sign", sign_transaction_id="nope"))
    assert unknown.status == 302
    assert unknown.location_params["error"] == "access_denied"
    assert unknown.location_params["error_description"] == "invalid_sign_transaction"
