"""The mock payment service's hosted pages on a phone, against the live server: payments are
created through its API over HTTP (as the portal does), then a resident pays by card (with input
errors, a declined card and 3-D Secure), by QR code (with the page that stands in for the phone
app), and with konbini and Pay-easy numbers paid at the store terminal page or by the CLI. Each
page is found by its labels and roles and audited with axe; every end of the flow returns to the
merchant's return_url with the payment id, and the API tells the outcome."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

from playwright.sync_api import expect

from tests.e2e.people import by_label, group

RETURN = "http://127.0.0.1:49151/payments/return"
API_KEY = "mock-pay-api-key"


def api(live_server, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    if method == "POST":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    request = urllib.request.Request(  # noqa: S310 - the live server on 127.0.0.1
        f"{live_server.url}/mock-pay/api{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def create_payment(live_server, **changes) -> dict:
    status, payment = api(
        live_server,
        "POST",
        "/payments",
        {
            "amount": 1200,
            "currency": "JPY",
            "reference": "R-E2E-0001",
            "description": "戸籍全部事項証明書（2通）",
            "return_url": f"{RETURN}?submission=E2E",
            **changes,
        },
    )
    assert status == 201, payment
    assert payment["checkout_url"].startswith(f"{live_server.url}/mock-pay/checkout/pay_")
    return payment


def status_of(live_server, payment: dict) -> str:
    status, body = api(live_server, "GET", f"/payments/{payment['id']}")
    assert status == 200
    return body["status"]


def open_checkout(page, payment: dict) -> None:
    """The merchant sends the resident to the hosted page; its return URL answers inside the
    browser."""
    page.route(f"{RETURN}**", lambda route: route.fulfill(body="portal", content_type="text/plain"))
    page.goto(payment["checkout_url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("お支払い方法を選んでください")


def returned(page, payment: dict, press) -> None:
    """Do `press()`: the browser goes to return_url with this payment's id added."""
    with page.expect_request(lambda r: r.url.startswith(RETURN)) as request:
        press()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.value.url).query))
    assert query == {"submission": "E2E", "payment_id": payment["id"]}
    page.wait_for_url(f"{RETURN}**")  # the portal's page has loaded


def choose(page, method: str) -> None:
    group(page, "お支払い方法").get_by_role("radio", name=method).check()
    page.get_by_role("button", name="次へ進む").click()


def fill_card(page, number: str, expiry="12/30", cvc="123", name="TARO OHARA") -> None:
    by_label(page, "カード番号").fill(number)
    by_label(page, "有効期限（月/年）").fill(expiry)
    by_label(page, "セキュリティコード").fill(cvc)
    by_label(page, "カード名義（ローマ字）").fill(name)
    page.get_by_role("button", name="1,200円を支払う").click()


def test_card_payment_with_input_errors_on_a_phone(make_page, audit, live_server):
    payment = create_payment(live_server)
    page = make_page("phone")
    open_checkout(page, payment)
    expect(page.get_by_text("1,200円")).to_be_visible()
    expect(page.get_by_text("戸籍全部事項証明書（2通）")).to_be_visible()
    expect(page.get_by_text("デモ（模擬の決済サービス）")).to_be_visible()
    audit(page)
    page.get_by_role("button", name="次へ進む").click()
    expect(page.get_by_role("link", name="支払い方法を選んでください")).to_be_visible()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page).to_have_title(re.compile("^エラー："))
    audit(page)

    choose(page, "クレジットカード")
    expect(page.get_by_role("heading", level=1)).to_have_text("クレジットカードで支払う")
    audit(page)
    fill_card(page, "4242 4242 4242 4241", expiry="01/20", cvc="12", name="大原 太郎")
    for message in (
        "カード番号が正しくありません。カードに書かれた番号を確かめてください",
        "有効期限が過ぎています。有効期限内のカードを使ってください",
        "セキュリティコードは、カードの裏面などにある3桁か4桁の数字です",
        "カード名義は、カードに書かれているとおりローマ字で入力してください（例：TARO OHARA）",
    ):
        expect(page.get_by_role("link", name=message)).to_be_visible()
    expect(by_label(page, "カード番号")).to_have_value("4242 4242 4242 4241")
    expect(by_label(page, "有効期限（月/年）")).to_have_value("01/20")
    expect(by_label(page, "カード名義（ローマ字）")).to_have_value("大原 太郎")
    expect(by_label(page, "セキュリティコード")).to_have_value("")
    audit(page)

    returned(page, payment, lambda: fill_card(page, "4242 4242 4242 4242"))
    assert status_of(live_server, payment) == "paid"

    # The hosted page of a paid payment says so and leads back.
    page.goto(payment["checkout_url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("お支払いは完了しています")
    audit(page)
    returned(page, payment, page.get_by_role("button", name="申請サービスに戻る").click)


def test_a_declined_card_and_3d_secure(make_page, audit, live_server):
    page = make_page("phone")
    declined = create_payment(live_server)
    open_checkout(page, declined)
    choose(page, "クレジットカード")
    fill_card(page, "4000 0000 0000 0002")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "カードでのお支払いができませんでした"
    )
    audit(page)
    returned(page, declined, page.get_by_role("button", name="申請サービスに戻る").click)
    assert status_of(live_server, declined) == "failed"

    secure = create_payment(live_server)
    open_checkout(page, secure)
    choose(page, "クレジットカード")
    fill_card(page, "4000 0000 0000 3220")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "ワンタイムパスワードを入力してください"
    )
    audit(page)
    by_label(page, "ワンタイムパスワード").fill("9999")
    page.get_by_role("button", name="認証する").click()
    expect(
        page.get_by_role(
            "link",
            name="ワンタイムパスワードが違います。あと2回間違えると、このお支払いは中止されます",
        )
    ).to_be_visible()
    audit(page)
    by_label(page, "ワンタイムパスワード").fill("1234")
    returned(page, secure, page.get_by_role("button", name="認証する").click)
    assert status_of(live_server, secure) == "paid"

    cancelled = create_payment(live_server)
    open_checkout(page, cancelled)
    choose(page, "クレジットカード")
    fill_card(page, "4000000000003220")
    returned(page, cancelled, page.get_by_role("button", name="キャンセル").click)
    assert status_of(live_server, cancelled) == "failed"


def test_qr_code_payment_with_the_phone_app(make_page, audit, live_server):
    payment = create_payment(live_server)
    page = make_page("phone")
    open_checkout(page, payment)
    choose(page, "QRコード決済")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "QRコードを読み取って支払ってください"
    )
    expect(page.get_by_role("img", name="支払い用のQRコード（1,200円）")).to_be_visible()
    expect(page.get_by_text("お支払い待ち", exact=True)).to_be_visible()
    audit(page)
    qr_page = page.url
    assert status_of(live_server, payment) == "pending"

    page.get_by_role("link", name="スマートフォンのアプリで読み取ったことにする（デモ）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("支払い内容の確認")
    audit(page)
    page.get_by_role("button", name="支払う").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("支払いました")
    audit(page)
    assert status_of(live_server, payment) == "paid"

    page.goto(qr_page)
    expect(page.get_by_text("お支払い済み", exact=True)).to_be_visible()
    returned(
        page, payment, page.get_by_role("button", name="支払いが終わったら押してください").click
    )


def test_konbini_at_the_store_terminal_and_payeasy_by_the_cli(make_page, audit, live_server):
    payment = create_payment(live_server)
    page = make_page("phone")
    open_checkout(page, payment)
    choose(page, "コンビニ払い")
    expect(page.get_by_role("heading", level=1)).to_have_text("コンビニ払いのお支払い番号")
    audit(page)
    number = page.locator(".reference").first.inner_text()
    assert re.fullmatch(r"\d{11}", number)
    _status, body = api(live_server, "GET", f"/payments/{payment['id']}")
    assert (body["status"], body["payment_number"]) == ("pending", number)
    returned(page, payment, page.get_by_role("button", name="申請サービスに戻る").click)

    store = make_page("phone")
    store.goto("/mock-pay/store")
    expect(store.get_by_role("heading", level=1)).to_have_text("お支払い番号で支払う")
    audit(store)
    by_label(store, "お支払い番号").fill("00000000000")
    store.get_by_role("button", name="支払う").click()
    expect(
        store.get_by_role("link", name="このお支払い番号は見つかりません。番号を確かめてください")
    ).to_be_visible()
    audit(store)
    by_label(store, "お支払い番号").fill(number)
    store.get_by_role("button", name="支払う").click()
    expect(store.get_by_role("status")).to_contain_text("お支払いを受け付けました")
    audit(store)
    assert status_of(live_server, payment) == "paid"

    payeasy = create_payment(live_server, methods=["payeasy"])
    open_checkout(page, payeasy)
    choose(page, "ペイジー")
    expect(page.get_by_role("heading", level=1)).to_have_text("ペイジーのお支払い番号")
    for label in ("収納機関番号", "お客様番号", "確認番号", "お支払い期限"):
        expect(page.get_by_text(label, exact=True)).to_be_visible()
    audit(page)
    _status, body = api(live_server, "GET", f"/payments/{payeasy['id']}")
    output = live_server.flask("mock-pay", "store-pay", body["payment_number"])
    assert output.strip() == f"paid: {payeasy['id']} (1200 JPY, payeasy)"
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("お支払い済み")
    returned(page, payeasy, page.get_by_role("button", name="申請サービスに戻る").click)


def test_the_api_refuses_without_the_key(live_server):
    request = urllib.request.Request(  # noqa: S310
        f"{live_server.url}/mock-pay/api/payments/pay_x", method="GET"
    )
    try:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
        raise AssertionError("expected 401")
    except urllib.error.HTTPError as error:
        assert error.code == 401
        assert json.loads(error.read())["error"] == "unauthorized"
