"""Every time limit a resident meets warns first and can be extended (WCAG 2.2.1, decision 0068),
in a real browser: the kiosk's idle reset (「まだお使いですか？」 with 続ける) and the login's idle
timeout inside an assisted session (the resident's login, with お手伝い's banner). The login's
timeout on its own is tests/e2e/test_session_timeout.py. The browser's clock is Playwright's
fake clock; the server's is the live server's clock file, moved in step and put back at the end.

The assisted session's own end (1 hour, 3 hours or the end of the day) is not an inactivity
limit: the resident chooses it before the session starts, the banner shows it all along, and
nothing typed is lost when it comes (decision 0068)."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
from playwright.sync_api import expect

from portal.clock import TOKYO
from tests.e2e import prepared
from tests.e2e.people import by_label
from tests.e2e.staff_people import create_member
from tests.e2e.test_login import use_card

KIOSK_SCREEN = {"width": 1080, "height": 1920}


def heading(page):
    return page.get_by_role("heading", level=1)


def test_the_kiosk_idle_warning_lets_the_resident_continue(make_page, audit, live_server):
    page = make_page("tablet")
    page.set_viewport_size(KIOSK_SCREEN)
    page.clock.install()
    secret = create_member(live_server, "kiosk-time", "キオスク 時間", "admin:shimin", "pw-" * 5)
    page.goto("/staff/login")
    by_label(page, "ログインID").fill("kiosk-time")
    by_label(page, "パスワード").fill("pw-" * 5)
    page.get_by_role("button", name="次へ").click()
    by_label(page, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="ログインする").click()
    page.get_by_role("link", name="キオスク端末").click()
    by_label(page, "端末の名前").fill("時間の確認")
    by_label(page, "設置場所（画面に表示します）").fill("本庁舎2階")
    page.get_by_role("button", name="この端末をキオスクとして登録").click()
    page.get_by_role("button", name="手続をする").click()
    expect(heading(page)).to_have_text("手続を選んでください")
    touched = dt.datetime.now(dt.UTC)  # the visit's last activity is a moment before

    def server_clock(seconds: float) -> None:
        live_server.set_clock((touched + dt.timedelta(seconds=seconds)).isoformat())

    dialog = page.get_by_role("alertdialog")
    keep = page.get_by_role("button", name="続ける")
    try:
        server_clock(65)  # the warning comes at 60 s, the reset at 90 s
        page.clock.fast_forward("01:05")
        expect(dialog).to_be_visible()
        expect(dialog).to_have_accessible_name("まだお使いですか？")
        expect(keep).to_be_focused()
        audit(page)
        keep.click()
        expect(dialog).to_be_hidden()
        expect(heading(page)).to_have_text("手続を選んでください")

        # Without 続ける the next request after 90 s would wipe the visit first; at 100 s the
        # visit goes on (続ける at 65 s was activity) and the page is not the start screen.
        server_clock(100)
        page.clock.fast_forward("00:35")
        expect(dialog).to_be_hidden()
        page.reload()
        expect(heading(page)).to_have_text("手続を選んでください")
        expect(page.get_by_text("前の方の情報は消去されました")).to_have_count(0)

        # And left alone again, it warns again and then resets (the limit still holds).
        server_clock(100 + 65)
        page.clock.fast_forward("01:05")
        expect(dialog).to_be_visible()
        server_clock(100 + 95)
        page.clock.fast_forward("00:40")
        expect(heading(page)).to_have_text("ご用件を選んでください")
        expect(page.get_by_role("status")).to_contain_text("前の方の情報は消去されました")
    finally:
        live_server.set_clock(None)


def test_the_login_timeout_warns_and_extends_in_an_assisted_session(
    make_page, audit, live_server, live_app, request
):
    prepared.registered_helper(live_app, "渡辺 健", "1980-10-30", "デジタル推進委員")
    page = make_page("phone")
    page.clock.install()
    page.goto("/assist/")
    page.get_by_role("button", name="お手伝いの方のカードでログインする").click()
    use_card(page, "care-manager")
    page.get_by_role("button", name="お手伝いを始める").click()
    page.get_by_role("button", name="ご本人のマイナンバーカードでログインする").click()
    use_card(page, "elderly")
    expect(heading(page)).to_have_text("お手伝いへの同意")
    by_label(page, "お手伝いを頼む手続").select_option(index=1)
    page.get_by_role("radio", name=re.compile("^今日の終わり")).check()
    # A consent never lasts past the end of the Tokyo day, and the test needs 31 minutes of it:
    # late in the day the server's clock is set back to 23:15 for the consent and what follows
    # (not for the card logins above, whose tokens the real clock checks).
    now = dt.datetime.now(TOKYO)
    consented = min(now, now.replace(hour=23, minute=15, second=0, microsecond=0))
    live_server.set_clock(consented.isoformat())
    request.addfinalizer(lambda: live_server.set_clock(None))
    page.get_by_role("button", name="同意して、お手伝いを頼む").click()
    expect(heading(page)).to_have_text("お手伝いの方に端末をお渡しください")
    banner = page.get_by_role("region", name="お手伝い中")
    expect(banner).to_be_visible()

    def server_clock(minutes: float) -> None:
        live_server.set_clock((consented + dt.timedelta(minutes=minutes)).isoformat())

    dialog = page.get_by_role("alertdialog")
    extend = page.get_by_role("button", name="ログインを延長する")
    try:
        server_clock(28.2)
        page.clock.fast_forward("28:00")
        expect(dialog).to_be_visible()
        expect(dialog).to_have_accessible_name("まもなくログインが切れます")
        expect(extend).to_be_focused()
        audit(page)
        extend.click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#session-timeout-status")).to_have_text(
            "ログインの有効期限を延長しました"
        )
        # The login would have ended at 30 minutes; extended at 28, it is alive at 31, and the
        # assisted session with it.
        server_clock(31)
        page.reload()
        expect(heading(page)).to_have_text("お手伝いの方に端末をお渡しください")
        expect(banner).to_be_visible()
    finally:
        live_server.set_clock(None)
