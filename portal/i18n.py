"""Languages: 日本語, やさしい日本語 and English, for the page chrome and the catalog's texts.

The resident's choice is kept in the session (`?lang=en` on any page sets it and comes back to
the same page; on a form step the choice is a button of the form, so nothing typed is lost).
Flask-Babel selects the locale: "en" for English, "ja" otherwise. Chrome strings are written in
Japanese in the templates, wrapped in `_()`; English comes from the "messages" domain of locale
en, やさしい日本語 from the "easy" domain of locale ja (both under portal/translations). The .po
files are compiled to .mo under the instance folder at start-up, so no build step is needed and
a new language is a new .po file plus an entry in LANGUAGES.

Catalog texts in the chosen language: portal.localization (decision 0066; this module imports
nothing of the catalog, whose field types use `translate` and `shown`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import quote, urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, redirect, request, session
from flask_babel import Babel, Domain
from flask_babel import gettext as babel_gettext
from markupsafe import Markup

from portal import japanese
from portal.input_policy import plain
from portal.urls import safe_path

LANGUAGES = {"ja": "日本語", "easy": "やさしい日本語", "en": "English"}
HTML_LANG = {"ja": "ja", "easy": "ja", "en": "en"}
SOURCE = Path(__file__).with_name("translations")

_easy = Domain(domain="easy")


def current_language() -> str:
    # One look through the `session` proxy, not two: a step page asks about twenty times.
    try:
        data = session._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:  # outside a request
        return "ja"
    lang = data.get("lang") if data else None
    return lang if lang in LANGUAGES else "ja"


def _locale() -> str:
    return "en" if current_language() == "en" else "ja"


def translate(text: str, **values) -> str:
    """A chrome string in the chosen language (the Japanese text is the message id).

    A text the translations know is looked up once per application and language and then kept
    (decision 0067): Flask-Babel's own lookup finds its request context, locale and domain
    through several context-local proxies on every call, about a sixth of an English step
    page's cost. Only texts that came back translated are kept: those are the .po files'
    entries, a bounded set with nothing personal; any other text (one built with a typed value,
    or one with no translation) goes through Flask-Babel every time, as before."""
    lang = current_language()
    if lang == "ja":
        translated = text
    else:
        try:
            known: dict[str, str] = current_app.extensions[_KNOWN][lang]
        except KeyError:  # an application without init_app (a unit test's): nothing kept
            known = {}
        found = known.get(text)
        if found is not None:
            translated = found
        else:
            translated = _easy.gettext(text) if lang == "easy" else babel_gettext(text)
            if translated != text:
                known[text] = translated
    return translated % values if values else translated


_KNOWN = "i18n_known_texts"


def catalog_text(item, attribute: str) -> str:
    """`label`/`name` of a life event or department, with `<attribute>_en`/`_easy` variants."""
    lang = current_language()
    if lang != "ja":
        variant = getattr(item, f"{attribute}_{lang}", None)
        if variant:
            return variant
    return getattr(item, attribute)


# Answers are shown (summary rows, a field type's `display`) in the resident's language only on
# the resident's pages that ask for it (`showing_localized`); staff pages, exports and stored
# texts (corrections) keep Japanese whatever the session's language.
_LOCALIZED_DISPLAY: ContextVar[bool] = ContextVar("localized_display", default=False)


@contextmanager
def showing_localized() -> Iterator[None]:
    token = _LOCALIZED_DISPLAY.set(True)
    try:
        yield
    finally:
        _LOCALIZED_DISPLAY.reset(token)


def display_language() -> str:
    return current_language() if _LOCALIZED_DISPLAY.get() else "ja"


def shown(text: str, **values) -> str:
    """A chrome string of a displayed answer (はい, なし, separators): translated only inside
    `showing_localized`."""
    if _LOCALIZED_DISPLAY.get():
        return translate(text, **values)
    return text % values if values else text


def shown_date(value) -> str:
    """A date answer: "2024年（令和6年）4月1日", in English "April 1, 2024" (as `long_date`)."""
    if display_language() == "en":
        return f"{value:%B} {value.day}, {value.year}"
    return japanese.format_both(value)


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")
_LANG_JA = Markup(' lang="ja"')


def answer_lang(value) -> Markup:
    """` lang="ja"` for an answer holding Japanese (a typed name, an address) on a page in
    another language."""
    if current_language() != "en" or not _JAPANESE.search(str(value)):
        return Markup("")
    return _LANG_JA


def compile_translations(target: Path) -> Path:
    """Compile every .po under portal/translations to .mo under `target` when stale."""
    for po_path in SOURCE.glob("*/LC_MESSAGES/*.po"):
        mo_path = target / po_path.relative_to(SOURCE).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        tmp = mo_path.with_suffix(".tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)
    return target


def _switch_language():
    """`?lang=xx` on a GET: remember the choice and show the same page without the parameter."""
    lang = request.args.get("lang")
    if request.method != "GET" or lang is None:
        return None
    if lang in LANGUAGES:
        session["lang"] = lang
    # The same page, as a path of this site: the path comes from the request (`GET
    # //evil.example/?lang=en` must not lead off the site), and of the other parameters only
    # plain short ones come back (a page's own choices: ids, dates, numbers), so no header
    # echoes what someone put in a link (decision 0044).
    rest = [
        (k, v) for k, v in request.args.items(multi=True) if k != "lang" and plain(k) and plain(v)
    ]
    target = quote(request.path) + (f"?{urlencode(rest)}" if rest else "")
    return redirect(safe_path(target) or safe_path(quote(request.path), "/"), 303)


def switch_urls() -> dict[str, str]:
    """The current page in each language (links of the language menu). Of the query only the
    plain short parameters come along, as in `_switch_language` (which drops the others
    anyway): a refused 100 000-character value is not copied into three links of its 400 page."""
    rest = [
        (k, v) for k, v in request.args.items(multi=True) if k != "lang" and plain(k) and plain(v)
    ]
    path = quote(request.path)  # a valid URL whatever the path holds
    return {lang: f"{path}?{urlencode([*rest, ('lang', lang)])}" for lang in LANGUAGES}


def init_app(app: Flask) -> None:
    compiled = compile_translations(Path(app.config["INSTANCE_PATH"]) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    Babel(app, locale_selector=_locale)
    app.extensions[_KNOWN] = {lang: {} for lang in LANGUAGES if lang != "ja"}
    app.before_request(_switch_language)
    app.jinja_env.globals.update(
        _=translate,
        gettext=translate,
        languages=LANGUAGES,
        current_language=current_language,
        html_lang=lambda: HTML_LANG[current_language()],
        catalog_text=catalog_text,
        answer_lang=answer_lang,
        language_urls=switch_urls,
    )
