"""The やさしい日本語 lint of `flask catalog check` (issue 23; decision 0069).

Every `easy` translation — the translation files (catalog/translations/easy/**), the texts
written inline in the catalog (`easy_summary`, `label_easy` ...) and the page chrome's easy.po —
is measured:

- sentence length: the text is cut into sentences at 。！？ (and line breaks); a sentence may
  hold at most 50 characters (spaces not counted);
- kanji density: CJK ideographs among the non-space characters; a text of 20 characters or more
  may hold at most 35 % (a `legal_basis`, the names of laws, is not measured);
- identical: an easy text with kanji that is exactly the standard Japanese it translates has not
  been rewritten (a text of kana only, 「はい」, may stay as it is).

Format placeholders (`%(label)s`, `{name}`) are not characters of the text. Texts that broke a
rule when the lint came are listed, with the rules they break, in the committed baseline
`catalog/easy-japanese-baseline.yaml`, which may only shrink: the check fails on a breach not
listed there and on a listed one that is gone (remove it: `flask catalog easy-japanese --write`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from portal.catalog.schema import CatalogData
from portal.catalog.translations import (
    TextKey,
    Translation,
    catalog_texts,
    inline_translations,
    read_translations,
)

BASELINE_NAME = "easy-japanese-baseline.yaml"
MAX_SENTENCE = 50
MAX_KANJI = 0.35
# A short label's density swings with one official term (被保険者証 alone is 5 of 5): density is
# measured from 20 characters, and not at all for `legal_basis` and a deadline's
# `deadline.counting.law` (the names of laws and articles, which the resident must be able to
# look up as written).
MIN_LENGTH_FOR_DENSITY = 20
NO_DENSITY = ("legal_basis", "deadline.counting.law")  # the law a deadline counts by (0072)
RULES = ("sentence", "kanji", "identical")

_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f々〆]")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
_PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|%[sd]|\{[A-Za-z_][A-Za-z0-9_]*\}")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Measure:
    """The figures of one easy text and the rules it breaks."""

    key: TextKey
    text: str
    longest_sentence: int
    kanji_ratio: float
    identical: bool

    @property
    def breaches(self) -> tuple[str, ...]:
        found = []
        if self.longest_sentence > MAX_SENTENCE:
            found.append("sentence")
        if self.kanji_ratio > MAX_KANJI:
            found.append("kanji")
        if self.identical:
            found.append("identical")
        return tuple(found)

    def figures(self) -> str:
        identical = ", same as the standard Japanese" if self.identical else ""
        return (
            f"longest sentence {self.longest_sentence} characters, "
            f"kanji {self.kanji_ratio:.0%}{identical}"
        )


def _characters(text: str) -> str:
    return _SPACE.sub("", _PLACEHOLDER.sub("", text))


def measure(key: TextKey, text: str, japanese: str | None) -> Measure:
    """The figures of one easy text (`japanese`: the standard text it translates)."""
    sentences = [_characters(s) for s in _SENTENCE_END.split(text)]
    longest = max((len(s) for s in sentences), default=0)
    characters = _characters(text)
    kanji = len(_KANJI.findall(characters))
    measured = len(characters) >= MIN_LENGTH_FOR_DENSITY and key.path not in NO_DENSITY
    ratio = kanji / len(characters) if measured else 0.0
    identical = japanese is not None and text.strip() == japanese.strip() and kanji > 0
    return Measure(key, text, longest, ratio, identical)


def measure_all(easy: Mapping[TextKey, str], japanese: Mapping[TextKey, str]) -> list[Measure]:
    """Every easy text's figures, in key order."""
    return [measure(key, easy[key], japanese.get(key)) for key in sorted(easy)]


def easy_texts(
    data: CatalogData,
    folder: Path,
    ui: tuple[dict[TextKey, str], dict[str, dict[TextKey, Translation]]] | None = None,
) -> tuple[dict[TextKey, str], dict[TextKey, str]]:
    """Every easy text (inline, chrome, translation files under `folder`) and every standard
    Japanese text, by key. A file's text for no catalog text is the translation check's problem."""
    japanese = catalog_texts(data)
    ui_texts, ui_translations = ui or ({}, {})
    japanese.update(ui_texts)
    easy = {key: t.text for key, t in inline_translations(data)["easy"].items()}
    easy.update(
        (key, t.text) for key, t in ui_translations.get("easy", {}).items() if key in ui_texts
    )
    files = read_translations(folder, ["easy"])
    easy.update((key, t.text) for key, t in files.texts.get("easy", {}).items() if key in japanese)
    return easy, japanese


# --- the baseline ---------------------------------------------------------------------------


def read_baseline(path: Path) -> dict[TextKey, set[str]]:
    """The committed breaches ({"unit:path": [rule, ...]}); absent: none."""
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: must map a text key to the rules it breaks")
    baseline: dict[TextKey, set[str]] = {}
    for key, rules in loaded.items():
        if not isinstance(rules, list) or not set(rules) <= set(RULES):
            raise ValueError(f"{path}: {key}: give a list of rules among {', '.join(RULES)}")
        baseline[TextKey.parse(str(key))] = set(rules)
    return baseline


def baseline_yaml(measures: list[Measure]) -> str:
    lines = [
        "# やさしい日本語 texts over the limits of `flask catalog check` (decision 0069):",
        f"# a sentence of more than {MAX_SENTENCE} characters, more than {MAX_KANJI:.0%} kanji "
        f"in a text of {MIN_LENGTH_FOR_DENSITY} characters or more,",
        "# or the same text as the standard Japanese. This list may only shrink; rewrite a text",
        "# and regenerate it: flask catalog easy-japanese --write",
    ]
    listing = {str(m.key): list(m.breaches) for m in measures if m.breaches}
    if listing:
        dumped = yaml.safe_dump(
            listing, allow_unicode=True, sort_keys=True, width=10**6, default_flow_style=None
        )
        lines.extend(dumped.splitlines())
    else:
        lines.append("{}")
    return "\n".join(lines) + "\n"


def problems(measures: list[Measure], baseline: Mapping[TextKey, set[str]]) -> list[str]:
    """A breach not in the baseline, and a baseline entry that no longer breaks its rule."""
    found: list[str] = []
    by_key = {m.key: m for m in measures}
    for m in measures:
        new = set(m.breaches) - baseline.get(m.key, set())
        if new:
            found.append(
                f"easy: {m.key}: {', '.join(sorted(new))} ({m.figures()}; "
                f"limits: sentence {MAX_SENTENCE}, kanji {MAX_KANJI:.0%})"
            )
    for key, rules in sorted(baseline.items()):
        current = set(by_key[key].breaches) if key in by_key else set()
        gone = rules - current
        if gone:
            found.append(
                f"easy: {key}: listed in {BASELINE_NAME} for {', '.join(sorted(gone))} "
                "but no longer breaks it (remove it: the list only shrinks)"
            )
    return found


def summary(measures: list[Measure]) -> str:
    """One line of figures for `flask catalog check`."""
    if not measures:
        return "easy japanese: no easy texts"
    longest = max(measures, key=lambda m: m.longest_sentence)
    densest = max(measures, key=lambda m: m.kanji_ratio)
    count = {rule: sum(rule in m.breaches for m in measures) for rule in RULES}
    return (
        f"easy japanese: {len(measures)} texts; longest sentence {longest.longest_sentence} "
        f"characters (limit {MAX_SENTENCE}), highest kanji density {densest.kanji_ratio:.0%} "
        f"(limit {MAX_KANJI:.0%}); over a limit: {count['sentence']} sentence, "
        f"{count['kanji']} kanji, {count['identical']} identical"
    )
