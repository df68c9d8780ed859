"""Issue 23 (decision 0070): who reads which language.

- Staff pages stay Japanese whatever language the (staff) session holds: the counter's step and
  check pages show the catalog's Japanese texts and Japanese chrome even with English chosen and
  an English translation of every text on the page.
- A first visit takes the browser's Accept-Language (English for en-*, never やさしい日本語), kept
  for the session; the language menu still wins.
- A page in another language built from unreviewed or missing translations says so in that
  language, with a way back to the Japanese original that keeps what was typed.
"""

from __future__ import annotations

import copy

import pytest

from portal import localization
from portal.catalog.translations import PageTexts
from tests.conftest import check_page, csrf_token
from tests.web.test_staff_counter import clerk, complete, read_card
from tests.web.test_staff_counter import staff as staff  # noqa: F401  (fixture)
from tests.web.test_staff_counter import stub as stub  # noqa: F401  (fixture)

KOSEKI = "koseki-shomei"
ENGLISH = {
    "title": "Family register certificates",
    "steps.requester.title": "About the requester",
    "steps.requester.fields.phone.label": "Phone number",
}


@pytest.fixture
def english_koseki(app):
    """An English translation of koseki-shomei's first step (reviewed), whatever the files say."""
    texts = copy.deepcopy(app.extensions["catalog_page_texts"].texts)
    texts.setdefault("en", {}).setdefault(f"procedures/{KOSEKI}", {}).update(ENGLISH)
    app.extensions["catalog_page_texts"] = PageTexts(texts)
    localization._LOCALIZED.clear()
    yield
    localization._LOCALIZED.clear()


def test_the_counter_shows_japanese_to_a_clerk_whose_session_chose_english(
    app, staff, stub, english_koseki
):
    client = clerk(app, staff)
    # The clerk's session holds English (a ?lang= link followed on a staff page).
    assert client.get("/staff/counter?lang=en").status_code == 303
    with client.session_transaction(path="/staff/") as session:
        assert session["lang"] == "en"
    public_id = read_card(client, KOSEKI)
    page = check_page(client.get(f"/staff/counter/{public_id}/apply/requester"))
    assert page.html["lang"] == "ja"
    text = page.body.get_text()
    assert "請求する方" in text and "About the requester" not in text
    assert page.find(string="Phone number") is None
    assert page.find(attrs={"lang": "en"}) is None
    # Japanese validation messages and chrome on a failed step.
    response = client.post(
        f"/staff/counter/{public_id}/apply/requester",
        data={
            "csrf_token": csrf_token(client.get(f"/staff/counter/{public_id}/apply/requester").text)
        },
    )
    page = check_page(response)
    assert page.title.get_text().startswith("エラー：")
    assert "Phone number" not in page.get_text()
    complete(app, public_id)
    page = check_page(client.get(f"/staff/counter/{public_id}/check"))
    assert "請求する方" in page.get_text() and "About the requester" not in page.get_text()
    assert page.find(attrs={"lang": "en"}) is None
    # The other staff pages too: Japanese, and no translation notice.
    for url in (
        "/staff/",
        "/staff/inbox",
        "/staff/appointments",
        f"/staff/counter/{public_id}/print",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = check_page(response)
        assert page.html["lang"] == "ja", url
        assert notice(page) is None and page.find(attrs={"lang": "en"}) is None, url
    # The same texts are English for a resident who chose English (the translation is there).
    resident = app.test_client()
    resident.get(f"/procedures/{KOSEKI}?lang=en")
    page = check_page(resident.get(f"/procedures/{KOSEKI}"))
    assert "Family register certificates" in page.get_text()


def test_a_first_visit_takes_english_from_the_browser(app):
    client = app.test_client()
    headers = {"Accept-Language": "en-GB,en;q=0.8,ja;q=0.3"}
    page = check_page(client.get("/", headers=headers))
    assert page.html["lang"] == "en"
    # No choice made and nothing stored: each request asks the header again.
    page = check_page(client.get("/", headers={"Accept-Language": "ja,en;q=0.5"}))
    assert page.html["lang"] == "ja"
    # やさしい日本語 is never chosen for the resident; an unknown language gives Japanese.
    for header, lang in (
        ("easy", "ja"),
        ("ja-easy,en;q=0.1", "ja"),
        ("fr-FR", "ja"),
        ("x" * 5000, "ja"),
        ("ja-JP,en;q=0.5", "ja"),  # the region does not lose to an exact English
        ("fr,en-GB;q=0.7,ja;q=0.3", "en"),
        ("en;q=0,ja;q=0.1", "ja"),  # q=0: not acceptable
        ("*", "ja"),
    ):
        page = check_page(client.get("/", headers={"Accept-Language": header}))
        assert page.html["lang"] == lang, header


def test_the_browsers_language_is_kept_for_the_session_and_the_menu_wins(app):
    client = app.test_client()
    headers = {"Accept-Language": "en-US"}
    # A session that exists (a draft started) keeps the guess made from the header.
    start = client.get("/procedures/juminhyo-copy", headers=headers)
    assert start.status_code == 200
    response = client.post(
        "/procedures/juminhyo-copy/start",
        data={"csrf_token": csrf_token(start.text)},
        headers=headers,
    )
    assert response.status_code in (302, 303), response.text
    client.get("/", headers=headers)
    with client.session_transaction() as session:
        assert session["lang"] == "en"
    page = check_page(client.get("/", headers={"Accept-Language": "ja"}))
    assert page.html["lang"] == "en"  # kept, not asked again
    # The language menu wins over the header.
    client.get("/?lang=ja", headers=headers)
    page = check_page(client.get("/", headers=headers))
    assert page.html["lang"] == "ja"


# --- provenance --------------------------------------------------------------------------------

JUMINHYO = "juminhyo-copy"  # translated in English, reviewed: false (a developer's draft)


def notice(page):
    return page.find(attrs={"data-translation-notice": True})


def test_a_page_of_unreviewed_english_says_so_with_a_link_to_the_japanese(app):
    client = app.test_client()
    client.get("/?lang=en")
    page = check_page(client.get(f"/procedures/{JUMINHYO}?x=1"))
    found = notice(page)
    assert found is not None and found.find_parent("main") is not None
    assert "has not yet been checked by a translator" in found.get_text()
    link = found.find("a", string="Japanese original")
    assert link["href"] == f"/procedures/{JUMINHYO}?x=1&lang=ja" and link["hreflang"] == "ja"
    assert "<!--lang-provenance" not in client.get(f"/procedures/{JUMINHYO}").text
    # The link shows the same page in Japanese, without a notice.
    response = client.get(link["href"])
    assert response.headers["Location"] == f"/procedures/{JUMINHYO}?x=1"
    page = check_page(client.get(response.headers["Location"]))
    assert page.html["lang"] == "ja" and notice(page) is None
    assert "<!--lang-provenance" not in client.get("/").text
    # やさしい日本語 says it in its own words.
    client.get("/?lang=easy")
    found = notice(check_page(client.get(f"/procedures/{JUMINHYO}")))
    assert "まだ市の係の人がたしかめていません" in found.get_text()


def test_a_page_of_reviewed_texts_only_has_no_notice(app, monkeypatch):
    class Everything:
        def get(self, lang, default=None):
            return self

        def __contains__(self, item):
            return True

    from portal import i18n

    monkeypatch.setattr(i18n, "_REVIEWED", Everything())
    # The department's inline name_en (provenance not recorded) as if a translator checked it.
    monkeypatch.setitem(
        app.jinja_env.globals,
        "catalog_text",
        lambda item, attribute: getattr(item, f"{attribute}_en", None) or getattr(item, attribute),
    )
    texts = app.extensions["catalog_page_texts"].texts
    reviewed = {
        lang: {
            unit: {path: str(text) for path, text in paths.items()} for unit, paths in units.items()
        }
        for lang, units in texts.items()
    }  # every translation as if reviewed: plain str
    app.extensions["catalog_page_texts"] = PageTexts(reviewed)
    localization._LOCALIZED.clear()
    try:
        client = app.test_client()
        client.get("/?lang=en")
        page = check_page(client.get(f"/procedures/{JUMINHYO}"))
        assert notice(page) is None, notice(page)
        assert "<!--lang-provenance" not in str(page)
    finally:
        localization._LOCALIZED.clear()


def test_the_notice_on_a_step_goes_back_to_japanese_keeping_what_was_typed(app):
    client = app.test_client()
    client.get("/?lang=en")
    start = client.get(f"/procedures/{JUMINHYO}")
    response = client.post(
        f"/procedures/{JUMINHYO}/start", data={"csrf_token": csrf_token(start.text)}
    )
    step_url = response.headers["Location"]
    page = check_page(client.get(step_url))
    button = notice(page).find("button")
    form = page.find("form", id="step-form")
    assert button["form"] == "step-form" and button.find_parent("form") is form
    # Enter in a text box presses the form's first submit button: still "next", not this one.
    first = form.find("button", type="submit")
    assert first.has_attr("hidden") and first.get("name") is None and first is not button
    assert len(page.find_all(attrs={"data-translation-notice": True})) == 1
    assert (button["name"], button["value"]) == ("_action", "lang:ja")
    typed = {
        "applicant_name": "夷隅 花子",
        "applicant_kana": "イスミ ハナコ",
        "phone": "0470-62-1111",
    }
    response = client.post(
        step_url,
        data={**typed, "csrf_token": csrf_token(client.get(step_url).text), "_action": "lang:ja"},
    )
    page = check_page(response)
    assert page.html["lang"] == "ja" and notice(page) is None
    for name, value in typed.items():
        assert page.find("input", attrs={"name": name})["value"] == value, name
