"""A login that runs out keeps the work: a resident signed in with the card leaves a step half
done for more than 30 minutes; the timeout dialog's 「入力内容を預けて、もう一度ログインする」 sends
what was typed, and after logging in again they are back on that step with it, and the steps
saved before are still there. (Pressing 次へ進む after the expiry takes the same way on the
server: tests/web/test_identity_features.py.) The browser's clock is Playwright's fake one."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from tests.e2e.people import by_label, fill_step, group
from tests.e2e.test_juminhyo import ANSWERS, PROCEDURE
from tests.e2e.test_login import use_card


def test_an_expired_login_keeps_the_draft_and_the_typed_step(make_page, audit, live_server):
    page = make_page("phone")
    page.clock.install()
    try:
        page.goto("/login")
        page.get_by_role("button", name="マイナンバーカードでログインする").click()
        use_card(page, "gaiji")
        page.goto(f"/procedures/{PROCEDURE.id}")
        page.get_by_role("button", name="申請を始める").click()
        fill_step(page, PROCEDURE.steps[0], ANSWERS)
        page.get_by_role("button", name="次へ進む").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("必要な住民票")
        group(page, "住民票に載せる方").get_by_role("radio", name="世帯の一部の方").check()
        by_label(page, "住民票に載せる方の氏名").fill("髙橋 美咲")

        # 31 minutes without a request: the login has run out on the server. (The server's
        # clock goes back to real time for the next login: ID tokens are checked against it.)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
        live_server.set_clock(later.isoformat())
        page.clock.fast_forward("30:00")
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_have_accessible_name("ログインの有効期限が切れました")
        audit(page)
        dialog.get_by_role("link", name="入力内容を預けて、もう一度ログインする").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("ログインの有効期限が切れました")
        expect(page.get_by_text("髙橋 誠 さん")).to_have_count(0)
        live_server.set_clock(None)
        audit(page)

        page.get_by_role("link", name="もう一度ログインして続ける").click()
        page.get_by_role("button", name="マイナンバーカードでログインする").click()
        use_card(page, "gaiji")
        expect(page.get_by_role("heading", level=1)).to_have_text("必要な住民票")
        expect(page.get_by_role("status")).to_contain_text("入力していた内容を戻しました")
        expect(
            group(page, "住民票に載せる方").get_by_role("radio", name="世帯の一部の方")
        ).to_be_checked()
        expect(by_label(page, "住民票に載せる方の氏名")).to_have_value("髙橋 美咲")
        audit(page)
        page.get_by_role("button", name="次へ進む").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("通数と使いみち")
        page.get_by_role("link", name="戻る").click()
        page.get_by_role("link", name="戻る").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(PROCEDURE.steps[0].title)
        first = PROCEDURE.steps[0].fields[0]
        expect(page.get_by_text(first.label).first).to_be_visible()
    finally:
        live_server.set_clock(None)
