"""The postal-code look-up for the step pages' script (issue 22): seven digits fill prefecture,
city and town without the 郵便番号から住所を入力する button. A POST with the session's CSRF
token (the postal code stays out of URLs and access logs); a clear Japanese message otherwise."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token

pytestmark = pytest.mark.db

URL = "/address/postal-code"


def lookup(client, code: str, token: bool = True):
    data = {"postal_code": code}
    if token:
        data["csrf_token"] = csrf_token(client.get("/procedures/juminhyo-copy").text)
    return client.post(URL, data=data)


def test_seven_digits_give_prefecture_city_and_town(client):
    response = lookup(client, "２９８ー０００４")  # full-width, as a phone keyboard may send
    assert response.status_code == 200
    assert response.get_json() == {
        "postal_code": "298-0004",
        "prefecture": "千葉県",
        "city": "いすみ市",
        "town": "大原",
    }


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("0000000", "この郵便番号に当てはまる住所が見つかりません"),
        ("12", "郵便番号は"),
    ],
)
def test_a_code_without_an_address_says_so(client, code, message):
    response = lookup(client, code)
    assert response.status_code == 404
    assert response.get_json()["error"].startswith(message)


def test_no_lookup_without_the_csrf_token(client):
    assert lookup(client, "2980004", token=False).status_code == 400
    assert client.get(URL).status_code == 405
