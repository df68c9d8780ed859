"""The input policy at the HTTP level (decision 0044): a refused character in a catalog field is
a message beside the field that keeps what was entered; elsewhere a Japanese 400 page or a JSON
400; the language switch never leads off the site nor echoes a long value."""

from __future__ import annotations

import datetime as dt

from portal import clock
from portal.i18n import LANGUAGES
from tests.conftest import check_page, csrf_token
from tests.web.test_engine import APPLICANT, JUMINHYO, post, start


def test_a_control_character_in_a_field_is_explained_beside_it_and_the_entry_kept(client):
    start(client)
    response = post(client, f"{JUMINHYO}/apply/applicant", {**APPLICANT, "phone": "0470\x00"})
    soup = check_page(response, 200)
    messages = [e.get_text(" ", strip=True) for e in soup.select(".error-message")]
    assert any("使用できない文字" in m for m in messages), messages
    assert (
        soup.find("input", attrs={"name": "applicant_name"})["value"]
        == (APPLICANT["applicant_name"])
    )
    # What was typed comes back with the character HTML cannot hold shown as U+FFFD (the page
    # stays valid markup: check_page hands it to the Nu Html Checker).
    assert soup.find("input", attrs={"name": "phone"})["value"] == "0470\ufffd"
    assert b"\x00" not in response.get_data()


def test_a_value_longer_than_the_field_is_explained_beside_it(client):
    start(client)
    long_name = "ア" * 3000  # past the field's limit, under the limit of every form value
    response = post(
        client, f"{JUMINHYO}/apply/applicant", {**APPLICANT, "applicant_name": long_name}
    )
    soup = check_page(response, 200)
    messages = [e.get_text(" ", strip=True) for e in soup.select(".error-message")]
    assert any("文字以内で入力してください" in m for m in messages), messages
    # Far past anything a form holds (only a tampered request sends it): the 400 page.
    huge = post(
        client, f"{JUMINHYO}/apply/applicant", {**APPLICANT, "applicant_name": "ア" * 30_000}
    )
    check_page(huge, 400)


def test_a_control_character_in_the_query_or_a_header_is_a_japanese_400(client):
    soup = check_page(client.get("/?q=a%00b"), 400)
    assert "使用できない文字" in soup.h1.get_text()
    # The 400 page's language links carry the refused path as a valid URL, never the NUL.
    refused = client.get("/procedures/juminhyo-copy%00\u0085")
    links = check_page(refused, 400).select(".language-menu a")
    assert links and all(
        a["href"].startswith("/procedures/juminhyo-copy%00%C2%85?lang=") for a in links
    )
    check_page(client.get("/", headers={"User-Agent": "a\x01b"}), 400)
    too_long = check_page(client.get("/?q=" + "x" * 600), 400)
    # The refused value is not carried into the language links of its 400 page.
    assert [a["href"] for a in too_long.select(".language-menu a")] == [
        f"/?lang={code}" for code in LANGUAGES
    ]


def test_the_booking_form_explains_a_control_character_beside_the_field(client):
    clock.set_override(dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC))
    url = "/appointments/shimin-main/2026-12-01?service=juminhyo&people=1"
    page = client.get(url)
    response = client.post(
        url,
        data={
            "time": "09:00",
            "name": "夷隅\x0b花子",
            "email": "hanako@example.jp",
            "note": "よろしく",
            "csrf_token": csrf_token(page.text),
        },
    )
    soup = check_page(response, 422)
    messages = [e.get_text(" ", strip=True) for e in soup.select(".error-message")]
    assert any("使用できない文字" in m for m in messages), messages
    assert soup.find("input", attrs={"name": "email"})["value"] == "hanako@example.jp"


def test_a_form_of_choices_with_a_control_character_is_a_japanese_400(client):
    page = client.get("/resume")
    response = client.post(
        "/resume", data={"code": "AB\x00CD", "csrf_token": csrf_token(page.text)}
    )
    assert check_page(response, 400).h1.get_text().startswith("入力内容に使用できない文字")


def test_machine_endpoints_answer_json(client):
    response = client.get("/api/v1/procedures?x=a%00")
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


def test_the_language_switch_stays_on_the_site_and_echoes_no_long_value(client):
    for path in ("//evil.example/", "/%2F%2Fevil.example/", "/\\evil.example"):
        response = client.get(f"{path}?lang=en")
        assert response.status_code in (303, 404), response.status_code
        assert not response.headers.get("Location", "/").startswith(("//", "http"))
    response = client.get("/procedures/juminhyo-copy?lang=en&x=" + "z" * 400)
    assert response.headers["Location"] == "/procedures/juminhyo-copy"
    response = client.get("/appointments/shimin-main?service=juminhyo&people=1&lang=en")
    assert response.headers["Location"] == "/appointments/shimin-main?service=juminhyo&people=1"
