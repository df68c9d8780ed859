"""Catalog texts in the resident's language on the resident's pages (issue 23, decision 0066).

`catalog_page_texts()` holds every translation of the catalog's texts (catalog/translations/
<lang>/..., and the inline `en.title`, `easy_summary` ...), read once per catalog load;
`localized(procedure)` is the procedure as the chosen language shows it (made once per procedure
and language: a page then reads `step.title`, `f.label` as before). A text with no translation
stays Japanese and marks itself lang="ja" (`Untranslated`). What the resident submits is read
with the same ids and values, so stored answers do not depend on the language.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from markupsafe import Markup

from portal.catalog import translations as _translations
from portal.catalog.schema import CatalogData, Procedure
from portal.catalog.translations import (
    FOLDER_NAME,
    PageTexts,
    Unreviewed,
    Untranslated,
    catalog_folder,
    localize_procedure,
    page_texts,
)
from portal.i18n import (
    FALLBACK,
    HTML_LANG,
    LANGUAGES,
    current_language,
    is_foreign,
    note_unreviewed,
)

# Page texts per catalog object (tests make many apps from one unchanged catalog) and localized
# procedures per (procedure object, language): built once, then a dict lookup per page.
_PAGE_TEXTS: dict[int, tuple[object, PageTexts]] = {}
_LOCALIZED: dict[tuple[int, str], tuple[Procedure, Procedure]] = {}
_LOCALIZED_MAX = 512  # snapshots of old drafts are procedures too: keep the cache bounded


def load_page_texts(catalog: CatalogData, catalog_path: str | Path) -> PageTexts:
    """The translations of `catalog` (read from the translation files beside its entry file)."""
    cached = _PAGE_TEXTS.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    texts = page_texts(
        catalog, catalog_folder(Path(catalog_path)) / FOLDER_NAME, LANGUAGES, FALLBACK
    )
    _PAGE_TEXTS[id(catalog)] = (catalog, texts)
    return texts


def catalog_page_texts() -> PageTexts:
    found: PageTexts = current_app.extensions["catalog_page_texts"]
    return found


def catalog_lookup(unit: str, path: str, japanese: str, lang: str | None = None) -> str:
    """One catalog text (unit + path) in the chosen language, or `japanese` marked lang="ja"."""
    return catalog_page_texts().text(unit, path, lang or current_language(), japanese)


def localized(procedure: Procedure, lang: str | None = None) -> Procedure:
    """`procedure` with its texts in the chosen language (itself in Japanese)."""
    lang = lang or current_language()
    if lang == "ja":
        return procedure
    key = (id(procedure), lang)
    cached = _LOCALIZED.get(key)
    if cached is not None and cached[0] is procedure:
        return cached[1]
    texts = catalog_page_texts()
    unit = f"procedures/{procedure.id}"
    made = localize_procedure(
        procedure, lambda path, japanese: texts.text(unit, path, lang, japanese)
    )
    if len(_LOCALIZED) >= _LOCALIZED_MAX:
        _LOCALIZED.clear()
    _LOCALIZED[key] = (procedure, made)
    return made


def procedure_title(procedure) -> str:
    """The title in the chosen language, as plain text: its element says its language with
    `text_lang(procedure)` (a link, a heading, a kiosk's session)."""
    title = localized(procedure).title
    if isinstance(title, (Unreviewed, Untranslated)):
        note_unreviewed()
    return str(title)


def procedure_summary(procedure) -> str:
    return localized(procedure).summary


def text_lang(procedure=None) -> str:
    """The lang of a procedure's title shown now ("ja" when it is not translated, "en" when a
    foreign language shows the English instead)."""
    lang = current_language()
    if not is_foreign(lang):
        return "ja"
    if procedure is not None:
        title = localized(procedure).title
        if isinstance(title, Untranslated):
            return title.lang
    return HTML_LANG[lang]


def catalog_item_text(item, attribute: str) -> str:
    """A department's `name` or a life event's `label` in the chosen language (the translation
    files, the inline `name_en` ...), with the fallback of `PageTexts.text` (marked)."""
    if attribute == "name":
        unit, path = "catalog", f"departments.{item.id}.name"
    else:
        unit, path = f"life-events/{item.id}", attribute
    return catalog_lookup(unit, path, getattr(item, attribute))


def city_name(city) -> str:
    """The city's name in the chosen language, as plain text (a <title>, a sentence's value).
    Plain text writes no mark, so an unreviewed or missing translation is noted here for the
    page's notice (decision 0070): only a reviewed translation is a bare `str`."""
    found = catalog_lookup("catalog", "city.name", city.name)
    if type(found) is not str and current_language() != "ja":
        note_unreviewed()
    return plain_text(found)


def plain_text(value) -> str:
    """A text for an attribute or a <title> (no lang mark)."""
    return "" if value is None else str(value)


_LANG_JA = Markup(' lang="ja"')
_NONE = Markup("")


def untranslated_lang(text: object) -> Markup:
    """` lang="ja"` for an untranslated catalog text where no <span> may go (an <option>);
    ` lang="en"` for the English shown for a missing foreign translation."""
    if not isinstance(text, Untranslated):
        return _NONE
    return _LANG_JA if text.lang == "ja" else Markup(' lang="{}"').format(text.lang)


def init_app(app: Flask) -> None:
    _translations.shown_unreviewed = note_unreviewed
    app.extensions["catalog_page_texts"] = load_page_texts(
        app.extensions["catalog"], app.config["CATALOG_PATH"]
    )
    app.jinja_env.globals.update(
        procedure_title=procedure_title,
        procedure_summary=procedure_summary,
        text_lang=text_lang,
        untranslated_lang=untranslated_lang,
        catalog_text=catalog_item_text,
        city_name=city_name,
    )
    app.jinja_env.filters["plain"] = plain_text
