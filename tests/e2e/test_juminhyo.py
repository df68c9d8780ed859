"""住民票の写し等の交付請求 in a real browser: on a phone (with every error state), at 320 px, on
desktop, by keyboard only and without JavaScript. axe-core runs on every page visited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.catalog import load_catalog
from tests.e2e.people import by_label, fill_step, tab_to

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")
PROCEDURE = CATALOG.procedure("juminhyo-copy")
ANSWERS = dict(PROCEDURE.example_answers)
REFERENCE = re.compile(r"^ISM-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def open_procedure(page, audit) -> None:
    page.goto("/")
    expect(page).to_have_title(re.compile("手続の一覧"))
    audit(page)
    page.get_by_role("link", name=PROCEDURE.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROCEDURE.title)
    audit(page)
    page.get_by_role("button", name="申請を始める").click()


def answer_steps(page, audit, answers: dict) -> None:
    """Answer each step the portal shows, until the check-answers page."""
    for _ in range(len(PROCEDURE.steps) + 1):
        heading = page.get_by_role("heading", level=1).inner_text()
        if heading == "申請内容の確認":
            return
        step = next(s for s in PROCEDURE.steps if s.title == heading)
        audit(page)
        fill_step(page, step, answers)
        page.get_by_role("button", name="次へ進む").click()
    raise AssertionError("never reached the check-answers page")


def submit_and_read_reference(page, audit) -> str:
    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    audit(page)
    page.get_by_role("checkbox", name=PROCEDURE.declaration).check()
    page.get_by_role("button", name="この内容で申請する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    audit(page)
    reference = page.locator(".reference").inner_text()
    assert REFERENCE.match(reference)
    expect(page.get_by_role("img", name=re.compile(f"QRコード.*{reference}"))).to_be_visible()
    return reference


def assert_error_summary_focused(page, *messages: str) -> None:
    expect(page).to_have_title(re.compile("^エラー："))
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    for message in messages:
        expect(summary.get_by_role("link", name=message)).to_be_visible()


@pytest.mark.pg_smoke
def test_phone_journey_with_errors_changes_and_status(make_page, audit):
    page = make_page("phone")
    open_procedure(page, audit)

    # Nothing entered: every required field is named in the summary and at the field.
    page.get_by_role("button", name="次へ進む").click()
    assert_error_summary_focused(
        page, "氏名を入力してください", "住民票が必要な方との関係を選んでください"
    )
    audit(page)

    # A bad phone number: the message is specific and everything typed is kept.
    by_label(page, "氏名").fill(ANSWERS["applicant_name"])
    by_label(page, "氏名（フリガナ）").fill(ANSWERS["applicant_kana"])
    by_label(page, "日中に連絡のつく電話番号").fill("12345")
    page.get_by_role("radio", name="本人", exact=True).check()
    page.get_by_role("button", name="次へ進む").click()
    message = "日中に連絡のつく電話番号は0から始まる10桁または11桁の電話番号を入力してください"
    assert_error_summary_focused(page, message)
    expect(by_label(page, "氏名")).to_have_value(ANSWERS["applicant_name"])
    expect(page.get_by_role("radio", name="本人", exact=True)).to_be_checked()
    phone = by_label(page, "日中に連絡のつく電話番号")
    expect(phone).to_have_value("12345")
    expect(phone).to_have_attribute("aria-invalid", "true")
    audit(page)
    page.get_by_role("link", name=message).click()
    expect(phone).to_be_focused()
    phone.fill("０９０－１２３４－５６７８")  # full-width, as a phone keyboard may type it
    page.get_by_role("button", name="次へ進む").click()

    # 「世帯の一部の方」 needs the names; the error appears on the same page.
    expect(page.get_by_role("heading", level=1)).to_have_text("必要な住民票")
    page.get_by_role("radio", name="世帯の一部の方").check()
    page.get_by_role("button", name="次へ進む").click()
    assert_error_summary_focused(page, "住民票に載せる方の氏名を入力してください")
    audit(page)
    by_label(page, "住民票に載せる方の氏名").fill("大原 太郎\n大原 花子")
    page.get_by_role("checkbox", name="世帯主の氏名と続柄").check()
    page.get_by_role("button", name="次へ進む").click()

    # Progress is shown, and an impossible number of copies is refused.
    expect(page.get_by_text("全4ステップ中3ステップ目")).to_be_visible()
    by_label(page, "通数").fill("11")
    by_label(page, "使いみち").select_option(label="その他")
    page.get_by_role("button", name="次へ進む").click()
    assert_error_summary_focused(
        page, "通数は10以下で入力してください", "使いみち（具体的に）を入力してください"
    )
    audit(page)
    by_label(page, "通数").fill("2")
    by_label(page, "使いみち（具体的に）").fill("銀行口座の開設")
    page.get_by_role("button", name="次へ進む").click()
    page.get_by_role("radio", name="郵送で受け取る").check()
    page.get_by_role("button", name="次へ進む").click()

    # Check answers: change the copies and come back; the fee follows.
    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    expect(page.get_by_text("600円")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^変更する\s*（通数と使いみち）$")).click()
    expect(by_label(page, "通数")).to_have_value("2")
    by_label(page, "通数").fill("3")
    page.get_by_role("button", name="確認画面に戻る").click()
    expect(page.get_by_text("900円")).to_be_visible()
    expect(page.get_by_text("大原 花子")).to_be_visible()

    # The declaration is required.
    page.get_by_role("button", name="この内容で申請する").click()
    assert_error_summary_focused(page, "申請内容の確認にチェックを入れてください")
    audit(page)
    reference = submit_and_read_reference(page, audit)

    # Reopening the form after submitting shows the confirmation, not a second application.
    for path in ("check", "apply/delivery"):
        page.goto(f"/procedures/{PROCEDURE.id}/{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
        expect(page.locator(".reference")).to_have_text(reference)

    page.get_by_role("link", name=re.compile("申請の状況を見る")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請の状況")
    expect(page.locator(".status-tag")).to_have_text("申請済み")
    expect(page.get_by_text(reference)).to_be_visible()
    audit(page)
    page.get_by_role("link", name="受付票を表示・印刷する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("受付票")
    expect(page.get_by_role("button", name="このページを印刷する")).to_be_visible()
    audit(page)


def test_small_phone_320px_has_no_horizontal_scroll(make_page, audit):
    page = make_page("small")
    open_procedure(page, audit)
    page.get_by_role("button", name="次へ進む").click()
    audit(page)  # error state at 320 px
    answer_steps(page, audit, ANSWERS)
    submit_and_read_reference(page, audit)


def test_desktop_journey_and_site_pages(make_page, audit):
    page = make_page("desktop")
    open_procedure(page, audit)
    answer_steps(page, audit, ANSWERS)
    submit_and_read_reference(page, audit)
    for name, heading in (
        ("アクセシビリティ", "アクセシビリティ方針"),
        ("個人情報の取扱い", "個人情報の取扱い"),
    ):
        page.get_by_role("contentinfo").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        audit(page)


def test_unknown_procedure_shows_a_japanese_404(make_page, audit):
    page = make_page("phone")
    response = page.goto("/procedures/no-such-procedure")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")
    audit(page)
    page.get_by_role("link", name="手続の一覧に戻る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("いすみ市のオンライン手続")


def test_without_javascript(make_page, audit):
    page = make_page("phone", javascript=False)
    open_procedure(page, audit)
    page.get_by_role("button", name="次へ進む").click()
    # autofocus moves focus to the error summary without any script.
    assert_error_summary_focused(page, "氏名を入力してください")
    audit(page)
    answer_steps(page, audit, ANSWERS)
    submit_and_read_reference(page, audit)
    # The print button needs JavaScript, so it stays hidden; the text tells how to print.
    page.get_by_role("link", name=re.compile("申請の状況を見る")).click()
    page.get_by_role("link", name="受付票を表示・印刷する").click()
    expect(page.get_by_role("button", name="このページを印刷する")).to_be_hidden()
    audit(page)


def test_keyboard_only(make_page, audit):
    page = make_page("desktop")
    page.goto(f"/procedures/{PROCEDURE.id}")
    audit(page)
    # The first Tab reaches the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="本文へ移動")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("button", name="申請を始める"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("請求する方について")
    tab_to(page, by_label(page, "氏名"))
    page.keyboard.type(ANSWERS["applicant_name"])
    page.keyboard.press("Tab")
    page.keyboard.type(ANSWERS["applicant_kana"])
    page.keyboard.press("Tab")
    page.keyboard.type(ANSWERS["phone"])
    tab_to(page, page.get_by_role("radio", name="本人", exact=True))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="次へ進む"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("必要な住民票")
    tab_to(page, page.get_by_role("radio", name="請求する方本人のみ"))
    page.keyboard.press("ArrowDown")  # moves to and selects 「世帯全員」
    expect(page.get_by_role("radio", name="世帯全員")).to_be_checked()
    tab_to(page, page.get_by_role("checkbox", name="世帯主の氏名と続柄"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="次へ進む"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("通数と使いみち")
    tab_to(page, by_label(page, "通数"))
    page.keyboard.type("2")
    tab_to(page, by_label(page, "使いみち"))
    page.keyboard.press("ArrowDown")
    expect(by_label(page, "使いみち")).to_have_value("employment")
    tab_to(page, page.get_by_role("button", name="次へ進む"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("受け取り方法")
    tab_to(page, page.get_by_role("radio", name="市民課の窓口で受け取る"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="次へ進む"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    audit(page)
    tab_to(page, page.get_by_role("checkbox", name=PROCEDURE.declaration))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="この内容で申請する"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    expect(page.locator(".reference")).to_have_text(REFERENCE)
    audit(page)
