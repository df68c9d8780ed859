"""Procedure search by name, reading and life event.

The query is normalised (NFKC, case and katakana folded to hiragana) and matched against each
procedure's title, reading (kana), search keywords (everyday words and their readings: 引越し,
ひっこし, 赤ちゃん, 亡くなった ...), summaries and English title and summary, so 「ほいく」,
「ホイク」, 「保育」, 「保育園」 and "childcare" all find 保育施設等の利用申込.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

from portal.catalog.schema import CatalogData, Procedure


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", "", jaconv.kata2hira(text))


def search(catalog: CatalogData, query: str = "", life_event: str | None = None) -> list[Procedure]:
    terms = [_fold(term) for term in query.split() if term.strip()]
    found = []
    for procedure in catalog.procedures:
        if life_event and life_event not in procedure.life_events:
            continue
        texts = [procedure.title, procedure.kana, *procedure.keywords]
        texts += [procedure.summary, procedure.easy_summary or ""]
        if procedure.en:
            texts += [procedure.en.title, procedure.en.summary]
        haystack = _fold(" ".join(texts))
        if all(term in haystack for term in terms):
            found.append(procedure)
    return found
