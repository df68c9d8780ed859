"""From the home page to a personal checklist on a phone: 引越し (moving in with a child), the
screening's error, the checklist with its deadlines, and from it the booking of the counter
visit. axe runs on every page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.people import by_label, group


def test_a_moving_checklist_on_a_phone(make_page, audit):
    page = make_page("phone")
    page.goto("/")
    page.get_by_role("link", name=re.compile("くらしのできごとから必要な手続を調べる")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("くらしのできごとから手続を探す")
    audit(page)
    page.get_by_role("link", name="引越し").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("引越しについて教えてください")
    audit(page)
    group(page, "どのような引越しですか").get_by_role(
        "radio", name="ほかの市区町村から、いすみ市へ引っ越す"
    ).check()
    page.get_by_role("button", name="必要な手続を見る").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    audit(page)
    by_label(page, "引越しの日（新しい住所に住み始める日）").fill("令和8年12月1日")
    group(page, "一緒に引っ越す方に、中学生までのお子さんがいますか").get_by_role(
        "radio", name="はい"
    ).check()
    group(page, "いま入っている健康保険").get_by_role("radio", name="国民健康保険").check()
    group(page, "一緒に引っ越す方に、介護保険の認定を受けている方がいますか").get_by_role(
        "radio", name="いいえ"
    ).check()
    page.get_by_role("button", name="必要な手続を見る").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("あなたのやることリスト")
    expect(
        page.get_by_role("heading", name=re.compile("オンラインで今すぐできる手続"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name="転入届")).to_be_visible()
    expect(page.get_by_role("heading", name="小学校・中学校の転校の手続")).to_be_visible()
    audit(page)
    page.get_by_role("link", name=re.compile(r"^窓口に行く日時を予約する\s*（転入届）$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("市民課 窓口")
    expect(page.get_by_text("「転入届」のための予約です。")).to_be_visible()
