"""保育施設等の利用申込 on a phone without JavaScript, signed in with the card of 岬 花子: the
guardian comes from the card (shown, not asked), the address and the preschool child from the
city's records (marked, editable); a postal-code lookup, adding and removing children, ranked
preferences that must differ, an EICAR file refused with everything else kept, an upload that
survives a failed POST; the application is signed with the card at submit, the status page shows
the signature as valid, and as invalid once a stored answer is changed in the database."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, select, update

from portal.submissions.models import Submission
from tests.e2e.people import by_label, group, sample_pdf
from tests.e2e.test_login import PERSONAS, use_card

EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def next_step(page) -> None:
    page.get_by_role("button", name="次へ進む").click()


def sign_with_card(page, persona_id: str, password: str | None = None) -> None:
    expect(page.get_by_role("heading", level=2, name="電子署名する文書")).to_be_visible()
    group(page, "使うカード（デモ用）").get_by_role(
        "radio", name=PERSONAS[persona_id]["card_label"]
    ).check()
    by_label(page, "署名用電子証明書のパスワード（英数字6〜16文字）").fill(
        password or PERSONAS[persona_id]["sign_password"]
    )
    page.get_by_role("button", name="電子署名する").click()


@pytest.mark.pg_smoke  # prefill, signing and the tampered answer on PostgreSQL too
def test_nursery_application_without_javascript(make_page, audit, tmp_path, live_server):
    page = make_page("phone", javascript=False)
    page.goto("/?q=ほいく")
    audit(page)
    page.get_by_role("link", name="保育施設等の利用申込").click()
    expect(page.get_by_text("マイナンバーカードでのログインと電子署名が必要です")).to_be_visible()
    audit(page)
    page.get_by_role("button", name="ログインして申請を始める").click()
    use_card(page, "parent")  # back from the card: the first step at once

    # The guardian is the card holder: shown from the card, not asked.
    expect(page.get_by_role("heading", level=2, name="申請する保護者")).to_be_visible()
    expect(page.get_by_text("岬 花子（ミサキ ハナコ）")).to_be_visible()
    expect(
        page.get_by_text(
            re.compile("マイナンバーカードの情報から入力しました。この画面では変更できません")
        )
    ).to_be_visible()
    expect(page.get_by_role("textbox", name=re.compile("^氏名"))).to_have_count(0)
    # The address comes from the card too, and may be changed (a postal-code lookup here).
    address = group(page, "住所")
    expect(by_label(address, "郵便番号")).to_have_value("299-4503")
    expect(by_label(address, "町名")).to_have_value("岬町和泉")
    expect(
        address.get_by_text(re.compile("マイナンバーカードの情報から入力しました"))
    ).to_be_visible()
    audit(page)
    by_label(page, "日中に連絡のつく電話番号").fill("0470-62-1111")
    by_label(address, "郵便番号").fill("２９８８５０１")
    page.get_by_role("button", name="郵便番号から住所を入力する").click()
    expect(by_label(group(page, "住所"), "町名")).to_have_value("大原")
    expect(by_label(page, "日中に連絡のつく電話番号")).to_have_value("0470-62-1111")
    audit(page)
    by_label(group(page, "住所"), "番地・号").fill("7400-1")
    next_step(page)

    # Children: the preschool child comes from the records (the 7-year-old does not). Add two
    # more, remove the second; the third moves up, as typed.
    expect(page.get_by_role("heading", level=1)).to_have_text("入所を希望する子ども")
    expect(page.get_by_text(re.compile("市の住民記録から入力しました"))).to_be_visible()
    first = group(group(page, "入所を希望する子ども"), "子ども1")
    expect(by_label(first, "氏名")).to_have_value("岬 ひなた")
    expect(by_label(first, "生年月日")).to_have_value("令和5年2月14日")
    expect(group(page, "子ども2")).to_have_count(0)
    group(first, "食物アレルギーがありますか").get_by_role("radio", name="はい").check()
    page.get_by_role("button", name="子どもを追加する").click()
    expect(page.get_by_role("status")).to_contain_text("子ども2の入力欄を追加しました")
    second = group(group(page, "入所を希望する子ども"), "子ども2")
    by_label(second, "氏名").fill("岬 二郎")
    page.get_by_role("button", name="子どもを追加する").click()
    expect(page.get_by_role("status")).to_contain_text("子ども3の入力欄を追加しました")
    third = group(group(page, "入所を希望する子ども"), "子ども3")
    expect(by_label(group(page, "子ども2"), "氏名")).to_have_value("岬 二郎")
    audit(page)
    by_label(third, "氏名").fill("岬 三郎")
    by_label(third, "フリガナ").fill("みさき さぶろう")
    by_label(third, "生年月日").fill("令和7年8月1日")
    group(third, "食物アレルギーがありますか").get_by_role("radio", name="いいえ").check()
    page.get_by_role("button", name="子ども2を削除する").click()
    expect(page.get_by_role("status")).to_contain_text("子ども2を削除しました")
    expect(group(page, "子ども3")).to_have_count(0)
    moved_up = group(page, "子ども2")
    expect(by_label(moved_up, "氏名")).to_have_value("岬 三郎")
    expect(by_label(moved_up, "生年月日")).to_have_value("令和7年8月1日")
    expect(by_label(group(page, "子ども1"), "氏名")).to_have_value("岬 ひなた")
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

    # The employer is on the same page, asked once the reason needs it (no JavaScript here:
    # after 次へ進む, with a notice).
    expect(page.get_by_role("heading", level=1)).to_have_text("保護者の状況")
    expect(page.get_by_label("勤務先の名称")).to_be_hidden()
    group(page, "保育が必要な理由").get_by_role("radio", name="会社などに勤めている").check()
    next_step(page)
    expect(page.get_by_text(re.compile("答えに合わせて、質問を追加しました"))).to_be_visible()

    # An infected file is refused; what was typed stays.
    expect(page.get_by_role("heading", level=1)).to_have_text("保護者の状況")
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

    # The partner and the income on one page: the city has this resident's tax record, so no
    # certificate is asked for.
    expect(page.get_by_role("heading", level=1)).to_have_text("配偶者・パートナーと世帯の所得")
    expect(page.get_by_text("市が住民税の記録で確認する（証明書の添付は不要）")).to_be_visible()
    expect(page.get_by_label("課税（所得）証明書")).to_have_count(0)
    audit(page)
    group(page, "同居している配偶者・パートナーがいますか").get_by_role(
        "radio", name="いいえ"
    ).check()
    next_step(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    expect(page.get_by_text(re.compile("子ども1：岬 ひなた、ミサキ ヒナタ"))).to_be_visible()
    expect(page.get_by_text(re.compile("子ども2：岬 三郎、ミサキ サブロウ"))).to_be_visible()
    expect(page.get_by_text("就労証明書.pdf")).to_be_visible()
    audit(page)
    # Without the declaration nothing is signed.
    page.get_by_role("button", name="署名して申請する").click()
    expect(
        page.get_by_role("link", name="申請内容の確認にチェックを入れてください")
    ).to_be_visible()
    page.get_by_role("checkbox", name=re.compile("入力した内容に誤りがないこと")).check()
    page.get_by_role("button", name="署名して申請する").click()
    audit(page)
    sign_with_card(page, "parent")
    expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    audit(page)

    reference = page.locator(".reference").inner_text()
    page.get_by_role("link", name=f"申請の状況を見る（受付番号 {reference}）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請の状況")
    expect(page.get_by_text("署名検証: 有効")).to_be_visible()
    expect(page.get_by_text(re.compile("署名した方：岬 花子"))).to_be_visible()
    audit(page)

    # One stored answer changed behind the portal's back: the signature no longer holds.
    engine = create_engine(live_server.database_url)
    with engine.begin() as connection:
        row = connection.execute(
            select(Submission.id, Submission.answers)
            .where(Submission.procedure_id == "hoiku-riyou", Submission.submitted_at.is_not(None))
            .order_by(Submission.id.desc())
        ).first()
        connection.execute(
            update(Submission)
            .where(Submission.id == row.id)
            .values(answers={**row.answers, "weekly_hours": 20})
        )
    engine.dispose()
    page.reload()
    expect(page.get_by_text("署名検証: 無効")).to_be_visible()
    expect(page.get_by_text("理由：署名の後で申請内容が変更されています")).to_be_visible()
    audit(page)
