"""The accessibility statement's data: the committed conformance report, accessibility/report.json,
written by `make a11y` (scripts/a11y.py, decision 0065). The page shows what the report says
(claim, date, counts, known issues); it never states more than the report supports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from flask import current_app
from markupsafe import Markup, escape

from portal.catalog.translations import InEnglish, Unreviewed, Untranslated
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


def _japanese_marked(text: str, claim: str) -> str:
    """A translated text with the claim's official Japanese name in it (「配慮」, kept in
    parentheses after the translation, decision 0066) marked lang="ja" (3.1.2)."""
    if not is_foreign(current_language()) or claim not in text:
        return text
    return escape(text).replace(claim, Markup('<span lang="ja">{}</span>').format(claim))


def claim_label(claim: str) -> str:
    return _japanese_marked(_claim_label(claim), claim)


def claim_explanation(claim: str) -> str:
    return _japanese_marked(_claim_explanation(claim), claim)


def _claim_label(claim: str) -> str:
    return {
        "準拠": translate("準拠"),
        "一部準拠": translate("一部準拠"),
        "配慮": translate("配慮"),
    }.get(claim, claim)


def _claim_explanation(claim: str) -> str:
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


def _in_language(translations: dict | None, japanese: str, english: str | None = None) -> str:
    """A text of the report in the page's language: its translation (written by the developers,
    not yet checked: noted for the page's notice); on a page of another language without one, the
    English (marked lang="en"), else the Japanese (marked lang="ja"); on a やさしい日本語 page
    without one, the Japanese (noted as untranslated)."""
    lang = current_language()
    if lang == "ja":
        return japanese
    translations = translations or {}
    if translations.get(lang):
        return Unreviewed(translations[lang])
    english = translations.get("en") or english
    if is_foreign(lang) and lang != "en" and english:
        return InEnglish(english)
    return Untranslated(japanese)


def issue_title(issue: dict) -> str:
    """The criterion's number and title. The English titles are the W3C's own (criteria.yaml)."""
    lang = current_language()
    if lang == "en" and issue.get("title_en"):
        return f"{issue['id']} {issue['title_en']}"
    title = _in_language(issue.get("titles"), issue["title"], issue.get("title_en"))
    return Markup("{} {}").format(issue["id"], title)


def issue_text(issue: dict) -> str:
    """What the known issue is (a judgement's note, or the report's own text)."""
    return _in_language(issue.get("texts"), issue["text"])


def report_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)
