"""The accessibility statement's data: the committed conformance report, accessibility/report.json,
written by `make a11y` (scripts/a11y.py, decision 0065). The page shows what the report says
(claim, date, counts, known issues); it never states more than the report supports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from flask import current_app
from markupsafe import Markup

from portal.catalog.translations import InEnglish, Untranslated
from portal.i18n import current_language, is_foreign, translate

REPORT = Path(__file__).resolve().parents[2] / "accessibility" / "report.json"
_cache: dict[str, tuple[float, dict]] = {}


def report() -> dict | None:
    """The report (read again when the file changes); None when there is none."""
    path = Path(current_app.config.get("ACCESSIBILITY_REPORT") or REPORT)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    cached = _cache.get(str(path))
    if cached is None or cached[0] != mtime:
        cached = (mtime, json.loads(path.read_text(encoding="utf-8")))
        _cache[str(path)] = cached
    return cached[1]


def claim_label(claim: str) -> str:
    return {
        "準拠": translate("準拠"),
        "一部準拠": translate("一部準拠"),
        "配慮": translate("配慮"),
    }.get(claim, claim)


def claim_explanation(claim: str) -> str:
    return {
        "準拠": translate(
            "JIS X 8341-3:2016 の適合レベルAA のすべての達成基準を満たしていることを、"
            "試験で確認しました。"
        ),
        "一部準拠": translate(
            "試験を行いましたが、満たしていない達成基準、または確認し直す必要のある達成基準が"
            "あります。下の「既知の問題」をご覧ください。"
        ),
        "配慮": translate(
            "人による判定の多くは開発者によるもので、担当者の名前を記した試験はまだそろっていません。このため、対応度は「配慮」としています。"
        ),
    }.get(claim, "")


def issue_title(issue: dict) -> str:
    lang = current_language()
    if lang == "en":
        return f"{issue['id']} {issue.get('title_en') or issue['title']}"
    if is_foreign(lang):
        # The report is written in Japanese and English only: the English, marked (0071).
        title = issue.get("title_en")
        marked = InEnglish(title) if title else Untranslated(issue["title"])
        return Markup("{} {}").format(issue["id"], marked)
    return f"{issue['id']} {issue['title']}"


def report_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)
