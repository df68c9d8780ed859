"""The accessibility statement page shows the committed conformance report (decision 0065): its
claim level, date, counts and known issues, in each language; never more than the report says."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import NavigableString

from portal.pages.statement import REPORT
from tests.conftest import check_page

pytestmark = pytest.mark.db


def statement(client, lang: str):
    client.get(f"/accessibility?lang={lang}")
    return check_page(client.get("/accessibility"))


def test_the_page_shows_the_committed_reports_claim_and_date(client):
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    soup = statement(client, "ja")
    claim = soup.select_one("[data-claim]")
    assert claim["data-claim"] == report["claim"]
    assert report["claim"] in claim.get_text()
    assert soup.find("time")["datetime"] == report["date"]
    counts = report["counts"]["jis"]
    assert (
        f"適合 {counts['適合']}、不適合 {counts['不適合']}、適用なし {counts['適用なし']}"
        in soup.get_text()
    )
    for issue in report["known_issues"]:
        assert f"{issue['id']} {issue['title']}" in soup.get_text()
    assert "JIS X 8341-3:2016" in soup.get_text()
    assert soup.find("h2", string="問題のお知らせ")


def test_a_report_with_a_full_claim_and_no_issues(app, client, tmp_path):
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    report.update(claim="準拠", date="2027-04-01", known_issues=[])
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    app.config["ACCESSIBILITY_REPORT"] = str(path)
    soup = statement(client, "ja")
    assert soup.select_one("[data-claim]").get_text() == "準拠"
    assert soup.find("time")["datetime"] == "2027-04-01"
    assert "現在、知られている問題はありません。" in soup.get_text()


def test_without_a_report_the_page_claims_nothing(app, client, tmp_path):
    app.config["ACCESSIBILITY_REPORT"] = str(tmp_path / "missing.json")
    soup = statement(client, "ja")
    assert soup.select_one("[data-claim]") is None
    assert "試験の結果は、まだ公開していません。" in soup.get_text()


@pytest.mark.parametrize(
    ("lang", "title", "heading"),
    [
        ("en", "Accessibility statement", "Reporting a problem"),
        (
            "easy",
            "アクセシビリティ（だれでも つかえる ための くふう）の ほうしん",
            "もんだいを おしらせ ください",
        ),
    ],
)
def test_the_statement_in_each_language(client, lang, title, heading):
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    soup = statement(client, lang)
    assert soup.h1.get_text() == title
    assert soup.find("h2", string=heading)
    assert soup.select_one("[data-claim]")["data-claim"] == report["claim"]
    assert soup.find("time")["datetime"] == report["date"]
    if lang == "en":
        assert soup.html["lang"] == "en"
        for issue in report["known_issues"]:
            assert f"{issue['id']} {issue['title_en']}" in soup.get_text()


FOREIGN = ("en", "zh", "ko", "vi", "pt", "ne")
KANA_OR_HAN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")


def test_every_known_issue_of_the_committed_report_is_in_every_language():
    """The statement is published in every language the portal has (decision 0075): each known
    issue of the committed report carries its title and text in each of them."""
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    for issue in report["known_issues"]:
        for lang in ("easy", *FOREIGN):
            assert issue["titles"].get(lang), (issue["id"], lang, "title")
            assert issue["texts"].get(lang), (issue["id"], lang, "text")


def with_issues(app, tmp_path, issues: list[dict]) -> None:
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    report.update(claim="一部準拠", known_issues=issues)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    app.config["ACCESSIBILITY_REPORT"] = str(path)


TRANSLATED = {
    "id": "2.4.5",
    "title": "複数の手段",
    "title_en": "Multiple Ways",
    "text": "サイトマップがない。",
    "titles": {"en": "Multiple Ways", "easy": "いろいろな 行きかた", "zh": "多种途径",
               "ko": "다양한 방법", "vi": "Nhiều cách thức", "pt": "Várias formas",
               "ne": "धेरै तरिकाहरू"},
    "texts": {"en": "There is no site map.", "easy": "サイトマップが ありません。",
              "zh": "没有网站地图。", "ko": "사이트맵이 없습니다.",
              "vi": "Không có sơ đồ trang web.", "pt": "Não há mapa do site.",
              "ne": "साइटम्याप छैन।"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["easy", *FOREIGN])
def test_the_reports_texts_in_the_pages_language(app, client, tmp_path, lang):
    """The known issue's title and text in the page's language, inside a <main> of that
    language; the chrome around them translated (no Japanese left outside the header's menus)."""
    with_issues(app, tmp_path, [TRANSLATED])
    soup = statement(client, lang)
    item = soup.select_one("main ul.list li")
    text = item.get_text()
    assert TRANSLATED["titles"][lang] in text
    assert TRANSLATED["texts"][lang] in text
    assert "サイトマップがない" not in text and "複数の手段" not in text
    main = soup.find("main")
    assert main["lang"] == soup.html["lang"]
    assert not item.find(attrs={"lang": True})  # in the page's own language
    if lang != "easy":  # an official Japanese name in ASCII parentheses stays (decision 0066)
        # ... and is marked lang="ja" there (the Korean city name, 이스미시(いすみ市), decision
        # 0096): read as the parenthesized text it was, as test_language_coverage does.
        for marked in main.find_all(attrs={"lang": "ja"}):
            before, after = marked.previous_sibling, marked.next_sibling
            if (
                isinstance(before, NavigableString)
                and isinstance(after, NavigableString)
                and before.endswith("(")
                and after.startswith(")")
                and marked.find(True) is None
            ):
                marked.unwrap()
        main.smooth()
        for node in main.find_all(string=KANA_OR_HAN):
            if node.parent.get("lang") == "ja" and node == "一部準拠":
                continue  # the claim's official name, in parentheses after its translation
            text = re.sub(r"\([^()]*\)", "", node)
            if lang == "zh" and not KANA.search(text):
                continue  # Chinese is written in Han characters
            assert not KANA_OR_HAN.search(text), node


@pytest.mark.parametrize("lang", ["zh", "ne"])
def test_an_untranslated_issue_is_shown_in_english_marked(app, client, tmp_path, lang):
    """A known issue no one translated yet: its English (lang="en") on a page of another language,
    or its Japanese (lang="ja") when it has no English either; and the page says it is unchecked."""
    only_english = dict(TRANSLATED, titles={}, texts={"en": "There is no site map."})
    with_issues(app, tmp_path, [only_english])
    soup = statement(client, lang)
    item = soup.select_one("main ul.list li")
    assert item.find(attrs={"lang": "en"}, string="Multiple Ways")
    assert item.find(attrs={"lang": "en"}, string="There is no site map.")
    assert soup.select_one("[data-translation-notice]")
    with_issues(app, tmp_path, [dict(TRANSLATED, titles={}, texts={}, title_en="")])
    item = statement(client, lang).select_one("main ul.list li")
    assert item.find(attrs={"lang": "ja"}, string="複数の手段")
    assert item.find(attrs={"lang": "ja"}, string="サイトマップがない。")
