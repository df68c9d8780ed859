"""Acting for someone else (代理): a care manager applies for 要介護・要支援認定 for an elderly
resident with a letter of delegation; both see the application in 申請一覧 with their roles, the
person concerned can open it but not withdraw it, and a third resident gets 404. A parent applies
for a child of the same household without any letter: the records show the relationship."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.people import by_label, group, sample_pdf
from tests.e2e.test_login import use_card


def next_step(page) -> None:
    page.get_by_role("button", name="次へ進む").click()


def start_signed_in(page, audit, persona_id: str) -> None:
    page.goto("/procedures/kaigo-nintei")
    expect(page.get_by_role("heading", level=2, name="代理での申請")).to_be_visible()
    audit(page)
    page.get_by_role("button", name="ログインして代理で申請する").click()
    use_card(page, persona_id)  # back from the card: whom the application is about, at once
    expect(page.get_by_role("heading", level=1)).to_have_text("どなたについての申請ですか")


def test_care_manager_applies_for_an_elderly_resident(make_page, audit, tmp_path):
    page = make_page("phone")
    start_signed_in(page, audit, "care-manager")
    who = group(page, "どなたについての申請ですか")
    expect(who.get_by_role("radio", name="ご本人（渡辺 健 さん）の申請")).to_be_visible()
    who.get_by_role("radio", name="ほかの方の代わりに申請する").check()
    subject = group(page, "申請の対象となる方")
    by_label(subject, "氏名").fill("中村 キヨ")
    by_label(subject, "フリガナ").fill("なかむら きよ")
    by_label(subject, "生年月日").fill("昭和21年3月8日")
    by_label(page, "その方とのご関係").select_option(label="ケアマネジャー（居宅介護支援事業者）")
    next_step(page)
    # No letter: a clear error, and nothing typed is lost.
    expect(page).to_have_title(re.compile("^エラー："))
    expect(page.get_by_role("link", name="委任状を選んでください")).to_be_visible()
    expect(by_label(group(page, "申請の対象となる方"), "氏名")).to_have_value("中村 キヨ")
    expect(by_label(page, "その方とのご関係")).to_have_value("care-manager")
    audit(page)
    by_label(page, "委任状").set_input_files(sample_pdf(tmp_path, "委任状.pdf"))
    next_step(page)

    # The proxy typed the person's name: it is not read from the city's records for them.
    expect(page.get_by_role("heading", level=1)).to_have_text("介護保険を利用する方（被保険者）")
    insured = group(page, "被保険者（介護保険を利用する方）")
    expect(by_label(insured, "氏名")).to_have_value("中村 キヨ")
    expect(by_label(page, "介護保険被保険者番号")).to_have_value("")
    expect(page.get_by_text(re.compile("住民記録から入力しました"))).to_have_count(0)
    audit(page)
    by_label(page, "介護保険被保険者番号").fill("9900000001")
    by_label(page, "被保険者の個人番号（マイナンバー）").fill("1000 0000 0064")
    address = group(page, "被保険者の住所")
    by_label(address, "郵便番号").fill("2980123")
    page.get_by_role("button", name="郵便番号から住所を入力する").click()
    expect(by_label(group(page, "被保険者の住所"), "町名")).to_have_value("苅谷")
    by_label(group(page, "被保険者の住所"), "番地・号").fill("89番地")
    by_label(page, "被保険者の電話番号").fill("0470-00-0000")
    next_step(page)

    group(page, "申請の区分").get_by_role("radio", name="区分変更（状態が変わった）").check()
    by_label(page, "いまの要介護状態区分").select_option(label="要支援2")
    by_label(page, "状態が変わった理由").fill("転倒して骨折し、歩くことが難しくなったため。")
    next_step(page)
    by_label(page, "主治医の氏名").fill("大原 医師")
    by_label(page, "医療機関名").fill("いすみ中央クリニック（デモ）")
    next_step(page)
    group(page, "病院に入院、または施設に入所していますか").get_by_role(
        "radio", name="いいえ"
    ).check()
    group(page, "認定調査の日程の連絡先").get_by_role("radio", name="申請する方（代理人）").check()
    next_step(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    proxy = page.get_by_role("region", name="代理人")
    expect(proxy.get_by_text("渡辺 健")).to_be_visible()
    expect(proxy.get_by_text("ケアマネジャー（居宅介護支援事業者）")).to_be_visible()
    expect(proxy.get_by_text("委任状：委任状.pdf")).to_be_visible()
    audit(page)
    page.get_by_role("checkbox", name=re.compile("入力した内容に誤りがないこと")).check()
    page.get_by_role("button", name="この内容で申請する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    reference = page.locator(".reference").first.inner_text()

    page.get_by_role("link", name="申請一覧").click()
    mine = page.get_by_role("listitem").filter(has_text="要介護・要支援認定の申請")
    expect(mine.get_by_text("中村 キヨ さんの代理で申請")).to_be_visible()
    expect(mine.get_by_text(f"受付番号 {reference}")).to_be_visible()
    audit(page)

    # The person concerned sees it on their own list, with who applied for them.
    elderly = make_page("phone")
    elderly.goto("/my/applications")
    elderly.get_by_role("button", name="マイナンバーカードでログインする").click()
    use_card(elderly, "elderly")
    item = elderly.get_by_role("listitem").filter(has_text="要介護・要支援認定の申請")
    expect(
        item.get_by_text(
            "あなたについての申請（代理人：渡辺 健 さん・ケアマネジャー（居宅介護支援事業者））"
        )
    ).to_be_visible()
    audit(elderly)
    item.get_by_role("link", name=re.compile("申請の状況を見る")).click()
    expect(elderly.get_by_role("heading", level=1)).to_have_text("申請の状況")
    expect(elderly.get_by_text(reference)).to_be_visible()
    expect(elderly.get_by_role("link", name="この申請を取り下げる")).to_have_count(0)
    audit(elderly)
    status_url = elderly.url

    # Anyone else signed in: 404, as if there were nothing there.
    stranger = make_page("phone")
    stranger.goto("/login")
    stranger.get_by_role("button", name="マイナンバーカードでログインする").click()
    use_card(stranger, "family")
    response = stranger.goto(status_url)
    assert response.status == 404
    expect(stranger.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")


def test_a_parent_applies_for_a_child_of_the_household(make_page, audit):
    page = make_page("phone")
    start_signed_in(page, audit, "spouse")
    who = group(page, "どなたについての申請ですか")
    expect(who.get_by_role("radio", name="岬 花子 さん（同じ世帯の方）")).to_be_visible()
    who.get_by_role("radio", name="岬 ひなた さん（同じ世帯の方）").check()
    audit(page)
    next_step(page)
    # The records show the household: the child's record fills the form, shown not asked.
    expect(page.get_by_text("岬 ひなた（ミサキ ヒナタ）")).to_be_visible()
    expect(
        page.get_by_text(re.compile("市の住民記録から入力しました。この画面では変更できません"))
    ).to_be_visible()
    expect(by_label(group(page, "被保険者の住所"), "町名")).to_have_value("岬町和泉")
    audit(page)
    page.get_by_role("link", name="戻る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("どなたについての申請ですか")
    expect(
        group(page, "どなたについての申請ですか").get_by_role(
            "radio", name="岬 ひなた さん（同じ世帯の方）"
        )
    ).to_be_checked()


def test_one_button_starts_the_residents_own_application_with_their_my_number_from_the_card(
    make_page, audit
):
    """ログインしてご本人の申請を始める: no "who" page; the card page asks consent to give the
    My Number too (the procedure has a field for the resident's own number), and the field
    shows it masked, filled from the card."""
    page = make_page("phone")
    page.goto("/procedures/kaigo-koshin")
    expect(page.get_by_role("button", name="ログインして代理で申請する")).to_be_visible()
    page.get_by_role("button", name="ログインしてご本人の申請を始める").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードで本人確認")
    expect(page.get_by_text(re.compile("マイナンバー（個人番号）"))).to_be_visible()
    use_card(page, "elderly")
    expect(page.get_by_role("heading", level=1)).to_have_text("介護保険を利用する方（被保険者）")
    number = by_label(page, "被保険者の個人番号（マイナンバー）")
    expect(number).to_have_value("")
    expect(number).to_have_accessible_description(
        re.compile("マイナンバーカードの情報から入力しました.*入力済みです（●●●● ●●●● 0064）")
    )
    expect(page.get_by_text("100000000064")).to_have_count(0)
    audit(page)
    # Going back, the resident may still change whom it is for: their own is chosen.
    page.get_by_role("link", name="戻る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("どなたについての申請ですか")
    expect(
        group(page, "どなたについての申請ですか").get_by_role(
            "radio", name="ご本人（中村 キヨ さん）の申請"
        )
    ).to_be_checked()
