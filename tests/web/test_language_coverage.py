"""Issue 23's crawl (decision 0070): every resident-facing page and state in every language.

The world of the hostile-input sweeps (tests/web/hostile.py: a signed-in resident with a draft,
a bundle, an appointment, a submitted application with its status page, receipt and payment, the
mock card and payment services, a kiosk in a visit, a helper in an assisted session), plus an
anonymous resident with a draft at every step of a few procedures and its check page, is fetched
in 日本語, やさしい日本語 and English through the Flask test client. A page fails

- in English (and any language but Japanese and やさしい日本語) on Japanese text, marked
  lang="ja" or not: text nodes, <title>, and the aria-label / title / placeholder / alt
  attributes;
- in やさしい日本語 on a text identical to the standard Japanese of the same page.

Excepted: what the resident typed (the world's answers and names, wherever shown; answers on a
check page, prefilled values, the signed-in name), the link back to the Japanese original, the
names of the language menu, the city's postal address, and an official Japanese name in ASCII
parentheses after its English (decision 0066).

Translation is in progress, so the offences found are compared with a committed baseline,
tests/web/language-coverage-baseline.yaml ({lang: {page: [text]}}), which may only shrink: the
test fails on an offence not listed and on a listed one that is gone. After translating, write
the baseline again with

    LANGUAGE_BASELINE=write .venv/bin/python -m pytest tests/web/test_language_coverage.py -n 0

and commit it (a reviewer sees in the diff that it shrank). Texts are normalized (whitespace
collapsed, digits as 0, long random ids as <id>) so a page's key and text do not depend on the
run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup, NavigableString
from sqlalchemy import select

from portal import clock
from portal.catalog import load_catalog, logic
from portal.catalog.translations import (
    FOLDER_NAME,
    catalog_folder,
    catalog_texts,
    inline_translations,
    read_translations,
)
from portal.db import db
from portal.demo import example_answers
from portal.i18n import LANGUAGES
from portal.submissions import service
from portal.submissions.models import Submission
from portal.ui_texts import ui_texts, ui_translations
from tests.catalog_files import ENTRY
from tests.conftest import csrf_token, make_app
from tests.web.hostile import LAST, NEVER_CRAWL, World
from tests.web.test_validation_pages import _card_page as card_page

BASELINE = Path(__file__).with_name("language-coverage-baseline.yaml")
WRITE = os.environ.get("LANGUAGE_BASELINE") == "write"

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\u3000-\u303f\uff01-\uff60]")
PARENTHESIZED = re.compile(r"\([^()]*\)")
KANA = re.compile(r"[\u3040-\u30fa\u30fc-\u30ff]")  # not ・, the middle dot Chinese writes too
KANJI = re.compile(r"[\u3400-\u9fff]")
# Languages written with Han characters: in an element of such a language (the page itself in
# Chinese, or a language menu's 简体中文 on any page), Han characters are that language's, and
# only kana (or a lang="ja" mark, nearer) shows Japanese — kana outside parentheses: a Chinese
# text names the official Japanese term in full-width parentheses after its own, 住民票副本
# （住民票の写し）, as English does in ASCII ones (decision 0066) — or a text that is the same as
# one of the same page in Japanese (untranslated Japanese written in kanji only, 市民課).
HAN_LANGUAGES = ("zh", "ko")
HAN_PARENTHESIZED = re.compile(r"\([^()]*\)|（[^（）]*）")
# Kanji a date, a time or a day of the week is written with, the same in every Japanese and in
# Chinese: a text that differs from the Japanese by nothing else (2026年12月1日 9時00分, 土曜日)
# is not untranslated.
CALENDAR = re.compile(r"[年月日時分曜火水木金土]|令和|平成|昭和")
ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
# Where Japanese is the resident's own or on purpose (see the module's docstring).
ALLOWED_CLASSES = {
    "summary-list__value",  # an answer, as typed
    "prefilled-value",  # a prefilled answer, as recorded
    "original-title",  # the title in Japanese under the English one
    "postal-address",  # the city's address, as posted
    "language-menu",  # 日本語, やさしい日本語
    "kiosk-languages",  # the kiosk's own language menu
    "kiosk-bar__place",  # where the kiosk stands, as the city typed it (a sign, like the address)
    "person-name",  # a person's name (a helper's, a demo card's): names are not translated
    "site-header__user",  # the signed-in name
}
# Not the resident's pages: the mock card service's machine endpoints, the APIs, the developer's
# mailbox, health checks and static files (HTML pages of the mock services are crawled).
SKIPPED_PREFIXES = ("staff", "api.", "health.", "dev_mail.", "static")
# Procedures whose every step and check page are fetched with a complete draft.
DRAFTED = ("juminhyo-copy", "tennyu-yoyaku", "jidoteate-nintei")
ACTORS = ("resident", "kiosk", "helper")
# Of the endpoints the sweeps try last (they end something when posted), those whose GET is a
# confirmation page that changes nothing.
CONFIRMATION_PAGES = {"submissions.withdraw", "appointments.cancel"}


@pytest.fixture
def world(database_url, clean_db, tmp_path):
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=False)
    yield World(app)
    clock.set_override(None)


RANDOM_ID = re.compile(r"(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{16,}")  # tokens, public ids
REFERENCE = re.compile(r"\b[A-Z0-9]{2,}(?:-[A-Z0-9]{3,}){2,}\b")  # ISM-SGAR-ZB4R


def normalized(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = REFERENCE.sub("<ref>", RANDOM_ID.sub("<id>", text))
    return re.sub(r"\d+", "0", text)


def page_key(actor: str, url: str, status: int) -> str:
    """The page's name in the baseline: the actor and the path (ids masked); error pages by
    their status (the same page whatever the URL)."""
    if status >= 400:
        return f"{actor} error {status}"
    return f"{actor} {normalized(url.split('?')[0])}"


def drafts(app) -> tuple[object, list[str]]:
    """An anonymous resident with a complete draft of each of DRAFTED: its overview, every step
    that applies and the check page."""
    client = app.test_client()
    catalog = app.extensions["catalog"]
    tokens, urls = {}, []
    with app.app_context():
        for procedure_id in DRAFTED:
            procedure = catalog.procedure(procedure_id)
            row, token = service.start_draft(db.session, catalog, procedure, clock.now())
            today = clock.today_local()
            row.answers = example_answers(app, db.session, row, procedure, today)
            row.steps_done = [step.id for step in procedure.steps]
            tokens[procedure_id] = token
            urls.append(f"/procedures/{procedure_id}")
            urls += [
                f"/procedures/{procedure_id}/apply/{step.id}"
                for step in logic.applicable_steps(procedure, row.answers, today)
            ]
            urls.append(f"/procedures/{procedure_id}/check")
        db.session.commit()
    with client.session_transaction() as session:
        session["drafts"] = tokens
    return client, urls


def submitted_draft(app):
    """A resident who has just submitted 住民票の写し (its completion page)."""
    client = app.test_client()
    catalog = app.extensions["catalog"]
    procedure = catalog.procedure("juminhyo-copy")
    with app.app_context():
        row, token = service.start_draft(db.session, catalog, procedure, clock.now())
        row.answers = example_answers(app, db.session, row, procedure, clock.today_local())
        row.steps_done = [step.id for step in procedure.steps]
        db.session.commit()
    with client.session_transaction() as session:
        session["drafts"] = {procedure.id: token}
    url = f"/procedures/{procedure.id}/check"
    response = client.post(
        url, data={"csrf_token": csrf_token(client.get(url).text), "declaration": "yes"}
    )
    assert response.status_code == 302, response.status_code
    return client


def typed_values(app) -> list[str]:
    """Every text the world's residents typed or their records gave (longest first)."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, str):
            if JAPANESE.search(value):
                found.add(value)
                found.update(part for part in value.split() if JAPANESE.search(part))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    with app.app_context():
        for answers in db.session.scalars(select(Submission.answers)):
            walk(answers)
    found.update(("山本 結衣", "山本", "結衣", "住民票の写し（1通）"))  # the world's own inputs
    return sorted(found, key=len, reverse=True)


def same_on_purpose() -> dict[str, set[str]]:
    """Per language, the texts its translation files give exactly as the Japanese (a translator's
    choice: 本人 and 父母 are Chinese too): the chrome's .po entries and the catalog's translation
    files (normalized). A page's text equal to one of them is not an untranslated copy."""
    catalog = load_catalog(ENTRY)
    japanese = catalog_texts(catalog)
    files = read_translations(catalog_folder(ENTRY) / FOLDER_NAME, LANGUAGES).texts
    inline = inline_translations(catalog)
    chrome, chrome_translations = ui_texts(), ui_translations(LANGUAGES)
    found: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        same = found.setdefault(lang, set())
        for source, translations in (
            (japanese, files.get(lang, {})),
            (japanese, inline.get(lang, {})),
            (chrome, chrome_translations.get(lang, {})),
        ):
            for key, translation in translations.items():
                if source.get(key) == translation.text:
                    same.add(normalized(translation.text))
    return found


def nearest_lang(node) -> str:
    for parent in (node, *node.parents) if node.name else node.parents:
        if parent.has_attr("lang"):
            return parent["lang"]
    return ""


def in_han_language(node, text: str) -> bool:
    """Han characters of Chinese or Korean, not Japanese: no kana outside parentheses, and
    written in such a lang."""
    return nearest_lang(node).split("-", 1)[0] in HAN_LANGUAGES and not KANA.search(
        HAN_PARENTHESIZED.sub("", text)
    )


def words(text: str) -> bool:
    """Whether a text has kanji other than a date's or a time's."""
    return bool(KANJI.search(CALENDAR.sub("", text)))


def allowed(node) -> bool:
    for parent in (node, *node.parents) if node.name else node.parents:
        if parent.name in ("textarea", "script", "style"):
            return True
        if ALLOWED_CLASSES.intersection(parent.get("class") or ()):
            return True
        if parent.has_attr("data-translation-notice") and node.parent.name in ("a", "button"):
            # the way back to the Japanese original
            return True
    return False


def texts(html: str, typed: list[str], japanese: set[str] | None = None) -> Iterator[str]:
    """The page's texts a resident reads (normalized, typed values taken out). Texts in Chinese or
    Korean (`in_han_language`) only when they are the same as one of the page in Japanese
    (`japanese`) with kanji other than a date's."""
    page = BeautifulSoup(html, "html.parser")
    # Furigana (ruby) read as the text it annotates: readings out, the base text joined again.
    for reading in page.find_all(["rt", "rp"]):
        reading.decompose()
    for ruby in page.find_all("ruby"):
        ruby.unwrap()
    # An official Japanese name kept in parentheses after its translation (decision 0066) and
    # marked lang="ja" there (3.1.2, decision 0075): read as the parenthesized text it was.
    for marked in page.find_all(attrs={"lang": "ja"}):
        before, after = marked.previous_sibling, marked.next_sibling
        if (
            isinstance(before, NavigableString)
            and isinstance(after, NavigableString)
            and before.rstrip().endswith(("(", "（"))
            and after.lstrip().startswith((")", "）"))
            and marked.find(True) is None
        ):
            marked.unwrap()
    page.smooth()

    def cleaned(text: str) -> str:
        for value in typed:
            if value in text:
                text = text.replace(value, " ")
        return normalized(text)

    def han_copy(text: str) -> bool:
        return japanese is not None and text in japanese and words(text)

    if page.title is not None:
        title = "<title> " + cleaned(page.title.get_text())
        if not in_han_language(page.title, page.title.get_text()) or han_copy(title):
            yield title
    body = page.body or page
    for node in body.find_all(string=JAPANESE):
        if not allowed(node):
            text = cleaned(str(node))
            if not in_han_language(node, str(node)) or han_copy(text):
                yield text
    for name in ATTRIBUTES:
        for tag in body.find_all(attrs={name: JAPANESE}):
            if tag.name == "input" and name == "title":
                continue
            if not allowed(tag):
                text = f"@{name} " + cleaned(tag[name])
                if not in_han_language(tag, tag[name]) or han_copy(text):
                    yield text


def offences_in(lang: str, text_list: Iterator[str], japanese: set[str]) -> set[str]:
    found = set()
    for text in text_list:
        bare = text.split(" ", 1)[-1] if text.startswith(("<", "@")) else text
        if not JAPANESE.search(bare):
            continue
        if lang == "easy":
            # A text of kana (ログイン, はい) or of a date may stay as it is (the lint of
            # decision 0069 says the same of the translation files).
            if text in japanese and words(bare):
                found.add(text)
        elif JAPANESE.search(PARENTHESIZED.sub("", text)):
            found.add(text)
    return found


def set_language(client, lang: str) -> None:
    with client.session_transaction() as session:
        session["lang"] = lang


def crawl(world: World) -> dict[str, dict[str, set[str]]]:
    """{lang: {page: offences}} over every resident-facing page and state."""
    app = world.app
    drafter, draft_urls = drafts(app)
    pages: list[tuple[str, object, str]] = []
    for actor in ACTORS:
        for endpoint, urls in sorted(world.urls.items()):
            if (
                actor not in urls
                or endpoint in NEVER_CRAWL
                or (endpoint in LAST and endpoint not in CONFIRMATION_PAGES)
                or endpoint.startswith(SKIPPED_PREFIXES)
            ):
                continue
            pages.append((actor, world.clients[actor], urls[actor]))
    pages += [("resident", drafter, url) for url in draft_urls]
    pages.append(("resident", submitted_draft(app), "/procedures/juminhyo-copy/done"))
    # The mock card service's PIN page, as the login of the portal opens it.
    pages.append(("resident", drafter, card_page(None, app)))
    typed = typed_values(app)
    purpose = same_on_purpose()
    japanese: dict[str, set[str]] = {}
    result: dict[str, dict[str, set[str]]] = {}
    for lang in ("ja", *[code for code in LANGUAGES if code != "ja"]):
        for client in {id(c): c for _, c, _ in pages}.values():
            set_language(client, lang)
        found = result.setdefault(lang, {})
        for actor, client, url in pages:
            response = client.get(url)
            if response.mimetype != "text/html":
                continue
            key = page_key(actor, url, response.status_code)
            page_texts = list(
                texts(
                    response.get_data(as_text=True),
                    typed,
                    japanese.get(key, set()) - purpose[lang] if lang != "ja" else None,
                )
            )
            if lang == "ja":
                japanese.setdefault(key, set()).update(page_texts)
                continue
            offences = offences_in(lang, iter(page_texts), japanese.get(key, set()))
            if offences:
                found.setdefault(key, set()).update(offences)
    del result["ja"]
    return result


def read_baseline() -> dict[str, dict[str, set[str]]]:
    if not BASELINE.exists():
        return {}
    data = yaml.safe_load(BASELINE.read_text(encoding="utf-8")) or {}
    return {
        lang: {page: set(items) for page, items in pages.items()} for lang, pages in data.items()
    }


def write_baseline(found: dict[str, dict[str, set[str]]]) -> None:
    data = {
        lang: {page: sorted(items) for page, items in sorted(pages.items())}
        for lang, pages in sorted(found.items())
    }
    header = (
        "# Japanese left on pages of other languages, and やさしい日本語 identical to the\n"
        "# standard Japanese: (page, text) pairs that may only go (decision 0070).\n"
        "# Rewrite after translating: LANGUAGE_BASELINE=write .venv/bin/python -m pytest\n"
        "#   tests/web/test_language_coverage.py -n 0\n"
    )
    BASELINE.write_text(
        header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000),
        encoding="utf-8",
    )


def pairs(found: dict[str, dict[str, set[str]]]) -> set[tuple[str, str, str]]:
    return {
        (lang, page, text)
        for lang, pages in found.items()
        for page, items in pages.items()
        for text in items
    }


def test_every_resident_page_in_every_language(world):
    found = crawl(world)
    if WRITE:
        write_baseline(found)
        return
    baseline = pairs(read_baseline())
    now = pairs(found)
    new = sorted(now - baseline)
    gone = sorted(baseline - now)
    message = []
    if new:
        message.append(f"{len(new)} new (page, text) in a language (translate them):")
        message += [f"  {lang} | {page} | {text}" for lang, page, text in new[:80]]
    if gone:
        message.append(
            f"{len(gone)} listed in {BASELINE.name} are gone: rewrite it with "
            "LANGUAGE_BASELINE=write (the list only shrinks):"
        )
        message += [f"  {lang} | {page} | {text}" for lang, page, text in gone[:80]]
    assert not message, "\n".join(message)


def test_the_check_flags_japanese_in_english_and_copies_in_easy():
    """The rules themselves, on a made-up page."""
    html = (
        "<html><head><title>Step (転入届) | いすみ市</title></head><body>"
        '<p>Your name</p><p lang="ja"><span lang="ja">氏名</span></p>'
        '<dd class="summary-list__value">山田 太郎</dd><p>Typed: 夷隅 花子</p>'
        '<nav class="language-menu"><a>日本語</a></nav>'
        "<div data-translation-notice><p>Not checked. <a>日本語の原文</a></p></div>"
        '<input aria-label="郵便番号"></body></html>'
    )
    found = offences_in("en", texts(html, ["夷隅 花子"]), set())
    assert found == {"<title> Step (転入届) | いすみ市", "氏名", "@aria-label 郵便番号"}
    marked = '<html><body><p>Considered (<span lang="ja">配慮</span>)</p><p><span lang="ja">配慮</span></p></body></html>'
    assert offences_in("en", texts(marked, []), set()) == {"配慮"}
    easy = offences_in("easy", texts(html, []), {"氏名", "Typed: 夷隅 花子"})
    assert easy == {"氏名", "Typed: 夷隅 花子"}


def test_han_characters_of_chinese_are_not_japanese_but_kana_and_ja_marks_are():
    """On a Chinese page Han characters are Chinese; kana, or a lang="ja" mark, is Japanese. A
    language menu's 简体中文, marked with its own lang, is not Japanese on any page."""
    html = (
        '<html lang="zh-Hans"><head><title>申请（住民票）</title></head><body>'
        "<p>请填写姓名</p><p>の写し</p>"
        '<p><span lang="ja">住民票</span></p>'
        '<input aria-label="邮政编码"></body></html>'
    )
    assert offences_in("zh", texts(html, []), set()) == {"の写し", "住民票"}
    english = '<html lang="en"><body><p>Choose</p><a lang="zh-Hans">简体中文</a></body></html>'
    assert offences_in("en", texts(english, []), set()) == set()


def test_chinese_may_name_the_japanese_term_in_parentheses_but_not_copy_the_japanese():
    """Decision 0079: on a Chinese page an official Japanese term in parentheses after the
    Chinese is not an offence (as in English, decision 0066), kana outside them is, and so is a
    text in Han characters only that is the same as the page's Japanese (an untranslated
    department name) — unless it is a date, or the translation files say so on purpose."""
    html = (
        '<html lang="zh-Hans"><head><title>申请交付住民票副本（住民票の写し）等</title></head>'
        "<body><p>市民課</p><p>市民科（市民課）</p><p>请用片假名填写（例：イスミ）</p>"
        "<p>例：イスミ</p><p>2026年12月1日</p><p>本人</p><p>填写时间约5分钟・手续费</p>"
        "</body></html>"
    )
    page_japanese = {"市民課", "0年0月0日", "本人", "<title> 住民票の写し等の交付請求"}
    found = offences_in("zh", texts(html, [], page_japanese - {"本人"}), set())
    assert found == {"市民課", "例：イスミ"}


def test_easy_japanese_may_keep_kana_and_dates_and_names_are_not_translated():
    """やさしい日本語 identical to the Japanese is an offence only with kanji other than a date's
    (the lint of decision 0069 lets 「はい」 stay too); a person's name is never an offence."""
    html = (
        "<html><body><p>ログイン</p><p>はい</p><p>2026年12月1日（火）</p><p>市区町村</p>"
        '<p><span class="person-name" lang="ja">中村 キヨ</span> (80, lives alone)</p>'
        "</body></html>"
    )
    japanese = {"ログイン", "はい", "0年0月0日（火）", "市区町村", "中村 キヨ"}
    assert offences_in("easy", texts(html, []), japanese) == {"市区町村"}
    assert offences_in("en", texts(html, []), set()) == {
        "ログイン",
        "はい",
        "0年0月0日（火）",
        "市区町村",
    }
