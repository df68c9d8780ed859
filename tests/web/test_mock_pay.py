"""The mock payment service through the Flask test client: the API (key, idempotency,
validation, refunds), every hosted page (each test card, 3-D Secure, the QR code and its app
page, konbini and Pay-easy numbers paid at the store terminal and by the CLI), expiry with the
clock fixed, and webhook delivery over real HTTP to a receiver started here on 127.0.0.1 (the
signature, retries with back-off, and each fault)."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal import clock
from portal.config import ConfigError, load_config
from portal.db import db
from portal.mock_pay import webhooks
from portal.mock_pay.models import MockPayEvent, MockPayment
from portal.mock_pay.signing import HEADER, verify
from tests.conftest import check_page, csrf_token, make_app

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
API = {"Authorization": "Bearer mock-pay-api-key"}
RETURN = "http://127.0.0.1:8000/payments/return?submission=S-1"
SECRET = "mock-pay-webhook-secret"


@pytest.fixture(autouse=True)
def frozen():
    clock.set_override(NOW)
    yield
    clock.set_override(None)


def request_body(**changes) -> dict:
    return {
        "amount": 300,
        "currency": "JPY",
        "reference": "R-2026-0001",
        "description": "住民票の写し（1通）",
        "return_url": RETURN,
        **changes,
    }


def create(client, key: str | None = None, **changes) -> dict:
    response = client.post(
        "/mock-pay/api/payments",
        json=request_body(**changes),
        headers={**API, "Idempotency-Key": key or uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.json
    return response.json


def fetch(client, payment_id: str) -> dict:
    response = client.get(f"/mock-pay/api/payments/{payment_id}", headers=API)
    assert response.status_code == 200, response.json
    return response.json


def page(client, url: str, status: int = 200):
    """GET a hosted page, check the invariants every page holds; (soup, CSRF token)."""
    response = client.get(url)
    soup = check_page(response, status)
    return soup, csrf_token(response.get_data(as_text=True))


def h1(soup) -> str:
    return soup.h1.get_text(strip=True)


def errors_of(soup) -> list[str]:
    summary = soup.find(class_="error-summary")
    return [a.get_text(strip=True) for a in summary.find_all("a")] if summary else []


def returned_to(response, payment_id: str) -> None:
    """The browser is sent to return_url with payment_id added (the rest of the query kept)."""
    assert response.status_code == 303, response.status_code
    location = urlsplit(response.location)
    assert location.geturl().startswith("http://127.0.0.1:8000/payments/return?")
    assert parse_qs(location.query) == {"submission": ["S-1"], "payment_id": [payment_id]}


def choose(client, payment_id: str, method: str):
    _soup, token = page(client, f"/mock-pay/checkout/{payment_id}")
    return client.post(
        f"/mock-pay/checkout/{payment_id}",
        data={"csrf_token": token, "method": method, "action": "choose"},
    )


CARD = {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123", "name": "TARO OHARA"}


def pay_card(client, payment_id: str, **changes):
    assert choose(client, payment_id, "card").status_code == 303
    _soup, token = page(client, f"/mock-pay/checkout/{payment_id}/card")
    return client.post(
        f"/mock-pay/checkout/{payment_id}/card", data={"csrf_token": token, **CARD, **changes}
    )


def paid_payment(client, **changes) -> dict:
    payment = create(client, **changes)
    returned_to(pay_card(client, payment["id"]), payment["id"])
    return fetch(client, payment["id"])


def events(app) -> list[MockPayEvent]:
    with db.session_factory() as session:
        return list(session.scalars(select(MockPayEvent).order_by(MockPayEvent.id)))


def event_types(app, payment_id: str | None = None) -> list[str]:
    return [e.type for e in events(app) if payment_id is None or e.payment_id == payment_id]


# --- The API --------------------------------------------------------------------------------


def test_the_api_wants_the_key(client):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = client.post(
            "/mock-pay/api/payments",
            json=request_body(),
            headers={**headers, "Idempotency-Key": "k"},
        )
        assert response.status_code == 401
        assert response.json["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/mock-pay/api/payments/pay_x").status_code == 401
    assert client.post("/mock-pay/api/payments/pay_x/refunds", json={}).status_code == 401


def test_create_then_read(client):
    payment = create(client, methods=["konbini", "card"])
    assert re.fullmatch(r"pay_[A-Za-z0-9]{24}", payment["id"])
    assert payment == {
        "id": payment["id"],
        "status": "created",
        "amount": 300,
        "currency": "JPY",
        "reference": "R-2026-0001",
        "description": "住民票の写し（1通）",
        "method": None,
        "checkout_url": f"http://localhost/mock-pay/checkout/{payment['id']}",
        "expires_at": "2026-11-22T02:30:00+00:00",  # 90 minutes
        "paid_at": None,
        "payment_number": None,
        "refunded_amount": 0,
    }
    assert fetch(client, payment["id"]) == payment
    missing = client.get("/mock-pay/api/payments/pay_nothing", headers=API)
    assert missing.status_code == 404 and missing.json["error"] == "payment_not_found"


def test_the_idempotency_key(client):
    first = client.post(
        "/mock-pay/api/payments", json=request_body(), headers={**API, "Idempotency-Key": "A-1"}
    )
    again = client.post(
        "/mock-pay/api/payments", json=request_body(), headers={**API, "Idempotency-Key": "A-1"}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    other = client.post(
        "/mock-pay/api/payments",
        json=request_body(amount=301),
        headers={**API, "Idempotency-Key": "A-1"},
    )
    assert other.status_code == 409 and other.json["error"] == "idempotency_key_reused"
    missing = client.post("/mock-pay/api/payments", json=request_body(), headers=API)
    assert missing.status_code == 400 and missing.json["error"] == "idempotency_key_required"
    with db.session_factory() as session:
        assert len(session.scalars(select(MockPayment)).all()) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": 0},
        {"amount": -300},
        {"amount": 300.0},
        {"amount": "300"},
        {"amount": True},
        {"amount": 10_000_000},
        {"currency": "USD"},
        {"reference": ""},
        {"reference": "R" * 101},
        {"description": 5},
        {"return_url": "/payments/return"},
        {"return_url": "javascript:alert(1)"},
        {"return_url": "ftp://example.jp/x"},
        {"return_url": "https://example.jp/x#top"},
        {"methods": []},
        {"methods": ["card", "cash"]},
        {"methods": ["card", "card"]},
        {"methods": "card"},
        {"surprise": 1},
    ],
)
def test_invalid_requests_are_refused(client, changes):
    body = request_body(**changes)
    response = client.post(
        "/mock-pay/api/payments", json=body, headers={**API, "Idempotency-Key": "k"}
    )
    assert response.status_code == 400, changes
    assert response.json["error"] == "invalid_request" and response.json["message"]


def test_a_body_that_is_not_json_is_refused(client):
    response = client.post(
        "/mock-pay/api/payments",
        data="amount=300",
        headers={**API, "Idempotency-Key": "k"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    for body in ([1, 2], "text"):
        response = client.post(
            "/mock-pay/api/payments", json=body, headers={**API, "Idempotency-Key": "k"}
        )
        assert response.status_code == 400


def test_the_api_needs_no_csrf_token_but_the_pages_do(client):
    payment = create(client)
    response = client.post(
        f"/mock-pay/checkout/{payment['id']}", data={"method": "card", "action": "choose"}
    )
    assert response.status_code == 400
    assert fetch(client, payment["id"])["method"] is None


# --- Hosted pages: choosing --------------------------------------------------------------------


def test_the_checkout_page(client):
    payment = create(client, methods=["payeasy", "card"])
    soup, token = page(client, f"/mock-pay/checkout/{payment['id']}")
    assert h1(soup) == "お支払い方法を選んでください"
    text = soup.get_text()
    assert "300円" in text and "住民票の写し（1通）" in text and "R-2026-0001" in text
    assert "デモ（模擬の決済サービス）" in soup.find(class_="demo-banner").get_text()
    legend = soup.find("legend").get_text()
    assert "お支払い方法" in legend
    labels = [label.get_text(strip=True) for label in soup.find_all("label")]
    assert labels == ["クレジットカード", "ペイジー"]  # only what the merchant offers, in order

    response = client.post(
        f"/mock-pay/checkout/{payment['id']}", data={"csrf_token": token, "action": "choose"}
    )
    soup = check_page(response, 422)
    assert errors_of(soup) == ["支払い方法を選んでください"]
    assert soup.title.get_text().startswith("エラー：")
    response = client.post(
        f"/mock-pay/checkout/{payment['id']}",
        data={"csrf_token": token, "action": "choose", "method": "qr"},  # not offered
    )
    assert response.status_code == 422

    response = client.post(
        f"/mock-pay/checkout/{payment['id']}", data={"csrf_token": token, "action": "cancel"}
    )
    returned_to(response, payment["id"])
    assert fetch(client, payment["id"])["status"] == "created"


def test_an_unknown_payment_is_the_404_page(client):
    for url in (
        "/mock-pay/checkout/pay_nothing",
        "/mock-pay/checkout/pay_nothing/card",
        "/mock-pay/3ds/pay_nothing",
        "/mock-pay/qr/pay_nothing",
        "/mock-pay/qr/pay_nothing/app",
        "/mock-pay/checkout/pay_nothing/number",
    ):
        assert client.get(url).status_code == 404, url


# --- Cards ---------------------------------------------------------------------------------


def test_the_card_that_pays(client, app):
    payment = create(client)
    assert choose(client, payment["id"], "card").location.endswith("/card")
    soup, token = page(client, f"/mock-pay/checkout/{payment['id']}/card")
    assert h1(soup) == "クレジットカードで支払う"
    for name, autocomplete in (
        ("number", "cc-number"),
        ("expiry", "cc-exp"),
        ("cvc", "cc-csc"),
        ("name", "cc-name"),
    ):
        assert soup.find("input", attrs={"name": name})["autocomplete"] == autocomplete
    response = client.post(
        f"/mock-pay/checkout/{payment['id']}/card",
        data={
            "csrf_token": token,
            "number": "４２４２−４２４２−４２４２−４２４２",  # full width, with hyphens
            "expiry": "１２／３０",
            "cvc": "１２３",
            "name": "taro ohara",
        },
    )
    returned_to(response, payment["id"])
    paid = fetch(client, payment["id"])
    assert (paid["status"], paid["method"], paid["paid_at"]) == (
        "paid",
        "card",
        "2026-11-22T01:00:00+00:00",
    )
    assert event_types(app) == ["payment.paid"]
    body = json.loads(events(app)[0].body)
    assert body["type"] == "payment.paid" and body["data"]["payment"] == paid
    assert body["created"] == int(NOW.timestamp()) and body["id"].startswith("evt_")

    # Paid once: the page now says so, and a second submission changes nothing.
    soup, token = page(client, f"/mock-pay/checkout/{payment['id']}")
    assert h1(soup) == "お支払いは完了しています"
    response = client.post(
        f"/mock-pay/checkout/{payment['id']}/card", data={"csrf_token": token, **CARD}
    )
    assert h1(check_page(response)) == "お支払いは完了しています"
    returned_to(
        client.post(f"/mock-pay/checkout/{payment['id']}/return", data={"csrf_token": token}),
        payment["id"],
    )
    assert event_types(app) == ["payment.paid"]


def test_the_declined_card(client, app):
    payment = create(client)
    response = pay_card(client, payment["id"], number="4000 0000 0000 0002")
    soup = check_page(response)
    assert h1(soup) == "カードでのお支払いができませんでした"
    assert "お金は支払われていません" in soup.get_text()
    assert soup.find("button", string="申請サービスに戻る")
    assert fetch(client, payment["id"])["status"] == "failed"
    assert event_types(app) == ["payment.failed"]
    returned_to(
        client.post(
            f"/mock-pay/checkout/{payment['id']}/return",
            data={"csrf_token": csrf_token(response.get_data(as_text=True))},
        ),
        payment["id"],
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"number": ""}, "number", "カード番号を入力してください"),
        (
            {"number": "4242 4242 4242"},
            "number",
            "カード番号は14〜16桁の数字で入力してください（いま12桁です）",
        ),
        (
            {"number": "4242 4242 4242 4241"},
            "number",
            "カード番号が正しくありません。カードに書かれた番号を確かめてください",
        ),
        ({"number": "4242 4242 abcd 4242"}, "number", "カード番号は数字で入力してください"),
        (
            {"number": "5555 5555 5555 4444"},
            "number",
            "このデモで使えるのはテスト用のカード番号だけです（例：4242 4242 4242 4242）",
        ),
        ({"expiry": ""}, "expiry", "有効期限を入力してください"),
        ({"expiry": "2030-12"}, "expiry", "有効期限は、月/年の形で入力してください（例：12/28）"),
        ({"expiry": "13/30"}, "expiry", "有効期限の月は01〜12で入力してください（例：12/28）"),
        (
            {"expiry": "10/26"},
            "expiry",
            "有効期限が過ぎています。有効期限内のカードを使ってください",
        ),
        ({"cvc": "12"}, "cvc", "セキュリティコードは、カードの裏面などにある3桁か4桁の数字です"),
        ({"cvc": ""}, "cvc", "セキュリティコードを入力してください"),
        (
            {"name": "大原 太郎"},
            "name",
            "カード名義は、カードに書かれているとおりローマ字で入力してください（例：TARO OHARA）",
        ),
        ({"name": " "}, "name", "カード名義を入力してください"),
    ],
)
def test_card_input_errors_keep_what_was_typed(client, changes, field, message):
    payment = create(client)
    response = pay_card(client, payment["id"], **changes)
    soup = check_page(response, 422)
    assert errors_of(soup) == [message]
    assert soup.find("a", string=message)["href"] == f"#f-{field}"
    box = soup.find("input", attrs={"name": field})
    assert box["aria-invalid"] == "true"
    assert f"f-{field}-error" in box["aria-describedby"]
    typed = {**CARD, **changes}
    for name in ("number", "expiry", "name"):
        assert soup.find("input", attrs={"name": name})["value"] == typed[name].strip()
    assert soup.find("input", attrs={"name": "cvc"})["value"] == ""  # never sent back
    assert fetch(client, payment["id"])["status"] == "created"


def test_this_month_is_still_valid(client):
    payment = create(client)
    returned_to(pay_card(client, payment["id"], expiry="11/26"), payment["id"])


def test_3d_secure(client, app):
    payment = create(client)
    response = pay_card(client, payment["id"], number="4000 0000 0000 3220")
    assert response.status_code == 303
    assert response.location == f"/mock-pay/3ds/{payment['id']}"
    soup, token = page(client, response.location)
    assert h1(soup) == "ワンタイムパスワードを入力してください"
    assert "3220" in soup.get_text()
    assert fetch(client, payment["id"])["status"] == "created"
    # Going back to the checkout page leads to the challenge again.
    assert client.get(f"/mock-pay/checkout/{payment['id']}/card").status_code == 200

    url = f"/mock-pay/3ds/{payment['id']}"
    response = client.post(url, data={"csrf_token": token, "otp": ""})
    assert errors_of(check_page(response, 422)) == ["ワンタイムパスワードを入力してください"]
    response = client.post(url, data={"csrf_token": token, "otp": "9999"})
    assert errors_of(check_page(response, 422)) == [
        "ワンタイムパスワードが違います。あと2回間違えると、このお支払いは中止されます"
    ]
    returned_to(client.post(url, data={"csrf_token": token, "otp": "１２３４"}), payment["id"])
    assert fetch(client, payment["id"])["status"] == "paid"
    assert event_types(app) == ["payment.paid"]
    assert h1(check_page(client.get(url))) == "お支払いは完了しています"


def test_3d_secure_cancelled_or_failed(client, app):
    cancelled = create(client)
    pay_card(client, cancelled["id"], number="4000000000003220")
    _soup, token = page(client, f"/mock-pay/3ds/{cancelled['id']}")
    response = client.post(
        f"/mock-pay/3ds/{cancelled['id']}", data={"csrf_token": token, "action": "cancel"}
    )
    returned_to(response, cancelled["id"])
    assert fetch(client, cancelled["id"])["status"] == "failed"

    failed = create(client)
    pay_card(client, failed["id"], number="4000000000003220")
    for _ in range(2):
        response = client.post(
            f"/mock-pay/3ds/{failed['id']}", data={"csrf_token": token, "otp": "0000"}
        )
        assert response.status_code == 422
    response = client.post(
        f"/mock-pay/3ds/{failed['id']}", data={"csrf_token": token, "otp": "0000"}
    )
    soup = check_page(response)
    assert h1(soup) == "お支払いできませんでした"
    assert "3回続けて間違えた" in soup.get_text()
    assert fetch(client, failed["id"])["status"] == "failed"
    assert event_types(app) == ["payment.failed", "payment.failed"]


# --- QR code -------------------------------------------------------------------------------


def test_qr_code_payment(client, app):
    payment = create(client)
    response = choose(client, payment["id"], "qr")
    assert response.location == f"/mock-pay/qr/{payment['id']}"
    assert fetch(client, payment["id"])["status"] == "pending"
    soup, token = page(client, response.location)
    assert h1(soup) == "QRコードを読み取って支払ってください"
    assert soup.find(class_="status-tag").get_text() == "お支払い待ち"
    assert soup.find("svg", attrs={"role": "img"})["aria-label"] == "支払い用のQRコード（300円）"
    link = soup.find("a", string="スマートフォンのアプリで読み取ったことにする（デモ）")
    assert link["href"] == f"/mock-pay/qr/{payment['id']}/app"
    assert soup.find("button", string="支払いが終わったら押してください")
    # The checkout page now leads to the QR code.
    assert client.get(f"/mock-pay/checkout/{payment['id']}").location == response.location

    soup, _ = page(client, link["href"])
    assert h1(soup) == "支払い内容の確認"
    response = client.post(link["href"], data={"csrf_token": token})
    soup = check_page(response)
    assert h1(soup) == "支払いました"
    assert fetch(client, payment["id"])["status"] == "paid"
    response = client.post(link["href"], data={"csrf_token": token})  # pressed twice
    assert h1(check_page(response)) == "お支払い済み"
    assert event_types(app) == ["payment.pending", "payment.paid"]

    soup, _ = page(client, f"/mock-pay/qr/{payment['id']}")
    assert soup.find(class_="status-tag").get_text() == "お支払い済み"
    response = client.post(f"/mock-pay/checkout/{payment['id']}/return", data={"csrf_token": token})
    returned_to(response, payment["id"])


def test_the_qr_code_encodes_the_app_page(client):
    from portal.qr import qr_svg

    payment = create(client)
    choose(client, payment["id"], "qr")
    soup, _ = page(client, f"/mock-pay/qr/{payment['id']}")
    expected = qr_svg(f"http://localhost/mock-pay/qr/{payment['id']}/app", "x")
    drawn = re.search(r' d="([^"]+)"', str(soup.find("svg"))).group(1)
    assert drawn in str(expected)


# --- Konbini, Pay-easy, the store terminal ---------------------------------------------------


def test_konbini_number_paid_at_the_store(client, app):
    payment = create(client)
    response = choose(client, payment["id"], "konbini")
    assert response.location == f"/mock-pay/checkout/{payment['id']}/number"
    pending = fetch(client, payment["id"])
    assert pending["status"] == "pending" and pending["method"] == "konbini"
    assert re.fullmatch(r"[1-9]\d{10}", pending["payment_number"])
    assert pending["expires_at"] == "2026-11-25T01:00:00+00:00"  # 3 days after it was issued

    soup, token = page(client, response.location)
    assert h1(soup) == "コンビニ払いのお支払い番号"
    text = soup.get_text()
    assert pending["payment_number"] in text
    assert "2026年11月25日 10時00分まで" in text  # shown in Japan time
    assert soup.find("button", string="申請サービスに戻る")

    soup, _ = page(client, "/mock-pay/store")
    assert h1(soup) == "お支払い番号で支払う"
    response = client.post("/mock-pay/store", data={"csrf_token": token, "number": "12345678901"})
    soup = check_page(response, 422)
    assert errors_of(soup) == ["このお支払い番号は見つかりません。番号を確かめてください"]
    assert soup.find("input", attrs={"name": "number"})["value"] == "12345678901"
    response = client.post("/mock-pay/store", data={"csrf_token": token, "number": "123"})
    assert errors_of(check_page(response, 422)) == [
        "お支払い番号は、コンビニ払いは11桁、ペイジーはお客様番号16桁の数字で入力してください"
    ]

    number = pending["payment_number"]
    typed = f"{number[:4]}-{number[4:8]}-{number[8:]}"
    soup = check_page(client.post("/mock-pay/store", data={"csrf_token": token, "number": typed}))
    assert soup.find(class_="panel").h2.get_text() == "お支払いを受け付けました"
    paid = fetch(client, payment["id"])
    assert paid["status"] == "paid" and paid["paid_at"] == "2026-11-22T01:00:00+00:00"
    response = client.post("/mock-pay/store", data={"csrf_token": token, "number": number})
    assert errors_of(check_page(response, 422)) == ["このお支払い番号は、もう支払い済みです"]
    assert event_types(app) == ["payment.pending", "payment.paid"]
    soup, _ = page(client, f"/mock-pay/checkout/{payment['id']}/number")
    assert h1(soup) == "お支払い済み"


def test_payeasy_numbers_and_the_cli(client, app):
    payment = create(client)
    choose(client, payment["id"], "payeasy")
    pending = fetch(client, payment["id"])
    assert re.fullmatch(r"[1-9]\d{15}", pending["payment_number"])
    soup, _ = page(client, f"/mock-pay/checkout/{payment['id']}/number")
    assert h1(soup) == "ペイジーのお支払い番号"
    facts = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in soup.find_all(class_="facts__row")
    }
    assert facts["収納機関番号"] == "58091"
    assert facts["お客様番号"] == pending["payment_number"]
    assert re.fullmatch(r"\d{4}", facts["確認番号"])

    runner = app.test_cli_runner()
    result = runner.invoke(args=["mock-pay", "store-pay", pending["payment_number"]])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"paid: {payment['id']} (300 JPY, payeasy)"
    assert fetch(client, payment["id"])["status"] == "paid"
    result = runner.invoke(args=["mock-pay", "store-pay", pending["payment_number"]])
    assert result.exit_code == 1 and "already paid" in result.output
    result = runner.invoke(args=["mock-pay", "store-pay", "99999999999"])
    assert result.exit_code == 1 and "no payment has this number" in result.output


def test_an_expired_number_is_refused_at_the_store(client, app):
    payment = create(client)
    choose(client, payment["id"], "konbini")
    number = fetch(client, payment["id"])["payment_number"]
    clock.set_override(NOW + dt.timedelta(days=3))
    _soup, token = page(client, "/mock-pay/store")
    response = client.post("/mock-pay/store", data={"csrf_token": token, "number": number})
    assert errors_of(check_page(response, 422)) == [
        "このお支払い番号は、お支払い期限が過ぎています。申請サービスで、もう一度お支払いの手続をしてください"
    ]
    assert fetch(client, payment["id"])["status"] == "expired"
    assert event_types(app) == ["payment.pending", "payment.expired"]
    result = app.test_cli_runner().invoke(args=["mock-pay", "store-pay", number])
    assert result.exit_code == 1 and "expired" in result.output


# --- Refunds -------------------------------------------------------------------------------


def refund(client, payment_id: str, amount, reason="還付（二重払い）", key=None):
    headers = {**API, **({"Idempotency-Key": key} if key else {})}
    return client.post(
        f"/mock-pay/api/payments/{payment_id}/refunds",
        json={"amount": amount, "reason": reason},
        headers=headers,
    )


def test_refunds(client, app):
    payment = paid_payment(client)
    first = refund(client, payment["id"], 100)
    assert first.status_code == 201
    assert re.fullmatch(r"re_[A-Za-z0-9]{24}", first.json["id"])
    assert first.json == {
        "id": first.json["id"],
        "payment_id": payment["id"],
        "amount": 100,
        "status": "succeeded",
    }
    partly = fetch(client, payment["id"])
    assert (partly["status"], partly["refunded_amount"]) == ("paid", 100)

    too_much = refund(client, payment["id"], 201)
    assert too_much.status_code == 400 and too_much.json["error"] == "amount_too_large"
    for bad in (0, -1, "200", None):
        assert refund(client, payment["id"], bad).status_code == 400
    assert refund(client, payment["id"], 1, reason="").status_code == 400

    rest = refund(client, payment["id"], 200, key="refund-2")
    assert rest.status_code == 201
    assert refund(client, payment["id"], 200, key="refund-2").json == rest.json  # replayed
    assert refund(client, payment["id"], 200, key="refund-2").status_code == 200
    done = fetch(client, payment["id"])
    assert (done["status"], done["refunded_amount"]) == ("refunded", 300)
    again = refund(client, payment["id"], 1)
    assert again.status_code == 409 and again.json["error"] == "payment_not_refundable"
    assert event_types(app) == ["payment.paid", "payment.refunded", "payment.refunded"]
    bodies = [json.loads(e.body)["data"]["payment"] for e in events(app)]
    assert [(b["status"], b["refunded_amount"]) for b in bodies] == [
        ("paid", 0),
        ("paid", 100),
        ("refunded", 300),
    ]

    unpaid = create(client)
    assert refund(client, unpaid["id"], 100).status_code == 409
    assert refund(client, "pay_nothing", 100).status_code == 404


# --- Expiry --------------------------------------------------------------------------------


def test_a_card_payment_expires_after_90_minutes(client, app):
    payment = create(client)
    clock.set_override(NOW + dt.timedelta(minutes=89, seconds=59))
    assert fetch(client, payment["id"])["status"] == "created"
    clock.set_override(NOW + dt.timedelta(minutes=90))
    assert fetch(client, payment["id"])["status"] == "expired"
    assert event_types(app) == ["payment.expired"]
    soup, token = page(client, f"/mock-pay/checkout/{payment['id']}")
    assert h1(soup) == "お支払いの期限が過ぎました"
    response = client.post(
        f"/mock-pay/checkout/{payment['id']}/card", data={"csrf_token": token, **CARD}
    )
    assert h1(check_page(response)) == "お支払いの期限が過ぎました"
    assert event_types(app) == ["payment.expired"]  # once


def test_a_qr_payment_cannot_be_paid_after_its_time(client, app):
    payment = create(client)
    choose(client, payment["id"], "qr")
    _soup, token = page(client, f"/mock-pay/qr/{payment['id']}/app")
    clock.set_override(NOW + dt.timedelta(minutes=91))
    response = client.post(f"/mock-pay/qr/{payment['id']}/app", data={"csrf_token": token})
    assert h1(check_page(response)) == "お支払いの期限切れ"
    assert event_types(app) == ["payment.pending", "payment.expired"]


def test_the_delivery_job_expires_what_ran_out(client, app, receiver):
    card = create(client)
    konbini = create(client)
    choose(client, konbini["id"], "konbini")
    paid = paid_payment(client)
    config = {**app.config, "PAYMENT_WEBHOOK_URL": receiver.url}
    later = NOW + dt.timedelta(hours=2)
    counts = webhooks.deliver_due(db.session_factory, now=later, config=config)
    assert counts["expired"] == 1 and counts["delivered"] == 3
    assert fetch(client, card["id"])["status"] == "expired"
    assert fetch(client, konbini["id"])["status"] == "pending"  # 3 days
    assert fetch(client, paid["id"])["status"] == "paid"
    counts = webhooks.deliver_due(db.session_factory, now=NOW + dt.timedelta(days=3), config=config)
    assert counts["expired"] == 1 and counts["delivered"] == 1
    assert receiver.types() == [
        "payment.pending",
        "payment.paid",
        "payment.expired",
        "payment.expired",
    ]
    assert [r.event["data"]["payment"]["id"] for r in receiver.received[2:]] == [
        card["id"],
        konbini["id"],
    ]


# --- Webhooks over HTTP --------------------------------------------------------------------


class Received:
    def __init__(self, headers, body: bytes) -> None:
        self.headers = headers
        self.body = body
        self.event = json.loads(body)


class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST and answers the next status of
    `answers` (200 once they run out)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append(Received(dict(self.headers), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/payments/webhooks/mock"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def types(self) -> list[str]:
        return [r.event["type"] for r in self.received]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def deliver(app, receiver, now=NOW, **kwargs) -> dict:
    config = {**app.config, "PAYMENT_WEBHOOK_URL": receiver.url}
    return webhooks.deliver_due(db.session_factory, now=now, config=config, **kwargs)


def test_a_webhook_is_signed_and_delivered_once(client, app, receiver):
    payment = paid_payment(client)
    counts = deliver(app, receiver)
    assert counts == {
        "expired": 0,
        "delivered": 1,
        "dropped": 0,
        "retrying": 0,
        "failed": 0,
        "lost": 0,
    }
    [received] = receiver.received
    [event] = events(app)
    assert received.body == event.body.encode()  # exactly the stored bytes
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    header = received.headers[HEADER]
    assert header.startswith(f"t={int(NOW.timestamp())},v1=")
    assert verify(SECRET, received.body, header, now=int(NOW.timestamp()))
    assert not verify("other", received.body, header, now=int(NOW.timestamp()))
    assert received.event == {
        "id": event.event_id,
        "type": "payment.paid",
        "created": int(NOW.timestamp()),
        "data": {"payment": payment},
    }
    assert "住民票の写し（1通）" in received.body.decode("utf-8")  # UTF-8, not \u escapes
    assert (event.status, event.attempts, event.delivered_at) == ("delivered", 1, NOW)
    assert deliver(app, receiver, now=NOW + dt.timedelta(days=1))["delivered"] == 0
    assert len(receiver.received) == 1


def test_a_failing_receiver_is_retried_with_back_off_then_given_up(client, app, receiver):
    paid_payment(client)
    receiver.answers = [500] * 6
    at = NOW
    waits = [
        dt.timedelta(seconds=10),
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=30),
        dt.timedelta(hours=2),
    ]
    for attempt, wait in enumerate(waits, start=1):
        assert deliver(app, receiver, now=at)["retrying"] == 1
        [event] = events(app)
        assert (event.status, event.attempts, event.last_error) == ("pending", attempt, "HTTP 500")
        assert event.next_attempt_at == at + wait
        assert deliver(app, receiver, now=at + wait - dt.timedelta(seconds=1))["retrying"] == 0
        at += wait
    assert deliver(app, receiver, now=at)["failed"] == 1
    [event] = events(app)
    assert (event.status, event.attempts) == ("failed", 6)
    assert len(receiver.received) == 6
    assert deliver(app, receiver, now=at + dt.timedelta(days=1)) == dict.fromkeys(
        webhooks.OUTCOMES, 0
    )


def test_a_receiver_that_recovers_gets_the_event(client, app, receiver):
    paid_payment(client)
    receiver.answers = [503]
    assert deliver(app, receiver)["retrying"] == 1
    assert deliver(app, receiver, now=NOW + dt.timedelta(seconds=10))["delivered"] == 1
    assert [r.event["id"] for r in receiver.received][0] == [
        r.event["id"] for r in receiver.received
    ][1]


def test_a_receiver_that_is_down_is_retried(client, app, receiver):
    paid_payment(client)
    receiver.server.shutdown()
    receiver.server.server_close()
    counts = deliver(app, receiver)
    assert counts["retrying"] == 1
    [event] = events(app)
    assert event.last_error == "ConnectionError"


def three_events(client) -> list[str]:
    return [paid_payment(client)["id"] for _ in range(3)]


def test_fault_duplicate(client, app, receiver):
    paid_payment(client)
    assert deliver(app, receiver, faults=["duplicate"])["delivered"] == 1
    first, second = receiver.received
    assert first.body == second.body and first.event["type"] == "payment.paid"
    assert verify(SECRET, second.body, second.headers[HEADER], now=int(NOW.timestamp()))


def test_fault_reorder(client, app, receiver):
    three_events(client)
    in_order = [e.event_id for e in events(app)]
    assert deliver(app, receiver, faults="reorder")["delivered"] == 3
    assert [r.event["id"] for r in receiver.received] == in_order[::-1]


def test_fault_delay(client, app, receiver):
    paid_payment(client)
    assert deliver(app, receiver, faults="delay")["delivered"] == 0
    assert (
        deliver(app, receiver, now=NOW + dt.timedelta(seconds=29), faults="delay")["delivered"] == 0
    )
    assert (
        deliver(app, receiver, now=NOW + dt.timedelta(seconds=30), faults="delay")["delivered"] == 1
    )
    assert receiver.types() == ["payment.paid"]


def test_fault_drop(client, app, receiver):
    paid_payment(client)
    assert deliver(app, receiver, faults="drop")["dropped"] == 1
    assert receiver.received == []
    [event] = events(app)
    assert (event.status, event.dropped) == ("delivered", True)
    assert deliver(app, receiver, now=NOW + dt.timedelta(hours=3))["delivered"] == 0  # lost


def test_fault_bad_signature(client, app, receiver):
    paid_payment(client)
    receiver.answers = [400]  # what a receiver that checks signatures answers
    assert deliver(app, receiver, faults="bad_signature")["retrying"] == 1
    [received] = receiver.received
    assert not verify(SECRET, received.body, received.headers[HEADER], now=int(NOW.timestamp()))
    # Without the fault, the retry is signed properly.
    assert deliver(app, receiver, now=NOW + dt.timedelta(seconds=10))["delivered"] == 1
    assert verify(
        SECRET,
        receiver.received[1].body,
        receiver.received[1].headers[HEADER],
        now=int((NOW + dt.timedelta(seconds=10)).timestamp()),
    )


def test_faults_come_from_the_configuration_on_every_run(client, app, receiver):
    three_events(client)
    app.config["MOCK_PAY_FAULTS"] = "reorder, duplicate"
    assert deliver(app, receiver, limit=2)["delivered"] == 2
    ids = [e.event_id for e in events(app)]
    assert [r.event["id"] for r in receiver.received] == [ids[1], ids[1], ids[0], ids[0]]
    app.config["MOCK_PAY_FAULTS"] = ""
    assert deliver(app, receiver)["delivered"] == 1
    assert receiver.received[-1].event["id"] == ids[2]
    with pytest.raises(ValueError, match="unknown mock-pay fault"):
        deliver(app, receiver, faults="lose")


def test_the_cli_and_the_worker_deliver(client, app, receiver):
    paid_payment(client)
    app.config["PAYMENT_WEBHOOK_URL"] = receiver.url
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mock-pay", "deliver", "--fault", "duplicate"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "mock-pay webhooks: 1 delivered, 0 dropped, 0 to retry, 0 failed, 0 lost; "
        "0 payment(s) expired"
    )
    assert len(receiver.received) == 2
    assert runner.invoke(args=["mock-pay", "deliver", "--fault", "lose"]).exit_code == 2

    paid_payment(client)
    result = runner.invoke(args=["portal", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "outbox: 0 sent, 0 to retry, 0 failed, 0 lost",
        "mock-pay webhooks: 1 delivered, 0 dropped, 0 to retry, 0 failed, 0 lost; "
        "0 payment(s) expired",
    ]
    assert len(receiver.received) == 3
    # Nothing to do: the worker prints the outbox line only.
    result = runner.invoke(args=["portal", "worker", "--once"])
    assert result.output.splitlines() == ["outbox: 0 sent, 0 to retry, 0 failed, 0 lost"]


# --- Configuration -------------------------------------------------------------------------


def production_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.jp")
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    monkeypatch.setenv("PORTAL_MALWARE_SCANNER", "clamd://127.0.0.1:3310")
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    monkeypatch.setenv("PORTAL_MAIL_SMTP_HOST", "smtp.example.jp")
    monkeypatch.setenv("PORTAL_MAIL_FROM", "noreply@isumi.example.jp")
    for name in (
        "PORTAL_TEST_CLOCK_FILE",
        "PORTAL_MOCK_JPKI_ENABLED",
        "PORTAL_DEMO_DEPLOYMENT",
        "PORTAL_MOCK_PAY_ENABLED",
        "PORTAL_MOCK_PAY_FAULTS",
        "PORTAL_PAYMENT_PROVIDER",
        "PORTAL_PAYMENT_API_KEY",
        "PORTAL_PAYMENT_WEBHOOK_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_outside_production(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    monkeypatch.delenv("PORTAL_PUBLIC_URL")  # derived from the bind address outside production
    monkeypatch.delenv("PORTAL_BIND", raising=False)
    config = load_config("development")
    assert config["PAYMENT_PROVIDER"] == "mock"
    assert config["PAYMENT_API_URL"] == "http://127.0.0.1:8000/mock-pay/api"
    assert config["PAYMENT_API_KEY"] == "mock-pay-api-key"
    assert config["PAYMENT_WEBHOOK_SECRET"] == "mock-pay-webhook-secret"
    assert config["PAYMENT_WEBHOOK_URL"] == "http://127.0.0.1:8000/payments/webhooks/mock"
    assert config["MOCK_PAY_ENABLED"] is True and config["MOCK_PAY_FAULTS"] == ""
    monkeypatch.setenv("PORTAL_MOCK_PAY_FAULTS", "drop,lose")
    with pytest.raises(ConfigError, match="PORTAL_MOCK_PAY_FAULTS: unknown mock-pay fault"):
        load_config("development")


def test_production_refuses_the_mock_unless_it_is_a_demo(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    config = load_config("production")  # no payment provider configured: no secrets needed
    assert config["MOCK_PAY_ENABLED"] is False and config["PAYMENT_PROVIDER"] == ""

    monkeypatch.setenv("PORTAL_MOCK_PAY_ENABLED", "1")
    with pytest.raises(ConfigError, match="PORTAL_MOCK_PAY_ENABLED.*PORTAL_DEMO_DEPLOYMENT=1"):
        load_config("production")
    monkeypatch.delenv("PORTAL_MOCK_PAY_ENABLED")
    monkeypatch.setenv("PORTAL_PAYMENT_PROVIDER", "mock")
    with pytest.raises(ConfigError, match="PORTAL_PAYMENT_PROVIDER=mock.*DEMO_DEPLOYMENT=1"):
        load_config("production")

    monkeypatch.setenv("PORTAL_MOCK_PAY_ENABLED", "1")
    monkeypatch.setenv("PORTAL_DEMO_DEPLOYMENT", "1")
    with pytest.raises(ConfigError, match="PORTAL_PAYMENT_API_KEY must be set in production"):
        load_config("production")
    monkeypatch.setenv("PORTAL_PAYMENT_API_KEY", "k" * 32)
    with pytest.raises(ConfigError, match="PORTAL_PAYMENT_WEBHOOK_SECRET must be set"):
        load_config("production")
    monkeypatch.setenv("PORTAL_PAYMENT_WEBHOOK_SECRET", "w" * 32)
    config = load_config("production")
    assert config["MOCK_PAY_ENABLED"] is True and config["PAYMENT_API_KEY"] == "k" * 32


def test_without_the_mock_there_are_no_pages_and_no_cli(database_url, clean_db, tmp_path):
    # clean_db: the worker below writes (the day's retention purge, the duties' periods), and
    # later tests must not find it.
    app = make_app(database_url, tmp_path, MOCK_PAY_ENABLED=False)
    client = app.test_client()
    assert client.get("/mock-pay/store").status_code == 404
    assert client.post("/mock-pay/api/payments", json={}, headers=API).status_code == 404
    result = app.test_cli_runner().invoke(args=["mock-pay", "deliver"])
    assert result.exit_code != 0
    result = app.test_cli_runner().invoke(args=["portal", "worker", "--once"])
    assert result.output.splitlines() == ["outbox: 0 sent, 0 to retry, 0 failed, 0 lost"]
