"""Site pages, error pages and headers."""

from __future__ import annotations

import pytest

from tests.conftest import check_page

pytestmark = pytest.mark.db


@pytest.mark.parametrize("url", ["/", "/accessibility", "/privacy", "/procedures/juminhyo-copy"])
def test_pages_hold_the_invariants(client, url):
    soup = check_page(client.get(url))
    assert soup.find("a", class_="skip-link")["href"] == "#main"
    assert soup.find("main", id="main")


def test_home_lists_the_procedure(client):
    soup = check_page(client.get("/"))
    link = soup.find("a", href="/procedures/juminhyo-copy")
    assert link.get_text() == "住民票の写し等の交付請求"


def test_unknown_procedure_gives_a_japanese_404(client):
    soup = check_page(client.get("/procedures/no-such-thing"), 404)
    assert soup.h1.get_text() == "ページが見つかりません"
    assert "Traceback" not in str(soup)


def test_oversized_body_gives_a_japanese_413(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/procedures/juminhyo-copy/start",
        data=b"x" * (limit + 1),
        content_type="application/octet-stream",
    )
    soup = check_page(response, 413)
    assert soup.h1.get_text() == "送信したデータが大きすぎます"
    assert "Traceback" not in response.text


def test_unexpected_errors_show_a_japanese_page_without_a_trace(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail 1234-5678")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    soup = check_page(response, 500)
    assert soup.h1.get_text() == "システムで問題が発生しました"
    assert "secret detail" not in response.text and "Traceback" not in response.text


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
