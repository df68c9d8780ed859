"""The error page never fails (issue 25, decision 0044): 400, 404 and 500 pages render as
Japanese pages with every page invariant for hostile paths and query strings, and with the
database unreachable."""

from __future__ import annotations

import pytest

from portal import create_app
from tests.conftest import check_page

HOSTILE_REQUESTS = [
    ("/no-such-page/" + "ア" * 200, 404),
    ("/procedures/%E2%80%AE" + "x" * 50, 400),  # a bidi override in the path
    ("/procedures/juminhyo-copy%00", 400),
    ("/" + "p" * 5000, 400),
    ("/?q=" + "x" * 100_000, 400),
    ("/?q=%00%01%1b%7f", 400),
    ("/status/%ED%A0%80", 404),  # a lone surrogate's bytes: U+FFFD, an unknown token
    ("/appointments/shimin-main/99999-12-31", 404),
    ("/appointments/shimin-main/2026-02-30", 404),
    ("/appointments/shimin-main/0000-01-01", 404),
    ("/%2F%2Fevil.example/", 404),
]


@pytest.mark.parametrize(("path", "status"), HOSTILE_REQUESTS)
def test_error_pages_for_hostile_requests(client, path, status):
    soup = check_page(client.get(path), status)
    assert soup.h1.get_text(strip=True)
    assert f"エラー番号：{status}" in soup.get_text()


@pytest.fixture
def broken(tmp_path):
    """An app whose database cannot be opened, answering as production does (no exception
    propagates to the test client)."""
    app = create_app(
        "test",
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/missing-directory/portal.sqlite3",
            "SECRET_KEY": "t" * 64,
            "INSTANCE_PATH": str(tmp_path),
            "PUBLIC_URL": "http://localhost",
            "PROPAGATE_EXCEPTIONS": False,
        },
    )
    return app.test_client()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/procedures/juminhyo-copy", 500),
        ("/procedures/juminhyo-copy?q=" + "ア" * 100, 500),
        ("/no-such-page", 404),
        ("/?q=%00", 400),
        ("/" + "p" * 5000, 400),
    ],
)
def test_error_pages_with_the_database_unreachable(broken, path, status):
    soup = check_page(broken.get(path), status)
    if status == 500:
        assert soup.h1.get_text(strip=True) == "システムで問題が発生しました"
