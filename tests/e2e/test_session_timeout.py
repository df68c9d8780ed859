"""The idle-timeout warning on a phone (WCAG 2.2.1): two minutes before a signed-in session ends an
alertdialog takes focus, 「ログインを延長する」 keeps the session and gives focus back, activity the
server knows of (another tab) keeps the warning away, and running out says what happened and how
to continue. The browser's clock is Playwright's fake clock; the server's is the live server's
clock file, moved in step (both are put back at the end)."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from tests.e2e.test_login import to_card_reader, use_card


def test_the_idle_timeout_warning(make_page, audit, live_server):
    page = make_page("phone")
    page.clock.install()
    to_card_reader(page, audit)
    use_card(page, "adult")
    expect(page.locator(".site-header__user")).to_have_text("大原 太郎 さん")
    signed_in_at = dt.datetime.now(dt.UTC)  # the session's last activity is a moment before

    def server_clock(minutes: float) -> None:
        moment = signed_in_at + dt.timedelta(minutes=minutes)
        live_server.set_clock(moment.isoformat())

    dialog = page.get_by_role("alertdialog")
    extend = page.get_by_role("button", name="ログインを延長する")
    mine = page.get_by_role("link", name="申請一覧")
    try:
        # 28 minutes pass in the browser, but the server saw activity (another tab, say): no
        # warning, the script asked the server and waits again.
        page.clock.fast_forward("28:00")
        page.wait_for_timeout(300)
        expect(dialog).to_be_hidden()

        # Now the server, too, is 28 minutes on: 2 minutes before the end the warning opens.
        server_clock(28.2)
        mine.focus()
        page.clock.fast_forward("28:00")
        expect(dialog).to_be_visible()
        expect(dialog).to_have_accessible_name("まもなくログインが切れます")
        expect(dialog).to_have_accessible_description(
            re.compile(
                "安全のためログインが切れます.*保存した入力内容は、ログインが切れても残ります"
            )
        )
        expect(extend).to_be_focused()
        countdown = dialog.locator("[data-countdown]")
        expect(countdown).to_have_text(re.compile(r"^1分\d+秒$"))
        # The countdown is visible but not a live region (not read out every second).
        assert countdown.evaluate("c => c.closest('[aria-live]') === null")
        audit(page)

        extend.click()
        expect(dialog).to_be_hidden()
        expect(mine).to_be_focused()
        expect(page.locator("#session-timeout-status")).to_have_text(
            "ログインの有効期限を延長しました"
        )
        # Without the extension the session would have ended at 30 minutes; at 53 it is alive.
        server_clock(53.2)
        page.reload()
        expect(page.locator(".site-header__user")).to_have_text("大原 太郎 さん")

        # From the keyboard, Escape in the warning also extends (the reload was the last activity).
        server_clock(53.2 + 28.5)
        page.clock.fast_forward("28:00")
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(page.locator("#session-timeout-status")).to_have_text(
            "ログインの有効期限を延長しました"
        )

        # Letting it run out (the Escape at 81.7 was the last activity).
        server_clock(81.7 + 28.5)
        page.clock.fast_forward("28:00")
        expect(dialog).to_be_visible()
        server_clock(81.7 + 31)
        page.clock.fast_forward("02:00")
        expect(dialog).to_have_accessible_name("ログインの有効期限が切れました")
        expect(dialog.get_by_text("保存した入力内容は残っています")).to_be_visible()
        login = dialog.get_by_role("link", name="もう一度ログインする")
        expect(login).to_have_attribute("href", "/login?next=/")
        expect(login).to_be_focused()
        expect(extend).to_be_hidden()
        audit(page)
        login.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードでログイン")
        expect(page.get_by_role("link", name="ログイン", exact=True)).to_be_visible()
    finally:
        live_server.set_clock(None)
