"""Fixtures shared by the web tests (Flask test client)."""

from __future__ import annotations

import pytest

from tests.factories import staff_members

# Three staff members: a 子育て支援課 clerk, a 市民課 clerk and an administrator of both.
STAFF = {
    "kosodate": ("kosodate-clerk", [("clerk", "kosodate")]),
    "shimin": ("shimin-clerk", [("clerk", "shimin")]),
    "admin": ("admin", [("admin", "kosodate"), ("admin", "shimin")]),
}


@pytest.fixture
def staff(app) -> dict[str, str]:
    """login_id -> TOTP secret of the three members of STAFF (password factories.PASSWORD)."""
    return staff_members(app, dict(STAFF.values()))
