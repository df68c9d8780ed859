"""ふりがな on the resident's pages (decision 0069): off by default, turned on from the language
menu or a form step's menu (keeping what was typed), ruby over the page's text but never over
inputs, typed answers or staff pages, one reading for screen readers, none in English."""

from __future__ import annotations

import re

from portal.furigana import strip_ruby
from tests.conftest import check_page, csrf_token
from tests.web.test_journey import ANSWERS, BASE, fill_all

APPLICANT = "/procedures/juminhyo-copy/apply/applicant"


def start_juminhyo(client) -> None:
    page = client.get("/procedures/juminhyo-copy")
    client.post("/procedures/juminhyo-copy/start", data={"csrf_token": csrf_token(page.text)})


def test_off_by_default_and_turned_on_from_the_language_menu(client):
    plain = client.get("/procedures/ninshin-todoke")
    assert "<ruby>" not in plain.text
    menu = check_page(plain).select_one(".furigana-switch a")
    assert menu.get_text() == "ふりがなをつける"
    response = client.get(menu["href"])
    assert response.status_code == 303
    assert response.headers["Location"] == "/procedures/ninshin-todoke"
    response = client.get("/procedures/ninshin-todoke")
    page = check_page(response)
    h1 = page.h1
    rubies = h1.find_all("ruby")
    assert [r.contents[0] for r in rubies] == ["妊娠", "届出"]
    assert [r.rt.get_text() for r in rubies] == ["にんしん", "とどけで"]
    # One reading for screen readers: the text as written for them, the readings hidden.
    source = h1.select_one(".furigana-source.visually-hidden")
    assert source.get_text() == "妊娠の届出"
    assert h1.select_one(".furigana")["aria-hidden"] == "true"
    assert all(r.find_parent(class_="furigana") for r in page.find_all("ruby"))
    # The text itself is unchanged once the readings are taken out.
    main = re.compile(r"<main.*</main>", re.S)
    token = re.compile(r'name="csrf_token" value="[^"]*"')
    shown, before = (token.sub("", main.search(r.text).group()) for r in (response, plain))
    assert shown != before and strip_ruby(shown) == before
    assert "<ruby>" not in str(page.title)
    assert page.select_one(".furigana-switch a").get_text() == "ふりがなをはずす"
    client.get("/?furigana=off")
    assert "<ruby>" not in client.get("/procedures/ninshin-todoke").text


def test_easy_japanese_yes_english_no(client):
    client.get("/?furigana=on")
    client.get("/?lang=easy")
    easy = check_page(client.get("/procedures/ninshin-todoke"))
    assert easy.find("ruby")
    # A reading the easy text gives in brackets already is not given twice.
    skip = easy.find("a", class_="skip-link")
    assert "ruby" not in str(skip) and "本文（ほんぶん）" in skip.get_text()
    client.get("/?lang=en")
    english = check_page(client.get("/procedures/ninshin-todoke"))
    assert not english.find("ruby") and not english.select(".furigana-switch")


def test_a_form_step_turns_it_on_keeping_what_was_typed(client):
    start_juminhyo(client)
    token = csrf_token(client.get(APPLICANT).text)
    response = client.post(
        APPLICANT,
        data={"csrf_token": token, "applicant_name": "大原 太郎", "_action": "furigana:on"},
    )
    page = check_page(response)
    # The typed name stays as typed, in the input's value (no markup in an attribute).
    assert page.find("input", attrs={"name": "applicant_name"})["value"] == "大原 太郎"
    assert not page.select(".error-summary")
    assert page.h1.find("ruby")
    labels = page.find_all("label")
    assert any(label.find("ruby") for label in labels)
    assert not page.find("option", string=lambda s: s and "<ruby" in s)
    assert all(not o.find("ruby") for o in page.find_all(["option", "textarea", "title"]))
    # The button turns it off again.
    assert page.select_one(".furigana-switch button")["value"] == "furigana:off"


def test_typed_answers_on_the_check_page_take_no_ruby(client):
    client.get("/?furigana=on")
    fill_all(client)
    page = check_page(client.get(f"{BASE}/check"))
    values = page.select(".summary-list__value")
    typed = [v for v in values if v.get_text(strip=True) == ANSWERS["applicant"]["applicant_name"]]
    assert typed and all(not v.find("ruby") for v in values)
    assert page.h1.find("ruby")  # the rest of the page has its readings


def test_staff_pages_never_take_ruby(client):
    client.get("/?furigana=on")
    response = client.get("/staff/login")
    assert "<ruby>" not in response.text
    assert "<ruby>" in client.get("/").text


def test_the_switch_keeps_the_page_s_own_parameters_and_ignores_other_values(client):
    response = client.get("/?q=hoiku&furigana=on")
    assert response.status_code == 303 and response.headers["Location"] == "/?q=hoiku"
    assert "<ruby>" in client.get("/?q=hoiku").text
    response = client.get("/?furigana=%3Cscript%3E")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "<ruby>" in client.get("/").text  # an unknown value changes nothing


def test_whole_pages_keep_their_bytes_once_the_readings_are_taken_out(client):
    """Decision 0093 (the transform on UTF-8 bytes): the home page, a step page and the check
    page (typed answers marked no-ruby) are, byte for byte, the pages without ふりがな plus the
    readings."""
    token = re.compile(r'name="csrf_token" value="[^"]*"')
    switch = re.compile(r"furigana([=:])o(?:n|ff)|ふりがなを(?:つける|はずす)")

    def without_switch(page: str) -> str:  # the switch's own link and label say on or off
        return switch.sub(r"furigana\1", token.sub("", page))

    fill_all(client)
    for url in ("/", APPLICANT, f"{BASE}/check"):
        plain = client.get(url).data.decode()
        client.get("/?furigana=on")
        shown = client.get(url).data.decode()
        client.get("/?furigana=off")
        assert "<ruby>" in shown, url
        assert without_switch(strip_ruby(shown)) == without_switch(plain), url
