"""Validation through the pages (issue 22): a name with emoji is refused beside the field with
what was typed kept; half-width kana in a name are stored full-width; a step that failed its
checks shows what was typed again on a reload and on a return, until it is saved; the mock card
page takes a PIN typed in full-width digits, and does not count a PIN that is not four digits."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portal.db import db
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.web.test_journey import BASE, post_step, start

pytestmark = pytest.mark.db

APPLICANT = {
    "applicant_name": "大原 太郎",
    "applicant_kana": "オオハラ タロウ",
    "phone": "090-1234-5678",
    "relationship": "self",
}
STEP = f"{BASE}/apply/applicant"


def _value(page, name: str) -> str:
    return page.find("input", attrs={"name": name})["value"]


def test_a_name_with_emoji_is_refused_and_what_was_typed_is_kept(client):
    start(client)
    response = post_step(client, "applicant", APPLICANT | {"applicant_name": "大原 太郎😀"})
    page = check_page(response)
    assert "氏名に登録できない文字（😀）が含まれています。絵文字や記号は使えません。" in (
        page.get_text()
    )
    assert _value(page, "applicant_name") == "大原 太郎😀"
    assert _value(page, "phone") == "090-1234-5678"


def test_half_width_kana_in_a_name_is_stored_full_width(client, app):
    start(client)
    response = post_step(client, "applicant", APPLICANT | {"applicant_name": "ｵｵﾊﾗ ﾀﾛｳ"})
    assert response.status_code == 302, response.text[:500]
    with app.app_context():
        answers = db.session.scalar(select(Submission)).answers
    assert answers["applicant_name"] == "オオハラ タロウ"


def test_a_failed_step_keeps_what_was_typed_on_reload_and_on_return(client):
    start(client)
    typed = APPLICANT | {"applicant_name": "岬 花子", "phone": "電話はあとで"}
    page = check_page(post_step(client, "applicant", typed))
    assert page.select("[data-error-summary]")

    for _ in ("reload", "return"):
        page = check_page(client.get(STEP))
        assert _value(page, "applicant_name") == "岬 花子"
        assert _value(page, "phone") == "電話はあとで"
        assert "前に入力した内容を戻しました。まだ保存されていません。" in page.get_text()
        assert page.select("[data-error-summary]")  # and why it was not saved
        check_page(client.get(BASE))  # away to the procedure page, then back

    assert post_step(client, "applicant", typed | {"phone": "090-1111-2222"}).status_code == 302
    page = check_page(client.get(STEP))
    assert _value(page, "phone") == "09011112222"  # the saved answer
    assert "前に入力した内容を戻しました" not in page.get_text()


def _card_page(client, app) -> str:
    verifier = "v" * 50
    challenge = hashlib.sha256(verifier.encode()).digest()
    query = urlencode(
        {
            "client_id": app.config["JPKI_CLIENT_ID"],
            "redirect_uri": app.config["JPKI_REDIRECT_URIS"][0],
            "response_type": "code",
            "scope": "openid",
            "state": "s1",
            "nonce": "n1",
            "code_challenge": base64.urlsafe_b64encode(challenge).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    return f"/mock-jpki/authorize?{query}"


def _enter_pin(client, url: str, pin: str):
    token = csrf_token(client.get(url).text)
    return client.post(
        url, data={"csrf_token": token, "card": "adult", "pin": pin, "action": "login"}
    )


def test_a_pin_in_full_width_digits_is_accepted(client, app):
    response = _enter_pin(client, _card_page(client, app), "１２３４")
    assert response.status_code == 302
    assert "/login/callback?code=" in response.headers["Location"]


def test_a_pin_that_is_not_four_digits_is_not_counted_as_a_wrong_try(client, app):
    url = _card_page(client, app)
    for typed in ("12", "１２３", "abcd", "12345"):  # more slips than the card's 3 tries
        page = check_page(_enter_pin(client, url, typed))
        assert "暗証番号は数字4桁で入力してください（回数には数えていません）" in page.get_text()
    page = check_page(_enter_pin(client, url, "9999"))  # a real wrong try is counted
    assert "暗証番号が違います。あと2回間違えると、ロックされます" in page.get_text()
    response = _enter_pin(client, url, "１２３４")
    assert "/login/callback?code=" in response.headers["Location"]
