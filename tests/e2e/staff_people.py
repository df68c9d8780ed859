"""Staff members in browser tests: made with `flask staff create` on the live server (the command
prints the otpauth:// URI an authenticator app would scan), and signed in with the password and a
code generated here, as the app would show it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pyotp
from playwright.sync_api import expect

from tests.e2e.people import by_label


def create_member(live_server, login_id: str, name: str, role: str, password: str) -> str:
    """A member with one role ("clerk:kosodate"); returns the TOTP secret."""
    output = live_server.flask(
        "staff", "create", login_id, "--name", name, "--role", role, "--password", password
    )
    return parse_qs(urlparse(re.search(r"otpauth://\S+", output).group(0)).query)["secret"][0]


def sign_in(page, login_id: str, secret: str, password: str) -> None:
    page.goto("/staff/login")
    by_label(page, "ログインID").fill(login_id)
    by_label(page, "パスワード").fill(password)
    page.get_by_role("button", name="次へ").click()
    by_label(page, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="ログインする").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新しい申請")
