"""妊娠の届出 on a phone, by keyboard only: 和暦 dates, hiragana readings, a postal-code lookup,
an upload through the file chooser, and a My Number that is masked everywhere it is shown."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.people import by_label, group, open_file_chooser_by_keyboard, sample_pdf, tab_to


def press_next(page) -> None:
    tab_to(page, page.get_by_role("button", name="次へ進む"))
    page.keyboard.press("Enter")


def test_pregnancy_notification_by_keyboard_on_a_phone(make_page, audit, tmp_path):
    page = make_page("phone")
    page.goto("/procedures/ninshin-todoke")
    audit(page)
    tab_to(page, page.get_by_role("button", name="申請を始める"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("届出をする方")
    audit(page)
    tab_to(page, group(page, "届出をする方").get_by_role("radio", name="妊娠している本人"))
    page.keyboard.press("Space")
    tab_to(page, by_label(page, "日中に連絡のつく電話番号"))
    page.keyboard.type("０９０１２３４５６７８")
    press_next(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("妊娠している方")
    mother = group(page, "妊娠している方")
    tab_to(page, by_label(mother, "氏名"))
    page.keyboard.type("大原 花子")
    page.keyboard.press("Tab")
    page.keyboard.type("おおはら はなこ")  # hiragana: stored in katakana
    page.keyboard.press("Tab")
    page.keyboard.type("平成7年6月15日")
    address = group(page, "住所")
    tab_to(page, by_label(address, "郵便番号"))
    page.keyboard.type("298-8501")
    tab_to(page, page.get_by_role("button", name="郵便番号から住所を入力する"))
    page.keyboard.press("Enter")
    # The page comes back with the address filled in and the focus on the block number.
    expect(page.get_by_role("status")).to_contain_text("郵便番号から住所を入力しました")
    expect(by_label(address, "都道府県")).to_have_value("千葉県")
    expect(by_label(address, "市区町村")).to_have_value("いすみ市")
    expect(by_label(address, "町名")).to_have_value("大原")
    expect(by_label(group(page, "妊娠している方"), "フリガナ")).to_have_value("おおはら はなこ")
    block = by_label(address, "番地・号")
    expect(block).to_be_focused()
    audit(page)
    page.keyboard.type("7400-1")
    tab_to(page, by_label(page, "個人番号（マイナンバー）"))
    page.keyboard.type("1234 5678 9012")  # wrong check digit
    press_next(page)
    expect(page).to_have_title(re.compile("^エラー："))
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(
        page.get_by_role("link", name=re.compile("個人番号（マイナンバー）は.*正しくありません"))
    ).to_be_visible()
    expect(by_label(group(page, "住所"), "番地・号")).to_have_value("7400-1")
    audit(page)
    my_number = by_label(page, "個人番号（マイナンバー）")
    tab_to(page, my_number)
    page.keyboard.press("Control+A")
    page.keyboard.type("1234 5678 9018")
    press_next(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("妊娠について")
    audit(page)
    tab_to(page, by_label(page, "出産予定日"))
    page.keyboard.type("R9.5.20")
    tab_to(
        page, group(page, "医療機関で妊娠の診断を受けましたか").get_by_role("radio", name="はい")
    )
    page.keyboard.press("Space")
    # The city's list of clinics appears once はい is chosen (a choice, not typed).
    clinic = group(page, "診断を受けた医療機関")
    tab_to(page, clinic.get_by_role("radio", name="いすみ医療センター（デモ）"))
    page.keyboard.press("Space")
    expect(by_label(page, "医療機関の名称")).to_be_hidden()
    tab_to(page, group(page, "多胎妊娠（双子など）ですか").get_by_role("radio", name="はい"))
    page.keyboard.press("ArrowDown")
    expect(
        group(page, "多胎妊娠（双子など）ですか").get_by_role("radio", name="いいえ")
    ).to_be_checked()
    tab_to(page, by_label(page, "妊娠の診断書"))
    open_file_chooser_by_keyboard(page).set_files(sample_pdf(tmp_path, "診断書.pdf"))
    press_next(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("相談したいこと")
    audit(page)
    tab_to(page, page.get_by_role("checkbox", name="体調や健康のこと"))
    page.keyboard.press("Space")
    tab_to(page, group(page, "保健師との面談の方法").get_by_role("radio", name="市役所で面談する"))
    page.keyboard.press("Space")
    press_next(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    audit(page)
    content = page.content()
    assert "123456789018" not in content and "1234 5678 9018" not in content
    expect(page.get_by_text("●●●● ●●●● 9018")).to_be_visible()
    expect(
        page.get_by_text(re.compile("大原 花子（オオハラ ハナコ） 1995年（平成7年）6月15日生"))
    ).to_be_visible()
    expect(page.get_by_text("2027年（令和9年）5月20日")).to_be_visible()
    expect(page.get_by_text("〒298-8501 千葉県いすみ市大原7400-1")).to_be_visible()
    expect(page.get_by_text("診断書.pdf")).to_be_visible()
    tab_to(page, page.get_by_role("checkbox", name="入力した内容に誤りがないことを確認しました。"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="この内容で申請する"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    audit(page)
    page.get_by_role("link", name=re.compile("申請の状況を見る")).click()
    expect(page.get_by_text("●●●● ●●●● 9018")).to_be_visible()
    assert "123456789018" not in page.content()


def test_seven_digits_of_a_postal_code_fill_the_address_without_the_button(make_page, audit):
    """With JavaScript, the postal code fills prefecture, city and town as soon as its seven
    digits are typed, and says so; a part the resident typed is never overwritten."""
    page = make_page("phone")
    page.goto("/procedures/ninshin-todoke")
    page.get_by_role("button", name="申請を始める").click()
    group(page, "届出をする方").get_by_role("radio", name="妊娠している本人").check()
    by_label(page, "日中に連絡のつく電話番号").fill("09012345678")
    page.get_by_role("button", name="次へ進む").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("妊娠している方")
    address = group(page, "住所")
    by_label(address, "郵便番号").press_sequentially("２９８０００４")
    expect(by_label(address, "都道府県")).to_have_value("千葉県")
    expect(by_label(address, "市区町村")).to_have_value("いすみ市")
    expect(by_label(address, "町名")).to_have_value("大原")
    expect(address.locator("[aria-live]")).to_have_text("住所を入力しました：千葉県いすみ市大原")
    audit(page)
    # Another code replaces what the look-up filled, but not what the resident typed.
    by_label(address, "市区町村").fill("いすみし")
    by_label(address, "郵便番号").fill("299-4503")
    expect(by_label(address, "町名")).to_have_value("岬町和泉")
    expect(by_label(address, "市区町村")).to_have_value("いすみし")
