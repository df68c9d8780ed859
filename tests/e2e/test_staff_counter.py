"""書かない窓口 in real browsers: a 市民課 clerk (desktop, at the counter) starts 戸籍証明書等の
交付請求 for a visitor, the visitor types their own PIN on the card-reader page, the clerk fills
the steps while talking (the card's items already filled in), and the visitor checks the answers
and applies on a second screen facing them (a phone-sized tablet, another browser context) through
a link that opens only once. The clerk's page then shows 申請済み with the reference, and the
application is on the visitor's own 申請一覧. A 転出届 (identity level "signature") is signed on
the visitor's screen with their card and signature password. axe runs on every page visited.

The visitor is 佐藤 由美 (persona `family`, living in 茂原市, requesting her family's register in
いすみ市): no other browser test files anything as her (test_acting_for only signs her in to see
a 404), and the clerk `e2e-counter` is made here.
"""

from __future__ import annotations

import datetime as dt
import re

import pyotp
from playwright.sync_api import expect

from portal.catalog import load_catalog, logic
from tests.e2e.people import by_label, fill_step, group
from tests.e2e.staff_people import create_member
from tests.e2e.test_juminhyo import REFERENCE, ROOT
from tests.e2e.test_login import PERSONAS, use_card

PROCEDURE = load_catalog(ROOT / "procedure_catalog.yaml").procedure("koseki-shomei")
ANSWERS = dict(PROCEDURE.example_answers)
VISITOR = "family"
PASSWORD = "e2e-counter-password"


def sign_in_clerk(page, audit, live_server, login_id: str, name: str) -> None:
    """A 市民課 clerk made with `flask staff create`, signed in with password and code."""
    secret = create_member(live_server, login_id, name, "clerk:shimin", PASSWORD)
    page.goto("/staff/login")
    audit(page)
    by_label(page, "ログインID").fill(login_id)
    by_label(page, "パスワード").fill(PASSWORD)
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("確認コードの入力")
    audit(page)
    by_label(page, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="ログインする").click()
    expect(page.get_by_text(f"{name}（職員）")).to_be_visible()
    audit(page)


def start_visit(clerk, audit, procedure) -> None:
    """Choose the procedure, read the visitor's card (the visitor types the PIN)."""
    clerk.goto("/staff/counter")
    expect(clerk.get_by_role("heading", level=1)).to_have_text("窓口での申請受付")
    audit(clerk)
    by_label(clerk, "手続").select_option(label=procedure.title)
    clerk.get_by_role("button", name="カードを読み取る").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("マイナンバーカードで本人確認")
    audit(clerk)
    use_card(clerk, VISITOR)


def show_link(clerk, audit) -> str:
    """From the clerk's check page, the link for the visitor's screen."""
    expect(clerk.get_by_role("heading", level=1)).to_have_text("入力内容の確認")
    clerk.get_by_role("button", name="確認用の画面を表示する").click()
    expect(clerk.get_by_role("img", name="お客様用の確認画面を開くQRコード")).to_be_visible()
    audit(clerk)
    link = clerk.get_by_role("link", name=re.compile("お客様用の確認画面を開く"))
    return link.get_attribute("href")


def test_a_counter_visit_from_the_card_to_the_visitors_confirmation(make_page, audit, live_server):
    clerk = make_page("desktop")
    sign_in_clerk(clerk, audit, live_server, "e2e-counter", "窓口 一郎")
    clerk.goto("/staff/counter")
    expect(clerk.get_by_role("heading", level=1)).to_have_text("窓口での申請受付")
    audit(clerk)
    # Reading the card without choosing a procedure: the error says what to do.
    clerk.get_by_role("button", name="カードを読み取る").click()
    expect(clerk.get_by_role("link", name="手続を選んでください")).to_be_visible()
    expect(clerk).to_have_title(re.compile("^エラー："))
    audit(clerk)
    by_label(clerk, "手続").select_option(label=PROCEDURE.title)
    clerk.get_by_role("button", name="カードを読み取る").click()

    # The card reader: the visitor chooses their card and types their own PIN.
    expect(clerk.get_by_role("heading", level=1)).to_have_text("マイナンバーカードで本人確認")
    audit(clerk)
    use_card(clerk, VISITOR)

    # The first step, filled in from the card: the clerk adds the phone number.
    expect(clerk.get_by_role("heading", level=1)).to_have_text("請求する方")
    expect(clerk.get_by_text("佐藤 由美（サトウ ユミ）")).to_be_visible()
    expect(by_label(group(clerk, "請求する方の住所"), "市区町村")).to_have_value("茂原市")
    audit(clerk)
    by_label(clerk, "日中に連絡のつく電話番号").fill("これは番号ではない")
    clerk.get_by_role("button", name="次へ進む").click()
    expect(clerk).to_have_title(re.compile("^エラー："))
    expect(by_label(clerk, "日中に連絡のつく電話番号")).to_have_value("これは番号ではない")
    audit(clerk)
    by_label(clerk, "日中に連絡のつく電話番号").fill("0475-22-1234")
    clerk.get_by_role("button", name="次へ進む").click()
    for step in PROCEDURE.steps[1:]:
        expect(clerk.get_by_role("heading", level=1)).to_have_text(step.title)
        audit(clerk)
        fill_step(clerk, step, ANSWERS)
        clerk.get_by_role("button", name="次へ進む").click()

    expect(clerk.get_by_role("heading", level=1)).to_have_text("入力内容の確認")
    expect(clerk.get_by_text("佐藤 由美").first).to_be_visible()
    audit(clerk)
    clerk.get_by_role("link", name="申請書を印刷する").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"{PROCEDURE.title} 申請書")
    expect(clerk.get_by_text("署名（ご本人）")).to_be_visible()
    audit(clerk)
    clerk.get_by_role("link", name="入力内容の確認に戻る").click()
    link = show_link(clerk, audit)

    # The visitor's screen: a phone-sized tablet facing them, with no staff session.
    visitor = make_page("phone")
    visitor.goto(link)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    expect(visitor.get_by_text("佐藤 由美（サトウ ユミ）")).to_be_visible()
    expect(visitor.get_by_role("link", name=re.compile("変更する"))).to_have_count(0)
    audit(visitor)
    # The link was for this screen only: opened again anywhere, it explains what to do.
    other = make_page("phone")
    response = other.goto(link)
    assert response.status == 404
    expect(other.get_by_role("heading", level=1)).to_have_text("この確認用の画面は使えません")
    audit(other)
    assert visitor.context.cookies() and not any(
        c["name"].endswith("staff_session") for c in visitor.context.cookies()
    )

    # The clerk sees the screen has it open.
    clerk.reload()
    expect(clerk.get_by_text("お客様用の画面で開かれました。")).to_be_visible()
    audit(clerk)

    visitor.get_by_role("button", name="この内容で申請する").click()
    expect(
        visitor.get_by_role("link", name="申請内容の確認にチェックを入れてください")
    ).to_be_visible()
    audit(visitor)
    visitor.get_by_role("checkbox", name=PROCEDURE.declaration).check()
    visitor.get_by_role("button", name="この内容で申請する").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    reference = visitor.locator(".reference").inner_text()
    assert REFERENCE.match(reference)
    expect(visitor.get_by_text("この画面を職員にお返しください。")).to_be_visible()
    audit(visitor)

    # The clerk reloads: 申請済み, with the reference and how it was confirmed.
    clerk.get_by_role("link", name="最新の状態に更新する").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("申請済み")
    expect(clerk.locator(".reference")).to_have_text(reference)
    expect(clerk.get_by_text("確認用の画面", exact=True)).to_be_visible()
    audit(clerk)
    clerk.get_by_role("link", name="窓口での申請受付に戻る").click()
    expect(clerk.get_by_role("link", name=re.compile(reference))).to_be_visible()
    audit(clerk)

    # The visitor signs in with the card later: the application is on their own list.
    visitor.goto("/my/applications")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("マイナンバーカードでログイン")
    audit(visitor)
    visitor.get_by_role("button", name="マイナンバーカードでログインする").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("マイナンバーカードで本人確認")
    audit(visitor)
    use_card(visitor, VISITOR)
    item = visitor.locator(".applications__item").filter(has_text=f"受付番号 {reference}")
    expect(item).to_be_visible()
    expect(item.get_by_role("heading", name=PROCEDURE.title)).to_be_visible()
    expect(item.locator(".status-tag")).to_have_text("申請済み")
    audit(visitor)
    assert "OK" in live_server.flask("audit", "verify")


def test_a_signature_procedure_is_signed_with_the_card_on_the_visitors_screen(
    make_page, audit, live_server
):
    """転出届 (identity level "signature"): no printout; the visitor signs on their screen with
    their own card and signature password, through the same card service as residents."""
    procedure = load_catalog(ROOT / "procedure_catalog.yaml").procedure("tenshutsu")
    examples = logic.resolve_examples(procedure.example_answers, dt.date.today())
    answers = {
        name: value
        for name, value in examples.items()
        if name != "movers"  # the visitor's household, from the records, stays
    }
    clerk = make_page("desktop")
    sign_in_clerk(clerk, audit, live_server, "e2e-counter-sign", "窓口 二郎")
    start_visit(clerk, audit, procedure)
    for step in procedure.steps:
        expect(clerk.get_by_role("heading", level=1)).to_have_text(step.title)
        audit(clerk)
        fill_step(clerk, step, answers)
        clerk.get_by_role("button", name="次へ進む").click()
    expect(clerk.get_by_text("印刷した申請書では受け付けられません", exact=False)).to_be_visible()
    link = show_link(clerk, audit)

    visitor = make_page("phone")
    visitor.goto(link)
    expect(visitor.get_by_role("heading", name="電子署名")).to_be_visible()
    audit(visitor)
    visitor.get_by_role("checkbox", name=procedure.declaration).check()
    visitor.get_by_role("button", name="署名して申請する").click()
    expect(visitor.get_by_role("heading", level=2, name="電子署名する文書")).to_be_visible()
    audit(visitor)
    group(visitor, "使うカード（デモ用）").get_by_role(
        "radio", name=PERSONAS[VISITOR]["card_label"]
    ).check()
    by_label(visitor, "署名用電子証明書のパスワード（英数字6〜16文字）").fill(
        PERSONAS[VISITOR]["sign_password"]
    )
    visitor.get_by_role("button", name="電子署名する").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    reference = visitor.locator(".reference").inner_text()
    audit(visitor)

    clerk.get_by_role("link", name="最新の状態に更新する").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("申請済み")
    expect(clerk.locator(".reference")).to_have_text(reference)
    expect(clerk.get_by_text("確認用の画面（マイナンバーカードによる電子署名）")).to_be_visible()
    audit(clerk)
