"""Every security header of a production-mode response (decision 0045): an HTML page, an error
page, a JSON endpoint and a static file, read from an app built with production settings (as
tests/unit/test_config_and_clock.py builds one) on its public address https://portal.example.jp.
Development over plain http sends no HSTS."""

from __future__ import annotations

import pytest

from portal import create_app, migrate
from tests.conftest import csrf_token

PUBLIC_URL = "https://portal.example.jp"


@pytest.fixture
def production(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    migrate.upgrade(url, mocks=False)  # production runs no mock
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    monkeypatch.setenv("PORTAL_MALWARE_SCANNER", "clamd://127.0.0.1:3310")
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_MAIL_SMTP_HOST", "smtp.example.jp")
    monkeypatch.setenv("PORTAL_MAIL_FROM", "noreply@isumi.example.jp")
    for name in (
        "PORTAL_TEST_CLOCK_FILE",
        "PORTAL_MOCK_JPKI_ENABLED",
        "PORTAL_MOCK_RECORDS_ENABLED",
        "PORTAL_MOCK_PAY_ENABLED",
        "PORTAL_DEMO_DEPLOYMENT",
    ):
        monkeypatch.delenv(name, raising=False)
    app = create_app("production")
    assert app.config["PORTAL_ENV"] == "production" and not app.config["TESTING"]
    return app


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_transport_and_content_headers(response) -> None:
    headers = response.headers
    hsts = dict(
        (item.strip().split("=") + [""])[:2]
        for item in headers["Strict-Transport-Security"].split(";")
    )
    assert int(hsts["max-age"]) >= 365 * 24 * 3600
    assert "includeSubDomains" in hsts
    csp = directives(headers["Content-Security-Policy"])
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert all(source in ("'self'", "'none'") for source in scripts)
    assert csp.get("object-src") == ["'none'"] or csp.get("default-src") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"] or "sandbox" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"


def assert_secure_cookie(set_cookie: str, name: str, path: str) -> None:
    attributes = [part.strip() for part in set_cookie.split(";")]
    assert attributes[0].startswith(f"{name}=")
    lowered = [a.lower() for a in attributes]
    assert "secure" in lowered and "httponly" in lowered
    assert "samesite=lax" in lowered or "samesite=strict" in lowered
    assert f"path={path}".lower() in lowered
    assert not any(a.startswith("domain=") for a in lowered)  # host-only


def test_every_security_header_of_a_production_response(production):
    client = production.test_client()
    html = client.get("/", base_url=PUBLIC_URL)
    error = client.get("/no-such-page", base_url=PUBLIC_URL)
    json = client.get("/api/v1/procedures", base_url=PUBLIC_URL)
    static = client.get("/static/css/portal.css", base_url=PUBLIC_URL)
    assert (html.status_code, error.status_code, json.status_code) == (200, 404, 200)
    assert static.status_code == 200
    assert (html.mimetype, error.mimetype, json.mimetype) == ("text/html",) * 2 + (
        "application/json",
    )
    for response in (html, error, json, static):
        assert_transport_and_content_headers(response)
    # Pages and JSON may carry personal data: never stored by a browser or a proxy. Static
    # files carry none and may be cached.
    for response in (html, error, json):
        assert response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in static.headers.get("Cache-Control", "")
    for response in (html, error, json, static):
        response.close()


def test_cookies_are_secure_host_only_and_http_only_in_production(production):
    client = production.test_client()
    # A form page keeps a CSRF token in the session: the resident cookie is set.
    page = client.get("/resume", base_url=PUBLIC_URL)
    assert_secure_cookie(page.headers["Set-Cookie"], "__Host-session", "/")
    assert csrf_token(page.text)
    staff = client.get("/staff/login", base_url=PUBLIC_URL)
    assert_secure_cookie(staff.headers["Set-Cookie"], "__Secure-staff_session", "/staff")
    for response in (page, staff):
        assert response.headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" in response.headers


def test_development_over_http_sends_no_hsts(app):
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    # Everything else is the same as in production.
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_form_action_allows_the_card_service_and_payment_provider_elsewhere(
    production, monkeypatch
):
    """Starting a login, a signature or a payment is a form POST answered with a redirect to the
    provider; browsers check form-action along the redirect, so those origins are named."""
    monkeypatch.setenv(
        "PORTAL_JPKI_DISCOVERY_URL", "https://auth.example.go.jp/.well-known/openid-configuration"
    )
    monkeypatch.setenv("PORTAL_PAYMENT_API_URL", "https://api.psp.example.jp/v1")
    monkeypatch.setenv("PORTAL_CSP_FORM_ACTION", "https://checkout.psp.example.jp/pay")
    app = create_app("production")
    csp = directives(
        app.test_client().get("/", base_url=PUBLIC_URL).headers["Content-Security-Policy"]
    )
    assert csp["form-action"] == [
        "'self'",
        "https://auth.example.go.jp",
        "https://api.psp.example.jp",
        "https://checkout.psp.example.jp",
    ]
    assert csp["script-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    # With the portal's own mocks (the default addresses), only the portal itself.
    csp = directives(
        production.test_client().get("/", base_url=PUBLIC_URL).headers["Content-Security-Policy"]
    )
    assert csp["form-action"] == ["'self'"]
