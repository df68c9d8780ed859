"""Conditional questions and kept answers on a phone (issue 22, decision 0064), on 居宅サービス計画
作成依頼の届出's page 「事業者の変更」: 「変更の理由（くわしく）」 is asked only when 変更の理由 is
「その他」, on the same page.

With JavaScript it appears as その他 is chosen (marked 必須) and goes when another reason is, the
focus staying on the choice; a reload after a validation error shows everything typed again.
Without JavaScript it is not on the screen until その他 is chosen and 次へ進む pressed: then the
page comes back with it, focused, with a notice and no error, and nothing typed lost.

The earlier steps are prepared (tests/e2e/prepared.py): 中村 キヨ logs in with her card, and the
draft has the example answers up to this page (a change of provider)."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from portal import japanese
from portal.clock import TOKYO
from tests.e2e import prepared
from tests.e2e.people import by_label, group
from tests.e2e.test_login import use_card

PROCEDURE = "kaigo-careplan"
STEP = f"/procedures/{PROCEDURE}/apply/change"
PERSONA = "elderly"  # 中村 キヨ
DETAIL = "変更の理由（くわしく）"
CHANGE_DATE = japanese.format_wareki(dt.datetime.now(TOKYO).date() + dt.timedelta(days=3))


def at_the_change_page(page, live_app) -> None:
    page.goto(f"/procedures/{PROCEDURE}")
    page.get_by_role("button", name="ログインしてご本人の申請を始める").click()
    use_card(page, PERSONA)
    expect(page.locator(".site-header__user")).to_be_visible()
    # Her draft: the one this login started, or the one an earlier test left (it is resumed).
    prepared.filled_but(
        live_app,
        PROCEDURE,
        dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        "change",
        owner=prepared.owner_of(live_app, PERSONA),
        answers={"notice_kind": "change"},
    )
    page.goto(STEP)
    expect(page.get_by_role("heading", level=1)).to_have_text("事業者の変更")


def reason(page, option: str):
    return group(page, "変更の理由").get_by_role("radio", name=option, exact=True)


def test_a_conditional_question_with_javascript(make_page, audit, live_app):
    page = make_page("phone")
    at_the_change_page(page, live_app)
    detail = by_label(page, DETAIL)
    expect(detail).to_be_hidden()
    audit(page)

    reason(page, "その他").check()
    expect(detail).to_be_visible()
    expect(page.locator("label[for='f-change_detail']")).to_contain_text("必須")
    expect(reason(page, "その他")).to_be_focused()  # the focus stays where the resident is
    expect(page.locator("[data-conditional-announcer]")).to_contain_text(DETAIL)  # aria-live
    audit(page)
    reason(page, "ご本人・ご家族の希望").check()
    expect(detail).to_be_hidden()
    expect(reason(page, "ご本人・ご家族の希望")).to_be_focused()

    # A validation error, then the page opened again: everything typed is there.
    reason(page, "その他").check()
    by_label(page, "いままでの事業者（事業所）の名称").fill("岬ケアプランセンター")
    detail.fill("担当のケアマネジャーが退職したため")
    by_label(page, "変更する日").fill("来週のどこか")
    page.get_by_role("button", name="次へ進む").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    page.goto(STEP)
    expect(page.get_by_text(re.compile("前に入力した内容を戻しました"))).to_be_visible()
    expect(by_label(page, "いままでの事業者（事業所）の名称")).to_have_value("岬ケアプランセンター")
    expect(reason(page, "その他")).to_be_checked()
    expect(by_label(page, DETAIL)).to_be_visible()
    expect(by_label(page, DETAIL)).to_have_value("担当のケアマネジャーが退職したため")
    expect(by_label(page, "変更する日")).to_have_value("来週のどこか")
    audit(page)
    by_label(page, "変更する日").fill(CHANGE_DATE)
    page.get_by_role("button", name="次へ進む").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    expect(page.get_by_text("担当のケアマネジャーが退職したため")).to_be_visible()


def test_a_conditional_question_without_javascript(make_page, audit, live_app):
    page = make_page("phone", javascript=False)
    at_the_change_page(page, live_app)
    detail = by_label(page, DETAIL)
    expect(detail).to_be_hidden()
    audit(page)

    by_label(page, "いままでの事業者（事業所）の名称").fill("岬ケアプランセンター")
    reason(page, "その他").check()
    by_label(page, "変更する日").fill(CHANGE_DATE)
    expect(detail).to_be_hidden()  # nothing changes on the page before 次へ進む
    page.get_by_role("button", name="次へ進む").click()

    # The same page again, with the new question: a notice, not an error; nothing lost.
    expect(page.get_by_role("heading", level=1)).to_have_text("事業者の変更")
    expect(page.get_by_role("status")).to_contain_text("質問を追加しました")
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    expect(detail).to_be_visible()
    expect(detail).to_be_focused()
    expect(page.locator("label[for='f-change_detail']")).to_contain_text("必須")
    expect(reason(page, "その他")).to_be_checked()
    expect(by_label(page, "いままでの事業者（事業所）の名称")).to_have_value("岬ケアプランセンター")
    expect(by_label(page, "変更する日")).to_have_value(CHANGE_DATE)
    audit(page)
    detail.fill("担当のケアマネジャーが退職したため")
    page.get_by_role("button", name="次へ進む").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    expect(page.get_by_text("担当のケアマネジャーが退職したため")).to_be_visible()
