"""Catalog texts in the resident's language on the resident's pages (issue 23, decision 0066).

`catalog_page_texts()` holds every translation of the catalog's texts (catalog/translations/
<lang>/..., and the inline `en.title`, `easy_summary` ...), read once per catalog load;
`localized(procedure)` is the procedure as the chosen language shows it (made once per procedure
and language: a page then reads `step.title`, `f.label` as before). A text with no translation
stays Japanese and marks itself lang="ja" (`Untranslated`). What the resident submits is read
with the same ids and values, so stored answers do not depend on the language.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from markupsafe import Markup, escape

from portal.catalog import translations as _translations
from portal.catalog.schema import CatalogData, Counter, LifeEvent, Procedure, Step
from portal.catalog.translations import (
    FOLDER_NAME,
    PageTexts,
    Unreviewed,
    Untranslated,
    catalog_folder,
    localize_counter,
    localize_life_event,
    localize_procedure,
    localize_step,
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


def _cached(thing, lang: str, unit: str, localize):
    key = (id(thing), lang)
    cached = _LOCALIZED.get(key)
    if cached is not None and cached[0] is thing:
        return cached[1]
    texts = catalog_page_texts()
    made = localize(thing, lambda path, japanese: texts.text(unit, path, lang, japanese))
    if len(_LOCALIZED) >= _LOCALIZED_MAX:
        _LOCALIZED.clear()
    _LOCALIZED[key] = (thing, made)
    return made


def localized_event(event: LifeEvent, lang: str | None = None) -> LifeEvent:
    """A life event with its texts in the chosen language (itself in Japanese): label, summary,
    screening questions, checklist items, the bundle's shared steps (decision 0072)."""
    lang = lang or current_language()
    if lang == "ja":
        return event
    return _cached(event, lang, f"life-events/{event.id}", localize_life_event)


def event_texts(event: LifeEvent, lang: str | None = None) -> Callable[[str, str], str]:
    """`text(path, japanese)` for a life event's unit in the chosen language."""
    lang = lang or current_language()
    texts = catalog_page_texts()
    unit = f"life-events/{event.id}"
    return lambda path, japanese: texts.text(unit, path, lang, japanese)


def shown_event(event: LifeEvent) -> LifeEvent:
    """A life event not from the catalog (a bundle's stored definition) in the chosen language:
    not cached (a new object each time)."""
    if current_language() == "ja":
        return event
    return localize_life_event(event, event_texts(event))


def shown_shared_step(event: LifeEvent, step: Step) -> Step:
    """A bundle's shared step (maybe holding only some fields) in the chosen language."""
    if current_language() == "ja":
        return step
    return localize_step(step, "bundle.shared", event_texts(event))


def localized_counter(counter: Counter, lang: str | None = None) -> Counter:
    """A counter with its name, place, hours, services in the chosen language."""
    lang = lang or current_language()
    if lang == "ja" or counter is None:
        return counter
    return _cached(counter, lang, "catalog", localize_counter)


def localized_visit(visit):
    """A booking's `Visit` for display: its counter and chosen services localized (ids,
    minutes and people the same)."""
    if visit is None or current_language() == "ja":
        return visit
    counter = localized_counter(visit.counter)
    by_id = {s.id: s for s in counter.booking.services} if counter.booking else {}
    services = tuple(by_id.get(s.id, s) for s in visit.services)
    return dataclasses.replace(visit, counter=counter, services=services)


def localized_booking_values(values: dict) -> dict:
    """A booking page's template values with every counter and visit in the chosen language."""
    if current_language() == "ja":
        return values
    shown = dict(values)
    if shown.get("counter") is not None:
        shown["counter"] = localized_counter(shown["counter"])
    if shown.get("visit") is not None:
        shown["visit"] = localized_visit(shown["visit"])
    if shown.get("counters") is not None:
        shown["counters"] = [localized_counter(c) for c in shown["counters"]]
    if shown.get("mine"):
        shown["mine"] = [
            {**row, "counter": localized_counter(row["counter"]) if row.get("counter") else None}
            for row in shown["mine"]
        ]
    return shown


def localized_states(workflow_name: str, states: dict) -> dict:
    """A workflow's states with their label and description in the chosen language."""
    lang = current_language()
    if lang == "ja":
        return states
    key = ("workflow", workflow_name, lang)
    cached = _LOCALIZED.get(key)  # type: ignore[arg-type]
    if cached is not None and cached[0] is states:
        return cached[1]
    texts = catalog_page_texts()
    made = {}
    for name, state in states.items():
        base = f"workflows.{workflow_name}.states.{name}"
        made[name] = state.model_copy(
            update={
                "label": texts.text("catalog", f"{base}.label", lang, state.label),
                "description": texts.text(
                    "catalog", f"{base}.description", lang, state.description
                ),
            }
        )
    _LOCALIZED[key] = (states, made)  # type: ignore[index]
    return made


def procedure_title(procedure) -> str:
    """The title in the chosen language, as plain text: its element says its language with
    `text_lang(procedure)` (a link, a heading, a kiosk's session)."""
    title = localized(procedure).title
    if isinstance(title, (Unreviewed, Untranslated)):
        note_unreviewed()
    return str(title)


def scope_title(kind: str, scope_id: str, stored: str) -> str:
    """The title of what a help or a payment is about, in the chosen language: the catalog's
    procedure or life event of that id, else the title stored when it was made (Japanese)."""
    catalog = current_app.extensions["catalog"]
    if kind == "procedure":
        procedure = catalog.procedure(scope_id)
        return procedure_title(procedure) if procedure is not None else stored
    for event in catalog.life_events:
        if event.id == scope_id:
            return str(localized_event(event).label)
    return stored


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


# A run of Japanese in a translated city name: kana (or the iteration mark), or kanji on a page
# whose own language does not write them (the Chinese name 夷隅市 is Chinese on a Chinese page).
_KANA = re.compile(r"[\u3040-\u30ff\u3005]")
_JAPANESE_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\u3005]+")


def city_name_html(city) -> Markup:
    """The city's name for body text: as `city_name`, with the Japanese a translation keeps (the
    Korean `이스미시(いすみ市)`) marked `lang="ja"`, as is a missing translation's Japanese. Not for
    a <title> or an attribute (`city_name` there)."""
    found = catalog_lookup("catalog", "city.name", city.name)
    if isinstance(found, Untranslated):
        return escape(found)  # its own __html__: marked lang, noted
    text = city_name(city)
    lang = current_language()
    if lang in ("ja", "easy"):
        return escape(text)

    def marked(run: re.Match[str]) -> str:
        if lang == "zh" and not _KANA.search(run.group(0)):
            return run.group(0)
        return f'<span lang="ja">{run.group(0)}</span>'

    return Markup(_JAPANESE_RUN.sub(marked, str(escape(text))))  # noqa: S704 - escaped first


def fill(text: str, **values) -> Markup:
    """A translated sentence whose values are markup (`_('%(city)sのオンライン手続')|fill(city=
    city_name_html(city))`): `_()` with no values leaves the placeholders; the sentence is escaped
    and the values are put in, escaped unless they are markup. `_()` itself formats with `%` on
    plain strings, which would write a value's tags as text."""
    return escape(text) % values


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
        scope_title=scope_title,
        procedure_summary=procedure_summary,
        text_lang=text_lang,
        untranslated_lang=untranslated_lang,
        catalog_text=catalog_item_text,
        city_name=city_name,
        city_name_html=city_name_html,
        localized_event=localized_event,
        localized_procedure=localized,
        localized_counter=localized_counter,
    )
    app.jinja_env.filters["plain"] = plain_text
    app.jinja_env.filters["fill"] = fill
