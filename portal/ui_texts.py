"""The page chrome's translatable strings and their gettext translations, for the report of
missing translations (issue 23, docs/decisions/0060-catalog-translations.md).

The strings are the `_()` / `gettext()` calls of the resident-facing templates (every template
but `staff/`, whose pages stay Japanese), extracted with Babel and Jinja2's extractor: the same
message ids `portal.i18n.translate` looks up. Their translations are the .po files under
portal/translations: English in `en/LC_MESSAGES/messages.po`, やさしい日本語 in
`ja/LC_MESSAGES/easy.po` (the "easy" domain of locale ja), any other language in
`<lang>/LC_MESSAGES/messages.po`. An entry counts as reviewed by a person when it carries the
flag `reviewed` (`#, reviewed` above its msgid); a fuzzy or empty msgstr counts as missing (it is
not compiled). Japanese text written in a template without `_()` is not seen here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.catalog.translations import TextKey, Translation

PORTAL = Path(__file__).resolve().parent
TEMPLATES = PORTAL / "templates"
SOURCE = PORTAL / "translations"
UNIT = "ui"
STAFF_ONLY = ("staff/**",)  # templates whose pages stay Japanese

_METHODS = [
    *((pattern, "ignore") for pattern in STAFF_ONLY),
    ("**.html", "jinja2.ext:babel_extract"),
    ("**.txt", "jinja2.ext:babel_extract"),
]
_KEYWORDS = {"_": None, "gettext": None}


def po_file(lang: str, source: Path = SOURCE) -> Path:
    if lang == "easy":
        return source / "ja" / "LC_MESSAGES" / "easy.po"
    return source / lang / "LC_MESSAGES" / "messages.po"


# Extracted strings by templates folder, with the stamp of its files (extracting takes a second).
_CACHE: dict[Path, tuple[tuple[tuple[str, int, int], ...], dict[TextKey, str]]] = {}


def _stamp(templates: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(p for p in templates.rglob("*") if p.is_file())
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def ui_texts(templates: Path = TEMPLATES) -> dict[TextKey, str]:
    """Every chrome string of the resident-facing templates (the message id is the Japanese)."""
    stamp = _stamp(templates)
    cached = _CACHE.get(templates)
    if cached and cached[0] == stamp:
        return dict(cached[1])
    texts: dict[TextKey, str] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(templates), method_map=_METHODS, keywords=_KEYWORDS
    ):
        if isinstance(message, str) and message:
            texts[TextKey(UNIT, message)] = message
    _CACHE[templates] = (stamp, texts)
    return dict(texts)


def ui_translations(
    languages: Iterable[str], source: Path = SOURCE
) -> dict[str, dict[TextKey, Translation]]:
    """The non-empty, non-fuzzy msgstrs of each language's .po file (none: no file)."""
    found: dict[str, dict[TextKey, Translation]] = {}
    for lang in languages:
        path = po_file(lang, source)
        texts = found.setdefault(lang, {})
        if not path.exists():
            continue
        with path.open("rb") as po:
            catalog = read_po(po, locale="ja" if lang == "easy" else None)
        for message in catalog:
            if not message.id or not isinstance(message.id, str):
                continue
            if not isinstance(message.string, str) or not message.string.strip():
                continue
            if message.fuzzy:
                continue
            reviewed = "reviewed" in message.flags
            texts[TextKey(UNIT, message.id)] = Translation(message.string, reviewed)
    return found
