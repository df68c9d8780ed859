"""The accessibility statement page shows the committed conformance report (decision 0065): its
claim level, date, counts and known issues, in each language; never more than the report says."""

from __future__ import annotations

import json
import re

import pytest

from portal.i18n import HTML_LANG, LANGUAGES, PROVENANCE_NOTICE, SOURCE
from portal.pages.statement import REPORT
from tests.conftest import check_page

pytestmark = pytest.mark.db

KANA = re.compile("[\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff]")
JAPANESE = re.compile("[\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\u3005\u4e00-\u9fff]")


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


# Decision 0075: the report's own prose (the known issues) is written in Japanese and English only.
# A page in any other language shows the English, marked lang="en", in its own chrome, and says
# (the provenance notice) that it showed texts no translator wrote.
ISSUE = {
    "id": "2.4.5",
    "title": "複数の手段",
    "title_en": "Multiple Ways",
    "text": "サイトマップのページがない。",
    "text_en": "There is no site map page.",
}


def _report_with(app, tmp_path, issues: list[dict]) -> dict:
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    report.update(known_issues=issues)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    app.config["ACCESSIBILITY_REPORT"] = str(path)
    return report


def _chrome(lang: str, msgid: str) -> str:
    """A chrome string as a page in `lang` shows it: its own, else English, else the id."""
    from babel.messages.pofile import read_po

    for code in (lang, "en"):
        path = SOURCE / code / "LC_MESSAGES" / "messages.po"
        if path.exists():
            with path.open("rb") as file:
                found = {m.id: m.string for m in read_po(file) if m.string and not m.fuzzy}
            if found.get(msgid):
                return found[msgid]
    return msgid


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_the_statement_reads_in_every_language(app, client, tmp_path, lang):
    report = _report_with(app, tmp_path, [ISSUE])
    soup = statement(client, lang)
    assert soup.html["lang"] == HTML_LANG[lang]
    assert soup.select_one("[data-claim]")["data-claim"] == report["claim"]
    assert soup.find("time")["datetime"] == report["date"]
    item = soup.select_one("main ul.list li")
    text = item.get_text()
    if lang in ("ja", "easy"):
        assert text.endswith("サイトマップのページがない。")
        assert "Multiple Ways" not in text
        return
    # The page's chrome is in its language (the translators' files: else the English).
    assert soup.h1.get_text() == _chrome(lang, "アクセシビリティ方針")
    assert soup.find("h2", string=_chrome(lang, "問題のお知らせ"))
    # The report's prose in English; marked where the page is not English.
    assert "2.4.5 Multiple Ways" in text
    assert text.endswith("There is no site map page.")
    assert "サイトマップ" not in text
    if lang == "en":
        assert not item.select("[lang]")
    else:
        marked = [span.get_text() for span in item.select('[lang="en"]')]
        assert marked == ["Multiple Ways", "There is no site map page."]
        # The notice says the page shows what no translator wrote (English until the language
        # has a notice of its own, marked so).
        notice = soup.select_one("main [data-translation-notice]")
        assert notice is not None
        assert notice.get("lang") == (None if lang in PROVENANCE_NOTICE else "en")
    # No kana or kanji outside lang="ja" on a foreign page (3.1.2): the chrome's Japanese terms
    # in brackets are marked after rendering.
    for node in soup.body.find_all(string=JAPANESE):
        if node.parent.name in ("script", "style"):
            continue
        holder = node.find_parent(attrs={"lang": True})
        assert holder is not None and (
            holder["lang"] == "ja" or (lang == "zh" and not KANA.search(node))
        ), f"{lang}: {node!r} not marked Japanese"


def test_a_known_issue_without_english_stays_japanese_and_marked(app, client, tmp_path):
    _report_with(app, tmp_path, [{**ISSUE, "text_en": ""}])
    for lang in ("en", "vi"):
        item = statement(client, lang).select_one("main ul.list li")
        assert item.select_one('[lang="ja"]').get_text() == "サイトマップのページがない。"
