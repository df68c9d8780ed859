"""Paying a certificate fee (住民票の写し, 2 copies, 600 yen) in a real browser on a phone, by
every method of the mock payment service: card (and a declined card, then 3-D Secure), QR code
payment (the "scan" is the stub's app page), convenience store (paid at the stub's store
terminal; the webhook is delivered by `flask mock-pay deliver`) and Pay-easy (paid with the
stub's CLI; the webhook is lost and the portal finds out by asking). Then the counter: a clerk
charges a fee and the resident pays by scanning the screen's QR code. axe runs on every page of
the portal and of the stub."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pyotp
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from portal.catalog import load_catalog
from tests.e2e.people import by_label, group
from tests.e2e.prepared import status_page
from tests.e2e.test_catalog_journeys import complete
from tests.e2e.test_juminhyo import ROOT

JUMINHYO = load_catalog(ROOT / "procedure_catalog.yaml").procedure("juminhyo-copy")
PASSWORD = "e2e-cashier-password"


def apply_and_pay(page, audit, tmp_path, method: str) -> None:
    """住民票の写し applied for in the browser, then 手数料を支払う on the confirmation page."""
    complete(page, audit, JUMINHYO, tmp_path)
    expect(page.get_by_text("手数料：600円（未払い）")).to_be_visible()
    choose_method(page, audit, method)


def pay_from_status_page(page, audit, live_app, method: str) -> None:
    """A 住民票の写し application prepared through the engine (its journey is the test above
    and test_juminhyo.py), then 手数料を支払う from its status page."""
    page.goto(status_page(live_app, "juminhyo-copy", dict(JUMINHYO.example_answers)))
    expect(page.get_by_text("600円（未払い）").first).to_be_visible()
    choose_method(page, audit, method)


def choose_method(page, audit, method: str) -> None:
    page.get_by_role("button", name="手数料を支払う（600円）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お支払い方法を選んでください")
    audit(page)
    group(page, "お支払い方法").get_by_role("radio", name=method).check()
    page.get_by_role("button", name="次へ進む").click()


def pay_by_card(page, audit, number: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("クレジットカードで支払う")
    audit(page)
    by_label(page, "カード番号").fill(number)
    by_label(page, "有効期限（月/年）").fill("12/30")
    by_label(page, "セキュリティコード").fill("123")
    by_label(page, "カード名義（ローマ字）").fill("HANAKO ISUMI")
    page.get_by_role("button", name="600円を支払う").click()


def back_to_the_portal(page, audit) -> None:
    audit(page)
    page.get_by_role(
        "button", name=re.compile("申請サービスに戻る|支払いが終わったら押してください")
    ).click()


def expect_paid(page, audit) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("お支払いが完了しました")
    audit(page)


def test_pay_by_card_then_see_the_receipt(make_page, audit, tmp_path):
    page = make_page("phone")
    apply_and_pay(page, audit, tmp_path, "クレジットカード")
    pay_by_card(page, audit, "4242 4242 4242 4242")
    expect_paid(page, audit)  # the provider sends the browser back by itself
    page.get_by_role("link", name="領収書を表示する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("領収書")
    expect(page.get_by_role("cell", name="600円").last).to_be_visible()
    audit(page)


def test_a_declined_card_then_3d_secure(make_page, audit, live_app):
    page = make_page("phone")
    pay_from_status_page(page, audit, live_app, "クレジットカード")
    pay_by_card(page, audit, "4000 0000 0000 0002")
    back_to_the_portal(page, audit)
    expect(page.get_by_text("お支払いできませんでした").first).to_be_visible()
    audit(page)
    page.get_by_role("button", name="もう一度支払う").click()
    group(page, "お支払い方法").get_by_role("radio", name="クレジットカード").check()
    page.get_by_role("button", name="次へ進む").click()
    pay_by_card(page, audit, "4000 0000 0000 3220")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "ワンタイムパスワードを入力してください"
    )
    audit(page)
    by_label(page, "ワンタイムパスワード").fill("0000")
    page.get_by_role("button", name="認証する").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    audit(page)
    by_label(page, "ワンタイムパスワード").fill("1234")
    page.get_by_role("button", name="認証する").click()
    expect_paid(page, audit)


def test_pay_by_qr_code(make_page, audit, live_app):
    page = make_page("phone")
    pay_from_status_page(page, audit, live_app, "QRコード決済")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "QRコードを読み取って支払ってください"
    )
    audit(page)
    qr_page = page.url
    page.get_by_role("link", name="スマートフォンのアプリで読み取ったことにする（デモ）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("支払い内容の確認")
    audit(page)
    page.get_by_role("button", name="支払う").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("支払いました")
    audit(page)
    page.goto(qr_page)
    back_to_the_portal(page, audit)
    expect_paid(page, audit)


def test_pay_at_a_convenience_store(make_page, audit, live_app, live_server):
    page = make_page("phone")
    pay_from_status_page(page, audit, live_app, "コンビニ払い")
    expect(page.get_by_role("heading", level=1)).to_have_text("コンビニ払いのお支払い番号")
    number = page.locator(".reference").first.inner_text()
    back_to_the_portal(page, audit)
    expect(page.get_by_role("heading", level=1)).to_have_text("手数料のお支払い")
    expect(page.get_by_text(number)).to_be_visible()
    audit(page)
    portal_page = page.url

    store = make_page("phone")
    store.goto("/mock-pay/store")
    audit(store)
    by_label(store, "お支払い番号").fill(number)
    store.get_by_role("button", name="支払う").click()
    audit(store)
    live_server.flask("mock-pay", "deliver")  # the worker's job: the signed webhook, over HTTP
    page.goto(portal_page)  # shows what the portal knows: only the webhook can have told it
    expect_paid(page, audit)


def test_pay_easy_with_a_lost_webhook(make_page, audit, live_app, live_server):
    page = make_page("phone")
    pay_from_status_page(page, audit, live_app, "ペイジー")
    expect(page.get_by_role("heading", level=1)).to_have_text("ペイジーのお支払い番号")
    audit(page)
    number = page.locator(".reference").nth(1).inner_text()  # お客様番号
    back_to_the_portal(page, audit)
    live_server.flask("mock-pay", "store-pay", number)  # paid at an ATM; no webhook delivered
    expect(page.get_by_role("heading", level=1)).to_have_text("手数料のお支払い")
    page.get_by_role("link", name="最新のお支払い状況を確認する").click()
    expect_paid(page, audit)


def create_cashier(live_server) -> str:
    output = live_server.flask(
        "staff",
        "create",
        "e2e-cashier",
        "--name",
        "会計 花子",
        "--role",
        "clerk:shimin",
        "--password",
        PASSWORD,
    )
    uri = re.search(r"otpauth://\S+", output).group(0)
    return parse_qs(urlparse(uri).query)["secret"][0]


def test_a_clerk_takes_a_fee_at_the_counter(make_page, audit, live_server):
    secret = create_cashier(live_server)
    clerk = make_page("desktop")
    clerk.goto("/staff/login")
    by_label(clerk, "ログインID").fill("e2e-cashier")
    by_label(clerk, "パスワード").fill(PASSWORD)
    clerk.get_by_role("button", name="次へ").click()
    by_label(clerk, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).now())
    clerk.get_by_role("button", name="ログインする").click()
    clerk.get_by_role("link", name="お支払い").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("お支払い")
    audit(clerk)
    clerk.get_by_role("link", name="窓口で手数料を受け取る（キャッシュレス）").click()
    audit(clerk)
    clerk.get_by_role("button", name="QRコードを表示する").click()
    expect(clerk.get_by_role("link", name=re.compile("内容を100文字以内"))).to_be_visible()
    audit(clerk)
    by_label(clerk, "内容").fill("住民票の写し 2通")
    by_label(clerk, "金額").fill("600")
    clerk.get_by_role("button", name="QRコードを表示する").click()
    expect(clerk.get_by_role("img", name=re.compile("お支払い用のQRコード"))).to_be_visible()
    audit(clerk)

    # The resident scans the code: the phone opens the provider's page it encodes.
    engine = create_engine(live_server.database_url)
    with engine.connect() as connection:
        checkout = connection.execute(
            text("SELECT checkout_url FROM payments WHERE taken_by IS NOT NULL ORDER BY id DESC")
        ).scalar()
    engine.dispose()
    phone = make_page("phone")
    phone.goto(checkout)
    group(phone, "お支払い方法").get_by_role("radio", name="クレジットカード").check()
    phone.get_by_role("button", name="次へ進む").click()
    pay_by_card(phone, audit, "4242424242424242")

    clerk.get_by_role("button", name="状況を更新する").click()
    expect(clerk.locator(".status-tag")).to_have_text("お支払い済み")
    audit(clerk)
