"""Issue 23, decision 0071: the five more languages (zh, ko, vi, pt, ne) on the resident's pages.

The translators' files merge separately, so these tests bring their own small Vietnamese: a few
catalog texts of juminhyo-copy (a PageTexts of their own, with the English of the real files)
and a few chrome strings (over whatever the real vi .po says). What they check is the
engineering: the page says it is Vietnamese, a text missing in Vietnamese shows its English
marked lang="en", a text missing in English too shows its Japanese marked lang="ja", typed
answers stay as typed, and the stored answers are those of a Japanese filing.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.messages.pofile import read_po
from flask import session
from flask_babel import get_locale

from portal import clock, i18n, localization
from portal.catalog.translations import InEnglish, PageTexts, Untranslated
from portal.db import db
from portal.demo import example_answers
from portal.i18n import FALLBACK, HTML_LANG, LANGUAGES, local_date
from portal.submissions import service
from tests.conftest import check_page, csrf_token
from tests.web.test_languages_pages import answer_juminhyo

UNIT = "procedures/juminhyo-copy"
# Vietnamese of a few texts (a fixture, not the translators' wording).
VI_TEXTS = {
    "title": "Bản sao phiếu cư trú (住民票)",
    "steps.applicant.title": "Về bạn (người yêu cầu)",
    "steps.applicant.fields.applicant_name.label": "Họ và tên",
    "steps.applicant.fields.relationship.options.self.label": "Là tôi",
}
VI_CHROME = {
    "次へ進む": "Tiếp tục",
    "入力内容に誤りがあります": "Thông tin nhập có lỗi",
    "申請内容の確認": "Kiểm tra nội dung đơn",
}
# A text with no English either: shown in Japanese.
NO_ENGLISH = "steps.applicant.fields.phone.hint"


@pytest.fixture
def vietnamese(app, monkeypatch):
    """The app with only the fixture's Vietnamese (whatever vi files exist), English as in the
    real files but for NO_ENGLISH, and the fixture's Vietnamese chrome."""
    found = app.extensions["catalog_page_texts"]
    texts = {
        lang: {unit: dict(paths) for unit, paths in units.items()}
        for lang, units in found.texts.items()
    }
    texts["vi"] = {UNIT: dict(VI_TEXTS)}
    texts["en"][UNIT].pop(NO_ENGLISH)
    monkeypatch.setitem(app.extensions, "catalog_page_texts", PageTexts(texts, FALLBACK))
    monkeypatch.setattr(localization, "_LOCALIZED", {})  # no localized procedure cached before
    real = i18n.babel_gettext

    def gettext(text):
        if str(get_locale()) == "vi":  # only the fixture's chrome, whatever vi .po exists
            return VI_CHROME.get(text, text)
        return real(text)

    monkeypatch.setattr(i18n, "babel_gettext", gettext)
    monkeypatch.setitem(app.extensions[i18n._KNOWN], "vi", {})  # nothing kept from the real .po
    return app


def vietnamese_draft(app, client) -> None:
    """A juminhyo-copy draft with every step answered (the catalog's examples), Vietnamese chosen."""
    with app.app_context():
        catalog = app.extensions["catalog"]
        procedure = catalog.procedure("juminhyo-copy")
        row, token = service.start_draft(db.session, catalog, procedure, clock.now())
        row.answers = example_answers(app, db.session, row, procedure, clock.today_local())
        row.steps_done = [step.id for step in procedure.steps]
        db.session.commit()
    with client.session_transaction() as data:
        data["drafts"] = {"juminhyo-copy": token}
        data["lang"] = "vi"


def spans(page, lang: str) -> list[str]:
    return [s.get_text() for s in page.main.find_all("span", attrs={"lang": lang})]


def test_a_step_page_reads_in_vietnamese_with_its_fallbacks_marked(vietnamese, client):
    vietnamese_draft(vietnamese, client)
    page = check_page(client.get("/procedures/juminhyo-copy/apply/applicant"))
    assert page.html["lang"] == "vi" and page.main["lang"] == "vi"
    assert page.h1.get_text(strip=True) == "Về bạn (người yêu cầu)" and not page.h1.find("span")
    assert (
        page.find("label", attrs={"for": "f-applicant_name"})
        .get_text(strip=True)
        .startswith("Họ và tên")
    )
    # Missing in Vietnamese: the English, marked; missing in English too: the Japanese, marked.
    assert "Full name in katakana (フリガナ)" in spans(page, "en")
    japanese_hint = vietnamese.extensions["catalog"].procedure("juminhyo-copy")
    phone = next(f for f in japanese_hint.steps[0].fields if f.name == "phone")
    assert phone.hint in spans(page, "ja")
    # An option: its own Vietnamese, and the English of the other, marked in the label.
    own = [label for label in page.main.find_all("label") if label.get_text(strip=True) == "Là tôi"]
    assert len(own) == 1 and not own[0].find("span")
    assert "A family member in the same household" in spans(page, "en")
    # The fixture's chrome, and the English for a chrome string it lacks ("Back").
    assert page.find("button", class_="button", string="Tiếp tục") is not None
    assert "<span" not in page.title.get_text() and "Về bạn" in page.title.get_text()


def test_a_mistake_in_vietnamese_keeps_what_was_typed(vietnamese, client):
    vietnamese_draft(vietnamese, client)
    url = "/procedures/juminhyo-copy/apply/applicant"
    token = csrf_token(client.get(url).text)
    response = client.post(
        url, data={"csrf_token": token, "applicant_name": "大原 太郎", "phone": "090-1234-5678"}
    )
    page = check_page(response)
    assert page.html["lang"] == "vi"
    title = page.select_one(".error-summary__title")
    assert title.get_text(strip=True) == "Thông tin nhập có lỗi" and title["lang"] == "vi"
    # Chrome the fixture lacks is English, and its own element says so.
    tags = {tag.get_text(): tag["lang"] for tag in page.select(".tag")}
    assert tags.get("Required") == "en" and "必須" not in tags
    prefixes = page.select(".error-message .visually-hidden")
    assert prefixes and all(p["lang"] == "en" for p in prefixes)
    messages = [a.get_text(strip=True) for a in page.select(".error-summary__list a")]
    assert messages and all(not m.startswith("フリガナ") for m in messages)
    assert page.find("input", attrs={"name": "applicant_name"})["value"] == "大原 太郎"
    assert page.find("input", attrs={"name": "applicant_kana"})["aria-invalid"] == "true"


def test_the_check_page_reads_in_vietnamese(vietnamese, client):
    vietnamese_draft(vietnamese, client)
    page = check_page(client.get("/procedures/juminhyo-copy/check"))
    assert page.html["lang"] == "vi" and page.main["lang"] == "vi"
    headings = [h.get_text(strip=True) for h in page.main.find_all("h2")]
    assert "Về bạn (người yêu cầu)" in headings
    assert "The certificate you need" in spans(page, "en")  # a step title the fixture lacks
    # Answers holding Japanese (a typed name) are marked as Japanese, as typed.
    values = page.select(".summary-list__value[lang=ja]")
    assert values and all(v.get_text(strip=True) for v in values)


def test_answers_given_in_vietnamese_are_stored_as_in_japanese(vietnamese):
    japanese = answer_juminhyo(vietnamese, vietnamese.test_client(), "ja")
    vietnamese_answers = answer_juminhyo(vietnamese, vietnamese.test_client(), "vi")
    assert vietnamese_answers == japanese
    assert japanese["applicant_name"] == "大原 太郎" and japanese["purpose_detail"] == "ビザの申請"


def test_the_language_menu_names_each_language_in_itself(client):
    page = check_page(client.get("/?lang=ko", follow_redirects=True))
    assert page.html["lang"] == "ko"
    links = page.select(".language-menu a")
    assert [(a.get_text(), a["lang"]) for a in links] == [
        (name, HTML_LANG[code]) for code, name in LANGUAGES.items()
    ]
    assert [a["lang"] for a in links if a.get("aria-current")] == ["ko"]


@pytest.mark.parametrize("lang", ["zh", "ko", "vi", "pt", "ne"])
def test_each_new_language_has_its_own_locale_and_page_lang(app, client, lang):
    page = check_page(client.get(f"/procedures/juminhyo-copy?lang={lang}", follow_redirects=True))
    assert page.html["lang"] == HTML_LANG[lang]
    assert page.find(class_="original-title", attrs={"lang": "ja"}) is not None
    with app.test_request_context():
        session["lang"] = lang
        assert str(get_locale()) == lang


def test_the_fallback_order_of_a_catalog_text():
    texts = PageTexts(
        {"vi": {"u": {"a": "văn bản"}}, "en": {"u": {"a": "text", "b": "English only"}}},
        FALLBACK,
    )
    assert texts.text("u", "a", "vi", "日本語") == "văn bản"
    english = texts.text("u", "b", "vi", "日本語")
    assert (
        isinstance(english, InEnglish)
        and english.__html__() == '<span lang="en">English only</span>'
    )
    japanese = texts.text("u", "c", "vi", "日本語")
    assert (
        isinstance(japanese, Untranslated)
        and japanese.__html__() == '<span lang="ja">日本語</span>'
    )
    # English and やさしい日本語 fall back to the Japanese only.
    assert type(texts.text("u", "c", "en", "日本語")) is Untranslated
    assert type(texts.text("u", "b", "easy", "日本語")) is Untranslated


def test_dates_are_written_in_the_language_s_way():
    day = dt.date(2026, 12, 1)
    assert local_date(day, "vi") == "1 tháng 12, 2026"
    assert local_date(day, "pt") == "1 de dezembro de 2026"
    assert local_date(day, "ko") == "2026년 12월 1일"
    assert local_date(day, "en") == "December 1, 2026"
    assert local_date(day, "ja") == local_date(day, "easy") == "2026年（令和8年）12月1日"


def test_a_chrome_string_missing_in_a_language_is_shown_in_english(app):
    """Nepali's own chrome when its .po has the string; otherwise the English (the real files)."""

    def po_text(lang: str, msgid: str) -> str | None:
        po = i18n.SOURCE / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            return None
        with po.open("rb") as file:
            message = read_po(file).get(msgid)
        return message.string if message and message.string and not message.fuzzy else None

    with app.test_request_context():
        session["lang"] = "ne"
        for msgid in ("次へ進む", "戻る"):
            expected = po_text("ne", msgid) or po_text("en", msgid)
            assert expected and i18n.translate(msgid) == expected
        assert i18n.translate("まだない文字列") == "まだない文字列"  # in no language: the id


PAGES = [
    "/",
    "/accessibility",
    "/privacy",
    "/life-events/",
    "/appointments/",
    "/procedures/tennyu-yoyaku",
    "/procedures/jidoteate-nintei",
    "/procedures/hoiku-riyou",
]


@pytest.mark.parametrize("lang", ["zh", "pt"])
def test_resident_pages_render_in_a_new_language(client, lang):
    """Whatever is translated yet: valid pages in the language, the city named in it (or in
    English, its fallback) and no catalog text left unmarked in Japanese inside a <title>."""
    client.get(f"/?lang={lang}")
    for path in PAGES:
        page = check_page(client.get(path))
        assert page.html["lang"] == HTML_LANG[lang], path
        assert "<span" not in page.title.get_text(), path
        # The city's name in the language (or its English): not the Japanese いすみ市.
        assert not re.search("[\u3040-\u30ff]", page.select_one(".site-header__home").get_text())
