"""Save and resume on another device with a resume code; withdrawal; search."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.people import by_label, group
from tests.e2e.test_login import use_card


def test_resume_on_another_device_and_withdraw(make_page, audit):
    phone = make_page("phone")
    phone.goto("/procedures/juminhyo-copy")
    phone.get_by_role("button", name="申請を始める").click()
    by_label(phone, "氏名").fill("大原 太郎")
    by_label(phone, "氏名（フリガナ）").fill("オオハラ タロウ")
    by_label(phone, "日中に連絡のつく電話番号").fill("09012345678")
    group(phone, "住民票が必要な方との関係").get_by_role("radio", name="本人").check()
    phone.get_by_role("button", name="次へ進む").click()
    phone.get_by_role("link", name="入力を中断して、あとで続ける").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("あとで続ける")
    audit(phone)
    phone.get_by_role("button", name="再開コードを発行する").click()
    code = phone.locator("#resume-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    expect(phone.get_by_role("img", name=re.compile(f"再開コード {code}"))).to_be_visible()
    audit(phone)

    desktop = make_page("desktop")
    desktop.goto("/")
    desktop.get_by_role("link", name="入力の途中で保存した申請を再開する").click()
    by_label(desktop, "再開コード").fill("WRONG-CODE-0000")
    desktop.get_by_role("button", name="再開する").click()
    expect(desktop.get_by_role("link", name=re.compile("再開コードが正しくないか"))).to_be_visible()
    expect(by_label(desktop, "再開コード")).to_have_value("WRONG-CODE-0000")
    audit(desktop)
    by_label(desktop, "再開コード").fill(code.replace("-", "").lower())  # as people type it
    desktop.get_by_role("button", name="再開する").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("必要な住民票")
    expect(desktop.get_by_role("status")).to_contain_text("保存した内容から入力を再開します")
    desktop.get_by_role("link", name="戻る").click()
    expect(by_label(desktop, "氏名")).to_have_value("大原 太郎")
    desktop.get_by_role("button", name="次へ進む").click()

    group(desktop, "住民票に載せる方").get_by_role("radio", name="世帯全員").check()
    desktop.get_by_role("button", name="次へ進む").click()
    by_label(desktop, "通数").fill("1")
    by_label(desktop, "使いみち").select_option(label="年金の手続")
    desktop.get_by_role("button", name="次へ進む").click()
    group(desktop, "受け取り方法").get_by_role("radio", name="市民課の窓口で受け取る").check()
    desktop.get_by_role("button", name="次へ進む").click()
    desktop.get_by_role("checkbox", name=re.compile("入力した内容に誤りがないこと")).check()
    desktop.get_by_role("button", name="この内容で申請する").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")

    # The code is spent once the application is submitted.
    phone.goto(f"/resume?code={code}")
    expect(by_label(phone, "再開コード")).to_have_value(code)
    audit(phone)
    phone.get_by_role("button", name="再開する").click()
    expect(phone.get_by_role("link", name=re.compile("再開コードが正しくないか"))).to_be_visible()

    # Withdrawal from the status page.
    desktop.get_by_role("link", name=re.compile("申請の状況を見る")).click()
    desktop.get_by_role("link", name="この申請を取り下げる").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("申請を取り下げる")
    audit(desktop)
    desktop.get_by_role("button", name="申請を取り下げる").click()
    expect(
        desktop.get_by_role("link", name="取り下げる場合は、確認のチェックを入れてください")
    ).to_be_visible()
    audit(desktop)
    desktop.get_by_role("checkbox", name="この申請を取り下げることを確認しました").check()
    desktop.get_by_role("button", name="申請を取り下げる").click()
    expect(desktop.get_by_role("status")).to_contain_text("申請を取り下げました")
    expect(desktop.locator(".status-tag")).to_have_text("取下げ")
    expect(desktop.get_by_role("link", name="この申請を取り下げる")).to_have_count(0)
    audit(desktop)


def test_search_by_kana_and_life_event(make_page, audit):
    page = make_page("phone")
    page.goto("/")
    by_label(page, "手続の名前・よみがなで探す").fill("じゅうみんひょう")
    page.get_by_role("button", name="探す").click()
    expect(page.get_by_role("heading", name="検索結果（1件）")).to_be_visible()
    expect(page.get_by_role("link", name="住民票の写し等の交付請求")).to_be_visible()
    audit(page)
    by_label(page, "手続の名前・よみがなで探す").fill("")
    by_label(page, "くらしのできごとで絞り込む").select_option(label="妊娠・出産・子育て")
    page.get_by_role("button", name="探す").click()
    expect(page.get_by_role("link", name="妊娠の届出")).to_be_visible()
    expect(page.get_by_role("link", name="保育施設等の利用申込")).to_be_visible()
    expect(page.get_by_role("link", name="住民票の写し等の交付請求")).to_have_count(0)
    by_label(page, "手続の名前・よみがなで探す").fill("該当なしの言葉")
    page.get_by_role("button", name="探す").click()
    expect(page.get_by_text("当てはまる手続が見つかりませんでした")).to_be_visible()
    audit(page)


def test_enter_in_a_text_box_means_next_not_remove(make_page, audit):
    """The add/remove/lookup buttons are submit buttons too; Enter must not press them."""
    page = make_page("phone", javascript=False)
    page.goto("/procedures/hoiku-riyou")
    page.get_by_role("button", name="ログインして申請を始める").click()
    use_card(page, "foreign")  # no children in the records: nothing prefilled there
    page.goto("/procedures/hoiku-riyou/apply/children")  # not yet: back to the first step
    expect(page.get_by_role("heading", level=1)).to_have_text("申請する保護者")
    page.get_by_role("button", name="次へ進む").click()  # errors; this step must be done first
    expect(page.get_by_role("link", name=re.compile("電話番号を入力してください"))).to_be_visible()
    by_label(page, "日中に連絡のつく電話番号").fill("0470621111")
    page.get_by_role("button", name="次へ進む").click()
    children = group(page, "入所を希望する子ども")
    children.get_by_role("button", name="子どもを追加する").click()
    second_name = by_label(group(page, "子ども2"), "氏名")
    second_name.fill("大原 二郎")
    second_name.press("Enter")
    expect(page).to_have_title(re.compile("^エラー："))
    expect(group(page, "子ども2")).to_have_count(1)
    expect(by_label(group(page, "子ども2"), "氏名")).to_have_value("大原 二郎")
    audit(page)
