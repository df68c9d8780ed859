"""A date shortcut on a phone, with JavaScript (decision 0076): on 福祉用具購入費の支給申請's page
「買った福祉用具」, 「今日を入れる（…）」 fills 代金を支払った日 in place, without leaving the page or
losing what was typed, and says so in a polite live region. The no-JavaScript path (the button
posts the form) is tests/web/test_public_funds_and_deceased.py."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from portal import japanese
from portal.clock import TOKYO
from tests.e2e import prepared
from tests.e2e.people import by_label
from tests.e2e.test_login import use_card

PROCEDURE = "kaigo-fukushi-yogu"
STEP = f"/procedures/{PROCEDURE}/apply/items"
PERSONA = "elderly"  # 中村 キヨ


def test_a_date_shortcut_fills_the_field_in_place(make_page, audit, live_app):
    page = make_page("phone")
    page.goto(f"/procedures/{PROCEDURE}")
    page.get_by_role("button", name="ログインしてご本人の申請を始める").click()
    use_card(page, PERSONA)
    expect(page.locator(".site-header__user")).to_be_visible()
    prepared.filled_but(
        live_app,
        PROCEDURE,
        dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        "items",
        owner=prepared.owner_of(live_app, PERSONA),
    )
    page.goto(STEP)
    expect(page.get_by_role("heading", level=1)).to_have_text("買った福祉用具")
    paid = by_label(page, "代金を支払った日")
    expect(paid).to_have_value("")
    audit(page)
    by_label(page, "支払った金額の合計（税込）").fill("28600")
    today = dt.datetime.now(TOKYO).date()
    shortcuts = page.get_by_role("group", name="代金を支払った日の入力の近道")
    shortcuts.get_by_role("button", name=re.compile("^今日を入れる")).click()
    expect(paid).to_have_value(japanese.format_wareki(today))
    expect(page.locator(".notice")).to_have_count(0)  # no page load (that would say it too)
    expect(by_label(page, "支払った金額の合計（税込）")).to_have_value("28600")
    expect(
        page.locator("[aria-live='polite']").filter(has_text="代金を支払った日に")
    ).to_have_count(1)
    audit(page)
