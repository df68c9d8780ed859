"""The card-reader pages of the mock service on a phone: a PIN that works, three wrong PINs that
lock the card (and it stays locked on the next login), an expired certificate; axe on each."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from pathlib import Path

import pytest
import rfc8785
import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from playwright.sync_api import expect

from tests.e2e.oidc_client import RelyingParty
from tests.e2e.people import by_label, group

PERSONAS = {
    p["id"]: p
    for p in yaml.safe_load(
        (Path(__file__).parents[2] / "portal/demo_data/people.yaml").read_text(encoding="utf-8")
    )["personas"]
}
CALLBACK = "http://127.0.0.1:49151/callback"


def open_card_reader(page, live_server) -> dict:
    """Start a login as the test relying party; the callback is answered inside the browser."""
    params = RelyingParty(live_server.url).authorization_params()
    page.route(
        f"{CALLBACK}**", lambda route: route.fulfill(body="callback", content_type="text/plain")
    )
    query = urllib.parse.urlencode({k: v for k, v in params.items() if not k.startswith("_")})
    page.goto(f"/mock-jpki/authorize?{query}")
    expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードで本人確認")
    return params


def choose_card(page, persona_id: str) -> None:
    group(page, "使うカード（デモ用）").get_by_role(
        "radio", name=PERSONAS[persona_id]["card_label"]
    ).check()


def callback_params(page, press) -> dict:
    """Do `press()` and return the query of the redirect it causes to the relying party."""
    with page.expect_request(lambda r: r.url.startswith(CALLBACK)) as callback:
        press()
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback.value.url).query))


def test_pin_entry_on_a_phone(make_page, audit, live_server):
    page = make_page("phone")
    params = open_card_reader(page, live_server)
    audit(page)
    page.get_by_role("button", name="本人確認する").click()
    expect(page.get_by_role("link", name="使うカードを選んでください")).to_be_visible()
    audit(page)
    choose_card(page, "parent")
    by_label(page, "利用者証明用電子証明書の暗証番号（数字4桁）").fill(
        PERSONAS["parent"]["auth_pin"]
    )
    result = callback_params(page, page.get_by_role("button", name="本人確認する").click)
    assert result["state"] == params["state"] and result["code"]


def test_three_wrong_pins_lock_the_card_for_good(make_page, audit, live_server):
    page = make_page("phone")
    open_card_reader(page, live_server)
    pin = by_label(page, "利用者証明用電子証明書の暗証番号（数字4桁）")
    for left in (2, 1):
        choose_card(page, "spouse")
        pin.fill("0000")
        page.get_by_role("button", name="本人確認する").click()
        expect(
            page.get_by_role(
                "link", name=f"暗証番号が違います。あと{left}回間違えると、ロックされます"
            )
        ).to_be_visible()
        expect(page.locator("[data-error-summary]")).to_be_focused()
        audit(page)
    choose_card(page, "spouse")
    pin.fill("0000")
    page.get_by_role("button", name="本人確認する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("カードがロックされています")
    expect(page.get_by_text(re.compile("市区町村の窓口で暗証番号を初期化"))).to_be_visible()
    audit(page)

    # A new login with the right PIN: still locked.
    params = open_card_reader(page, live_server)
    choose_card(page, "spouse")
    pin.fill(PERSONAS["spouse"]["auth_pin"])
    page.get_by_role("button", name="本人確認する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("カードがロックされています")
    result = callback_params(page, page.get_by_role("button", name="申請サービスに戻る").click)
    assert result["error"] == "access_denied" and result["state"] == params["state"]

    # 暗証番号の初期化 at the counter (the demo's command) unlocks it: the right PIN works again,
    # and the card is left as the other tests expect it.
    live_server.flask("mock-jpki", "reset-pin", "spouse")
    page = make_page("phone")
    params = open_card_reader(page, live_server)
    choose_card(page, "spouse")
    by_label(page, "利用者証明用電子証明書の暗証番号（数字4桁）").fill(
        PERSONAS["spouse"]["auth_pin"]
    )
    result = callback_params(page, page.get_by_role("button", name="本人確認する").click)
    assert result["code"] and result["state"] == params["state"]


def test_an_expired_certificate_and_a_bad_request(make_page, audit, live_server):
    page = make_page("phone")
    open_card_reader(page, live_server)
    choose_card(page, "expired")
    by_label(page, "利用者証明用電子証明書の暗証番号（数字4桁）").fill(
        PERSONAS["expired"]["auth_pin"]
    )
    page.get_by_role("button", name="本人確認する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("電子証明書の有効期限が切れています")
    audit(page)
    page.goto("/mock-jpki/authorize?client_id=nobody&response_type=code")
    expect(page.get_by_role("heading", level=1)).to_have_text("本人確認を始められません")
    audit(page)


def _digest(document: dict) -> str:
    raw = hashlib.sha256(rfc8785.dumps(document)).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def start_signing(page, live_server, rp, documents) -> dict:
    import json as _json

    created = rp.request(
        f"{live_server.url}/mock-jpki/sign/transactions",
        _json.dumps({"documents": documents}).encode(),
        {
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(b"test-rp:test-secret").decode(),
        },
    )
    assert created.status == 201, created.body
    transaction_id = created.json()["sign_transaction_id"]
    params = rp.authorization_params(scope="openid sign", sign_transaction_id=transaction_id)
    page.route(
        f"{CALLBACK}**", lambda route: route.fulfill(body="callback", content_type="text/plain")
    )
    query = urllib.parse.urlencode({k: v for k, v in params.items() if not k.startswith("_")})
    page.goto(f"/mock-jpki/authorize?{query}")
    params["_transaction_id"] = transaction_id
    return params


def test_one_password_signs_two_documents(make_page, audit, live_server):
    rp = RelyingParty(live_server.url)
    documents = [
        {"procedure": "hoiku-riyou", "answers": {"guardian": "大原 太郎"}},
        {"procedure": "shikyu-nintei", "answers": {"child": "大原 一郎"}},
    ]
    titles = ["保育施設等の利用申込", "支給認定の申請"]
    page = make_page("phone")
    params = start_signing(
        page,
        live_server,
        rp,
        [{"title": t, "digest": _digest(d)} for t, d in zip(titles, documents, strict=True)],
    )
    expect(page.get_by_role("heading", name="電子署名する文書")).to_be_visible()
    for title in titles:
        expect(page.get_by_role("listitem").filter(has_text=title)).to_be_visible()
    audit(page)
    choose_card(page, "adult")
    password = by_label(page, "署名用電子証明書のパスワード（英数字6〜16文字）")
    password.fill("wrong-one")
    page.get_by_role("button", name="電子署名する").click()
    expect(
        page.get_by_role("link", name="パスワードが違います。あと4回間違えると、ロックされます")
    ).to_be_visible()
    audit(page)
    choose_card(page, "adult")
    password.fill(PERSONAS["adult"]["sign_password"].lower())  # case does not matter
    code = callback_params(page, page.get_by_role("button", name="電子署名する").click)["code"]

    token = rp.token(code, params["_verifier"]).json()["access_token"]
    result = rp.request(
        f"{live_server.url}/mock-jpki/sign/transactions/{params['_transaction_id']}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    certificate = x509.load_pem_x509_certificate(result["certificate"].encode())
    root = x509.load_pem_x509_certificate(
        rp.request(f"{live_server.url}/mock-jpki/ca/root.pem").body.encode()
    )
    certificate.verify_directly_issued_by(root)
    assert PERSONAS["adult"]["name"] in certificate.subject.rfc4514_string()
    assert [s["title"] for s in result["signatures"]] == titles
    for signed, document in zip(result["signatures"], documents, strict=True):
        digest = base64.urlsafe_b64decode(_digest(document) + "=")
        signature = base64.urlsafe_b64decode(signed["signature"] + "==")
        certificate.public_key().verify(
            signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )
    # A changed document no longer matches its signature.
    tampered = base64.urlsafe_b64decode(_digest({**documents[0], "answers": {}}) + "=")
    first = base64.urlsafe_b64decode(result["signatures"][0]["signature"] + "==")
    with pytest.raises(InvalidSignature):
        certificate.public_key().verify(
            first, tampered, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )


def test_a_revoked_signature_certificate_cannot_sign(make_page, audit, live_server):
    rp = RelyingParty(live_server.url)
    page = make_page("phone")
    params = start_signing(
        page, live_server, rp, [{"title": "転出届", "digest": _digest({"x": 1})}]
    )
    choose_card(page, "moved")
    by_label(page, "署名用電子証明書のパスワード（英数字6〜16文字）").fill(
        PERSONAS["moved"]["sign_password"]
    )
    page.get_by_role("button", name="電子署名する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("署名用電子証明書が失効しています")
    expect(page.get_by_text(re.compile("引越し"))).to_be_visible()
    audit(page)
    result = callback_params(page, page.get_by_role("button", name="申請サービスに戻る").click)
    assert result["error"] == "access_denied"
    assert result["error_description"] == "signature_certificate_revoked"
    assert result["state"] == params["state"]
    crl = rp.request(f"{live_server.url}/mock-jpki/ca/crl.pem")
    assert crl.status == 200 and "BEGIN X509 CRL" in crl.body


def test_card_reader_by_keyboard_only(make_page, audit, live_server):
    from tests.e2e.people import tab_to

    page = make_page("desktop")
    params = open_card_reader(page, live_server)
    tab_to(page, group(page, "使うカード（デモ用）").get_by_role("radio").first)
    # Arrow keys move through the cards, as in any radio group.
    target = PERSONAS["gaiji"]["card_label"]
    for _ in range(len(PERSONAS)):
        if page.get_by_role("radio", name=target).is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name=target)).to_be_checked()
    tab_to(page, by_label(page, "利用者証明用電子証明書の暗証番号（数字4桁）"))
    page.keyboard.type(PERSONAS["gaiji"]["auth_pin"])
    # Enter in the PIN box means 本人確認する, not cancel.
    result = callback_params(page, lambda: page.keyboard.press("Enter"))
    assert result["code"] and result["state"] == params["state"]


def test_signing_pages_for_cards_that_cannot_sign(make_page, audit, live_server):
    rp = RelyingParty(live_server.url)
    page = make_page("phone")
    start_signing(page, live_server, rp, [{"title": "文書", "digest": _digest({"y": 2})}])
    choose_card(page, "teen-14")
    by_label(page, "署名用電子証明書のパスワード（英数字6〜16文字）").fill("ANYTHING1")
    page.get_by_role("button", name="電子署名する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "このカードには署名用電子証明書がありません"
    )
    expect(page.get_by_text(re.compile("15歳未満の方には発行されません"))).to_be_visible()
    audit(page)

    # Five wrong passwords lock signing; the page says where to reset it.
    start_signing(page, live_server, rp, [{"title": "文書", "digest": _digest({"y": 3})}])
    for _ in range(5):
        choose_card(page, "care-manager")
        by_label(page, "署名用電子証明書のパスワード（英数字6〜16文字）").fill("WRONG0000")
        page.get_by_role("button", name="電子署名する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "署名用のパスワードがロックされています"
    )
    audit(page)
    live_server.flask("mock-jpki", "reset-pin", "care-manager")  # as other tests expect it
