"""The conformance report's claim (scripts/a11y.py, decision 0065): what each kind of evidence
supports, and a judgement going stale when the files it judged change."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("a11y_report", ROOT / "scripts" / "a11y.py")
a11y = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(a11y)


@pytest.fixture
def judged(tmp_path, monkeypatch):
    """Two JIS criteria judged by a named person over one template, and the run of a sample."""
    monkeypatch.setattr(a11y, "ROOT", tmp_path)
    (tmp_path / "page.html").write_text("<h1>before</h1>")
    doc = {"files": {"templates": ["*.html"]}, "criteria": []}
    for sc in ("1.3.1", "2.4.2"):
        doc["criteria"].append(
            {
                "id": sc, "title": sc, "title_en": sc, "level": "A", "jis": True,
                "tools": ["headings"], "tests": ["tests/x.py::test_y"],
                "judgements": [
                    {"who": "山田 花子", "result": "適合", "note": "", "files": ["templates"],
                     "when": "2026-12-01", "commit": "abc",
                     "digest": a11y.digest(doc, ["templates"])}
                ],
            }
        )  # fmt: skip
    run = {
        "pages": [{"url": "/", "axe": {"violations": [], "incomplete": []}, "checks": {}}],
        "html_errors": [],
        "axe_rules": {"1.3.1": ["list"]},
    }
    return doc, run, tmp_path


def test_current_named_judgements_and_passing_tools_support_full_conformance(judged):
    doc, run, _ = judged
    result = a11y.evaluate(doc, run, {"tests/x.py::test_y"})
    assert result["claim"] == "準拠"
    assert [c["basis"] for c in result["criteria"]] == ["named", "named"]
    assert result["criteria"][0]["axe_rules"] == ["list"]


def test_a_page_changed_since_the_judgement_makes_it_stale_and_lowers_the_claim(judged):
    doc, run, folder = judged
    (folder / "page.html").write_text("<h1>after</h1>")
    result = a11y.evaluate(doc, run, {"tests/x.py::test_y"})
    assert result["claim"] == "一部準拠"
    assert all(c["basis"] == "stale" and c["judgement"]["stale"] for c in result["criteria"])
    assert [i["id"] for i in a11y.known_issues(result["criteria"])] == ["1.3.1", "2.4.2"]


def test_a_developers_judgement_supports_consideration_only(judged):
    doc, run, _ = judged
    doc["criteria"][1]["judgements"][0]["who"] = a11y.DEVELOPER
    assert a11y.evaluate(doc, run, {"tests/x.py::test_y"})["claim"] == "配慮"


def test_a_failed_tool_check_or_a_missing_test_fails_the_criterion(judged):
    doc, run, _ = judged
    run["pages"][0]["checks"] = {"headings": ["2 visible h1 elements (one expected)"]}
    result = a11y.evaluate(doc, run, set())
    assert [c["result"] for c in result["criteria"]] == ["不適合", "不適合"]
    assert any("テストが見つからない" in f for f in result["criteria"][1]["failed"])
    assert result["claim"] == "一部準拠"


def test_a_criterion_without_a_judgement_needs_one_unless_tools_suffice(judged):
    doc, run, _ = judged
    doc["criteria"][0]["judgements"] = []
    result = a11y.evaluate(doc, run, {"tests/x.py::test_y"})
    assert result["criteria"][0]["result"] == "要判定"
    assert result["claim"] == "配慮"
    doc["criteria"][0]["tools_suffice"] = True
    result = a11y.evaluate(doc, run, {"tests/x.py::test_y"})
    assert (result["criteria"][0]["result"], result["criteria"][0]["basis"]) == ("適合", "tools")
    assert result["claim"] == "準拠"


def test_every_tool_a_criterion_names_is_a_check_the_report_runs():
    from tests.e2e import a11y_checks

    named = {t for c in a11y.load_criteria()["criteria"] for t in c.get("tools", [])}
    assert named <= set(a11y_checks.CHECKS) | {"nu-html-checker"}
    assert set(a11y_checks.CHECKS) <= set(a11y.TOOL_NAMES)
    # The checks of decision 0068, each credited to its criteria.
    credited = {c["id"]: set(c.get("tools", [])) for c in a11y.load_criteria()["criteria"]}
    assert "focus-order" in credited["2.4.3"]
    assert "focus-visible" in credited["2.4.7"] & credited["2.4.11"]
    assert "status-messages" in credited["4.1.3"]
