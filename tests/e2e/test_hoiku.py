"""保育施設等の利用申込 on a phone without JavaScript: a postal-code lookup, adding and removing
children, ranked preferences that must differ, an EICAR file refused with everything else kept,
and an upload that survives a failed POST."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.people import by_label, group, sample_pdf

EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def next_step(page) -> None:
    page.get_by_role("button", name="次へ進む").click()


def test_nursery_application_without_javascript(make_page, audit, tmp_path):
    page = make_page("phone", javascript=False)
    page.goto("/?q=ほいく")
    audit(page)
    page.get_by_role("link", name="保育施設等の利用申込").click()
    page.get_by_role("button", name="申請を始める").click()

    guardian = group(page, "申請する保護者")
    by_label(guardian, "氏名").fill("大原 花子")
    by_label(guardian, "フリガナ").fill("オオハラ ハナコ")
    by_label(guardian, "生年月日").fill("1995/6/15")
    by_label(page, "日中に連絡のつく電話番号").fill("0470-62-1111")
    address = group(page, "住所")
    by_label(address, "郵便番号").fill("２９８８５０１")
    page.get_by_role("button", name="郵便番号から住所を入力する").click()
    expect(by_label(group(page, "住所"), "町名")).to_have_value("大原")
    expect(by_label(group(page, "申請する保護者"), "生年月日")).to_have_value("1995/6/15")
    audit(page)
    by_label(group(page, "住所"), "番地・号").fill("7400-1")
    next_step(page)

    # Children: add a second child, then remove the first; the second moves up, as typed.
    expect(page.get_by_role("heading", level=1)).to_have_text("入所を希望する子ども")
    children = group(page, "入所を希望する子ども")
    first = group(children, "子ども1")
    by_label(first, "氏名").fill("大原 一郎")
    by_label(first, "フリガナ").fill("オオハラ イチロウ")
    children.get_by_role("button", name="子どもを追加する").click()
    expect(page.get_by_role("status")).to_contain_text("子ども2の入力欄を追加しました")
    second = group(group(page, "入所を希望する子ども"), "子ども2")
    expect(by_label(group(page, "子ども1"), "氏名")).to_have_value("大原 一郎")
    audit(page)
    by_label(second, "氏名").fill("大原 二郎")
    by_label(second, "フリガナ").fill("おおはら じろう")
    by_label(second, "生年月日").fill("令和7年8月1日")
    group(second, "食物アレルギーがありますか").get_by_role("radio", name="いいえ").check()
    page.get_by_role("button", name="子ども1を削除する").click()
    expect(page.get_by_role("status")).to_contain_text("子ども1を削除しました")
    expect(group(page, "子ども2")).to_have_count(0)
    only = group(page, "子ども1")
    expect(by_label(only, "氏名")).to_have_value("大原 二郎")
    expect(by_label(only, "生年月日")).to_have_value("令和7年8月1日")
    audit(page)
    next_step(page)

    # The same nursery twice is refused.
    expect(page.get_by_role("heading", level=1)).to_have_text("希望する施設")
    by_label(page, "第1希望").select_option(label="おおはら保育所（デモ）")
    by_label(page, "第2希望").select_option(label="おおはら保育所（デモ）")
    by_label(page, "入所を希望する日").fill("令和9年4月1日")
    next_step(page)
    expect(page).to_have_title(re.compile("^エラー："))
    expect(
        page.get_by_role("link", name=re.compile("第2希望に、上位の希望と同じ施設"))
    ).to_be_visible()
    audit(page)
    by_label(page, "第2希望").select_option(label="みさき保育所（デモ）")
    next_step(page)

    group(page, "保育が必要な理由").get_by_role("radio", name="会社などに勤めている").check()
    next_step(page)

    # An infected file is refused; what was typed stays.
    expect(page.get_by_role("heading", level=1)).to_have_text("勤務先について")
    by_label(page, "勤務先の名称").fill("株式会社いすみ（デモ）")
    by_label(page, "1週間の勤務時間").fill("40")
    eicar = tmp_path / "就労証明書.pdf"
    eicar.write_text(EICAR)
    by_label(page, "就労証明書").set_input_files(eicar)
    next_step(page)
    expect(page.get_by_role("link", name=re.compile("ウイルスが見つかった"))).to_be_visible()
    expect(by_label(page, "勤務先の名称")).to_have_value("株式会社いすみ（デモ）")
    expect(by_label(page, "1週間の勤務時間")).to_have_value("40")
    audit(page)

    # A good file with another error on the page is kept: no second upload needed.
    by_label(page, "1週間の勤務時間").fill("")
    by_label(page, "就労証明書").set_input_files(sample_pdf(tmp_path, "就労証明書.pdf"))
    next_step(page)
    expect(page.get_by_role("link", name="1週間の勤務時間を入力してください")).to_be_visible()
    expect(page.get_by_text("アップロード済み：")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="就労証明書.pdf").click()
    assert download.value.suggested_filename == "就労証明書.pdf"
    audit(page)
    by_label(page, "1週間の勤務時間").fill("40")
    next_step(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("配偶者・パートナーについて")
    group(page, "同居している配偶者・パートナーがいますか").get_by_role(
        "radio", name="いいえ"
    ).check()
    next_step(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    expect(page.get_by_text(re.compile("子ども1：大原 二郎、オオハラ ジロウ"))).to_be_visible()
    expect(page.get_by_text("就労証明書.pdf")).to_be_visible()
    audit(page)
    page.get_by_role("checkbox", name=re.compile("入力した内容に誤りがないこと")).check()
    page.get_by_role("button", name="この内容で申請する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    audit(page)
