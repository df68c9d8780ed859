"""The accessibility statement page shows the committed conformance report (decision 0065): its
claim level, date, counts and known issues, in each language; never more than the report says."""

from __future__ import annotations

import json

import pytest

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
