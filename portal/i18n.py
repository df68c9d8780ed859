"""Languages: 日本語, やさしい日本語, English, 简体中文, 한국어, Tiếng Việt, Português and
नेपाली, for the page chrome and the catalog's texts (decisions 0060, 0066, 0071).

The resident's choice is kept in the session (`?lang=en` on any page sets it and comes back to
the same page; on a form step the choice is a button of the form, so nothing typed is lost).
Flask-Babel selects the locale: the language's own for a foreign language (`FOREIGN`), "ja" for
日本語 and やさしい日本語. Chrome strings are written in Japanese in the templates, wrapped in
`_()`; a foreign language's come from the "messages" domain of its locale, やさしい日本語 from the
"easy" domain of locale ja (all under portal/translations). A chrome string a foreign language
lacks is shown in English, else in Japanese (`FALLBACK`: a foreign resident is likelier to read
English than Japanese). The .po files are compiled to .mo under the instance folder at start-up,
so no build step is needed and a new language is a new .po file plus an entry in LANGUAGES and
HTML_LANG.

Catalog texts in the chosen language: portal.localization (decision 0066; this module imports
nothing of the catalog, whose field types use `translate` and `shown`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import partial
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, urlencode

from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask, current_app, g, redirect, request, session
from flask_babel import Babel, Domain
from flask_babel import gettext as babel_gettext
from markupsafe import Markup

from portal import japanese
from portal.input_policy import plain
from portal.urls import safe_path

# Each language's name in itself (the language menu), and its BCP 47 tag for `lang` attributes.
LANGUAGES = {
    "ja": "日本語",
    "easy": "やさしい日本語",
    "en": "English",
    "zh": "简体中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt": "Português",
    "ne": "नेपाली",
}
HTML_LANG = {
    "ja": "ja",
    "easy": "ja",
    "en": "en",
    "zh": "zh-Hans",
    "ko": "ko",
    "vi": "vi",
    "pt": "pt-BR",
    "ne": "ne",
}
# Languages whose pages are not Japanese: their own gettext locale, dates in their own way, the
# Japanese title under theirs, typed Japanese marked lang="ja".
FOREIGN = tuple(lang for lang in LANGUAGES if HTML_LANG[lang] != "ja")
# Where a text missing in a language is looked for next (before the Japanese): English, for every
# foreign language but English itself (decision 0071).
FALLBACK = {lang: "en" for lang in FOREIGN if lang != "en"}
SOURCE = Path(__file__).with_name("translations")

_easy = Domain(domain="easy")
# English chrome, for a foreign language's missing strings (loaded in init_app).
_english: list = []


# A language set for a piece of work done on someone else's behalf (decision 0074): mail to
# the resident built in a clerk's request or by a job is written in the resident's language.
_FORCED: ContextVar[str | None] = ContextVar("lang_forced", default=None)
# Each language's chrome translations, for texts looked up in a forced language (Flask-Babel's
# own lookup follows the request's locale). Loaded in init_app.
_BY_LANGUAGE: dict[str, Translations] = {}


@contextmanager
def in_language(lang: str | None) -> Iterator[None]:
    """Chrome and catalog texts in `lang` (Japanese for None or an unknown language) until the
    block ends, whatever the request's own language (a staff request's is Japanese)."""
    token = _FORCED.set(lang if lang in LANGUAGES else "ja")
    try:
        yield
    finally:
        _FORCED.reset(token)


def current_language() -> str:
    forced = _FORCED.get()
    if forced is not None:
        return forced
    # One look through the `session` proxy, not two: a step page asks about twenty times.
    try:
        data = session._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:  # outside a request
        return "ja"
    # What this request decided once (staff pages: Japanese; no choice yet: the browser's) is
    # kept on the session object of this request (an attribute, not session data).
    fixed = getattr(data, "lang_fixed", None)
    if fixed is None:
        fixed = _fixed_language(data)
    if fixed:
        return fixed
    lang = data.get("lang") if data else None
    if lang in LANGUAGES:
        return lang
    guess = getattr(data, "lang_guess", None)
    return guess if guess is not None else _first_visit_language(data)


# Staff pages (/staff/..., the staff API) show the catalog's texts and the chrome in Japanese
# whatever language the session holds: the clerk reads the city's own wording (decision 0070).
STAFF_PREFIXES = ("/staff/", "/api/staff/")
STAFF_BLUEPRINTS = frozenset({"staff", "staff_api", "staff_session_timeout"})
# Chosen from the browser's Accept-Language when the session holds no choice: やさしい日本語 is
# never chosen for the resident (nothing in the header asks for it). Every other language's code
# is its primary subtag ("zh-CN" and "zh-TW" both choose zh, the nearest the portal has).
AUTOMATIC = ("ja", *FOREIGN)


def is_staff_request() -> bool:
    path = request.path
    return (
        path == "/staff" or path.startswith(STAFF_PREFIXES) or request.blueprint in STAFF_BLUEPRINTS
    )


def _fixed_language(data) -> str:
    fixed = "ja" if is_staff_request() else ""
    with suppress(AttributeError):  # a session class without attributes: decide again
        data.lang_fixed = fixed
    return fixed


def browser_language(accepted) -> str:
    """The first of AUTOMATIC the browser accepts, by its order of preference, comparing the
    primary subtag ("en-GB" is English, "ja-JP" Japanese); Japanese when none is."""
    for value, quality in accepted:  # werkzeug keeps them best first
        primary = value.split("-", 1)[0].split("_", 1)[0].lower()
        if quality > 0 and primary in AUTOMATIC:
            return primary
    return "ja"


def _no_kiosk() -> bool:
    return False


# Whether the request comes from a registered kiosk terminal: its language is chosen on the
# kiosk's start screen, never guessed (this runs before the kiosk's own hook sets `g.kiosk`, and a
# guess written into the terminal's session broke the kiosk's first form). portal.kiosk.mode sets
# it at start-up (it imports this module, not the other way round).
kiosk_terminal: Callable[[], bool] = _no_kiosk


def _first_visit_language(data) -> str:
    """No language in the session yet: the best of AUTOMATIC for the browser's Accept-Language
    (Japanese without one), kept in the session once it has one (a first request that stores
    nothing creates no session for it). A kiosk's visit chooses on its start screen instead."""
    guess = "ja"
    if g.get("kiosk") is None and not kiosk_terminal() and request.accept_languages:
        guess = browser_language(request.accept_languages)
        if getattr(data, "token", None) is not None and data.get("lang") is None:
            data["lang"] = guess
    with suppress(AttributeError):  # a session class without attributes: decide again
        data.lang_guess = guess
    return guess


def _locale() -> str:
    lang = current_language()
    return lang if lang in FOREIGN else "ja"


def is_foreign(lang: str | None = None) -> bool:
    """Whether the page (or `lang`) is in a language other than Japanese."""
    return (lang or current_language()) in FOREIGN


def translate(text: str, **values) -> str:
    """A chrome string in the chosen language (the Japanese text is the message id); in a foreign
    language without it, the English (`FALLBACK`), else the Japanese.

    A text the translations know is looked up once per application and language and then kept
    (decision 0067): Flask-Babel's own lookup finds its request context, locale and domain
    through several context-local proxies on every call, about a sixth of an English step
    page's cost. Only texts that came back translated are kept: those are the .po files'
    entries, a bounded set with nothing personal; any other text (one built with a typed value,
    or one with no translation) goes through Flask-Babel every time, as before."""
    lang = current_language()
    if lang == "ja":
        return text % values if values else text
    try:
        known: dict[str, str] = current_app.extensions[_KNOWN][lang]
    except KeyError:  # an application without init_app (a unit test's): nothing kept
        known = {}
    found = known.get(text)
    if found is not None:
        translated = found
    else:
        translated = _looked_up(lang, text)
        if translated != text:
            known[text] = translated
    if text not in _REVIEWED.get(lang, ()):
        _UNREVIEWED.set(True)  # for the page's translation notice (decision 0070)
    return translated % values if values else translated


_KNOWN = "i18n_known_texts"


def _looked_up(lang: str, text: str) -> str:
    if _FORCED.get() is not None and lang in _BY_LANGUAGE:
        translated = _BY_LANGUAGE[lang].gettext(text)
        if translated == text and lang in FALLBACK and _english:
            translated = _english[0].gettext(text)
        return translated
    if lang == "easy":
        return _easy.gettext(text)
    translated = babel_gettext(text)
    if translated == text and lang in FALLBACK and _english:
        translated = _english[0].gettext(text)
    return translated


def chrome_lang(text: str) -> str:
    """The lang tag of what `translate(text)` shows: the page's language, "en" for a foreign
    language's string shown in English, "ja" for one no language has (where a chrome string sits
    in an element of its own: the 必須 tag, the error prefix, the error summary's title)."""
    lang = current_language()
    if lang not in FOREIGN:
        return HTML_LANG[lang]
    # Kept per application and language like `translate`'s texts (an English page asks about
    # 必須/任意 once per field): only an answer that found a translation is kept, so the kept set
    # is bounded by the .po files; a language forced for a block is looked up as before.
    kept: dict[str, str] | None = None
    if _FORCED.get() is None:
        with suppress(KeyError):  # an application without init_app: nothing kept
            kept = current_app.extensions[_CHROME_LANGS][lang]
        if kept is not None and (found := kept.get(text)) is not None:
            return found
    if babel_gettext(text) != text:
        answer = HTML_LANG[lang]
    elif lang in FALLBACK and _english and _english[0].gettext(text) != text:
        answer = "en"
    else:
        return "ja"
    if kept is not None:
        kept[text] = answer
    return answer


_CHROME_LANGS = "i18n_chrome_langs"


# --- provenance on pages (decision 0070) ------------------------------------------------------
# A page in another language that showed a text not checked by a translator (a translation with
# `reviewed: false`, a chrome string without the flag `#, reviewed`, or the Japanese shown for a
# missing translation) says so at the top of its <main>, in its language, with a way to the
# Japanese original. Texts note themselves when they are looked up (chrome) or written into the
# page (catalog texts: portal.catalog.translations.Unreviewed / Untranslated); the notice takes
# the place of a marker the layout writes at the top of <main> (`provenance_slot`), once the page
# is rendered.

# Reviewed chrome message ids per language (read from the .po files at start-up).
_REVIEWED: dict[str, frozenset[str]] = {}
# One C call to note (a page notes for each chrome string): a context variable of the request's
# thread, set back to False when each request ends.
_UNREVIEWED: ContextVar[bool] = ContextVar("lang_unreviewed", default=False)
_FORM_ID = re.compile(r"[A-Za-z][\w-]*")
_MARKER = re.compile(r"<!--lang-provenance(?::([A-Za-z][\w-]*))?-->")

# The notice in each language but Japanese (a new language adds its own; it falls back to
# English). Written here, not in the .po files: it is about those files' state.
PROVENANCE_NOTICE = {
    "en": (
        "This page was translated by the city's developers and has not yet been checked by a "
        "translator.",
        "Japanese original",
    ),
    "easy": (
        "このページのやさしい日本語は、まだ市の係の人がたしかめていません。",
        "もとの日本語のページを見る",
    ),
    "zh": ("本页由市政府的开发人员翻译，尚未经过翻译人员的检查。", "日语原文"),
    "ko": (
        "이 페이지는 시의 개발자가 번역했으며, 아직 번역가의 확인을 거치지 않았습니다.",
        "일본어 원문",
    ),
    "vi": (
        "Trang này do các nhà phát triển của thành phố dịch và chưa được người dịch kiểm tra.",
        "Bản gốc tiếng Nhật",
    ),
    "pt": (
        "Esta página foi traduzida pelos desenvolvedores da prefeitura e ainda não foi revisada "
        "por um tradutor.",
        "Original em japonês",
    ),
    "ne": (
        "यो पृष्ठ नगरपालिकाका विकासकर्ताहरूले अनुवाद गरेका हुन् र अनुवादकले अझै जाँच गरेका छैनन्।",
        "जापानी मूल",
    ),
}


# This request's page shows a text no translator checked (a C call: no Python frame per text).
note_unreviewed = partial(_UNREVIEWED.set, True)


def unreviewed_noted() -> bool:
    return _UNREVIEWED.get()


def reset_noted(value: bool = False) -> None:
    _UNREVIEWED.set(value)


def _forget_noted(_error=None) -> None:
    # Every request ends here (teardown runs after errors too), so the next one in this thread
    # starts with nothing noted.
    _UNREVIEWED.set(False)


def reviewed_messages(source: Path = SOURCE) -> dict[str, frozenset[str]]:
    """Per language, the chrome message ids whose translation is flagged `#, reviewed`."""
    found: dict[str, frozenset[str]] = {}
    for po_path in source.glob("*/LC_MESSAGES/*.po"):
        locale, domain = po_path.parts[-3], po_path.stem
        lang = "easy" if domain == "easy" else locale
        catalog = _parsed_po(po_path)[0]
        found[lang] = frozenset(
            str(m.id)
            for m in catalog
            if m.id and m.string and "reviewed" in m.flags and not m.fuzzy
        )
    return found


def provenance_slot(form: str | None = None) -> Markup:
    """Where the notice goes (top of <main>); `form`: the id of the page's form, whose language
    buttons keep what was typed (a link would leave it)."""
    if current_language() == "ja":
        return Markup("")
    if form is not None and not _FORM_ID.fullmatch(form):
        raise ValueError(f"not a form id: {form!r}")
    # A comment of the layout's own, with an id the template wrote (checked above).
    return Markup(f"<!--lang-provenance:{form}-->" if form else "<!--lang-provenance-->")  # noqa: S704


def provenance_notice(form: str | None) -> Markup:
    lang = current_language()
    text, link = PROVENANCE_NOTICE.get(lang, PROVENANCE_NOTICE["en"])
    # Marked with its own language (3.1.2): the English of a language without a notice yet, and
    # a notice inside a <main> still marked Japanese (a template not yet translated).
    written_in = HTML_LANG[lang] if lang in PROVENANCE_NOTICE else "en"
    if form:
        # A button of the page's form (as its language menu): the answers typed go along.
        back = Markup(
            '<button class="link-button" type="submit" form="{}" name="_action" value="lang:ja"'
            " formnovalidate>{}</button>"
        ).format(form, link)
    else:
        back = Markup('<a href="{}" hreflang="ja">{}</a>').format(switch_urls()["ja"], link)
    return Markup(
        '<div class="notice notice--translation" data-translation-notice lang="{}"><p>{} {}</p>'
        "</div>"
    ).format(written_in, text, back)


def _write_provenance(response):
    """Put the notice (or nothing) where the layout left its marker."""
    if response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed:
        return response
    if current_language() == "ja":
        return response
    # On the encoded body, so that the page is neither decoded nor encoded again (decision
    # 0073): a marker ends at the first `-->` after its start (its id holds no `>`).
    body = response.get_data()
    start = body.find(_MARKER_START)
    while start != -1:
        end = body.find(b"-->", start)
        if end == -1:
            return response
        match = _MARKER.fullmatch(body[start : end + 3].decode())
        if match is not None:
            notice = provenance_notice(match.group(1)) if unreviewed_noted() else ""
            response.set_data(body[:start] + str(notice).encode() + body[end + 3 :])
            return response
        start = body.find(_MARKER_START, start + 1)
    return response


_MARKER_START = b"<!--lang-provenance"


def catalog_text(item, attribute: str) -> str:
    """`label`/`name` of a life event or department, with `<attribute>_en`/`_easy` variants (a
    foreign language without its own variant takes the English one). Pages use
    `portal.localization.catalog_item_text`, which also reads the translation files."""
    lang = current_language()
    if lang != "ja":
        # Inline variants are translations whose provenance was not recorded (decision 0060);
        # without one the Japanese is shown: either way not checked by a translator.
        note_unreviewed()
    for candidate in (lang, FALLBACK.get(lang)):
        if candidate and candidate != "ja":
            variant = getattr(item, f"{attribute}_{candidate}", None)
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


def local_date(value, lang: str) -> str:
    """A date written the way `lang` writes it ("April 1, 2024", "1 tháng 4, 2024", "2024年4月1日"
    in 简体中文); Japanese (both calendars) for 日本語 and やさしい日本語."""
    if lang == "en":
        return f"{value:%B} {value.day}, {value.year}"
    if lang in FOREIGN:
        return format_date(value, format="long", locale=_babel_locale(lang))
    return japanese.format_both(value)


def local_datetime(value, lang: str) -> str:
    """A local date and time in `lang`'s way (the Japanese form for 日本語)."""
    if lang == "en":
        return f"{value:%B} {value.day}, {value.year}, {value.hour}:{value.minute:02d}"
    if lang in FOREIGN:
        locale = _babel_locale(lang)
        day = format_date(value, format="long", locale=locale)
        return f"{day} {format_time(value, format='short', locale=locale)}"
    return f"{value.year}年{value.month}月{value.day}日 {value.hour}時{value.minute:02d}分"


def _babel_locale(lang: str) -> str:
    return HTML_LANG[lang].replace("-", "_")


def shown_date(value) -> str:
    """A date answer: "2024年（令和6年）4月1日", in English "April 1, 2024" (as `long_date`)."""
    return local_date(value, display_language())


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")
_LANG_JA = Markup(' lang="ja"')


def answer_lang(value) -> Markup:
    """` lang="ja"` for an answer holding Japanese (a typed name, an address) on a page in
    another language."""
    if current_language() not in FOREIGN or not _JAPANESE.search(str(value)):
        return Markup("")
    return _LANG_JA


# Each .po file parsed once per process, and again only when it changes: every app the
# process creates (each test creates one, with an instance folder of its own) reuses the parse
# and the compiled .mo bytes instead of reading 40 000 lines again.
_PARSED_PO: dict[Path, tuple[tuple[int, int], Catalog, bytes]] = {}


def _parsed_po(po_path: Path) -> tuple[Catalog, bytes]:
    """The catalog of one .po file and its compiled .mo bytes."""
    stat = po_path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _PARSED_PO.get(po_path)
    if cached is None or cached[0] != version:
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        compiled = BytesIO()
        write_mo(compiled, catalog)
        cached = _PARSED_PO[po_path] = (version, catalog, compiled.getvalue())
    return cached[1], cached[2]


def compile_translations(target: Path) -> Path:
    """Compile every .po under portal/translations to .mo under `target` when stale."""
    for po_path in SOURCE.glob("*/LC_MESSAGES/*.po"):
        mo_path = target / po_path.relative_to(SOURCE).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo_path.with_suffix(".tmp")
        tmp.write_bytes(_parsed_po(po_path)[1])
        tmp.replace(mo_path)
    return target


def switch_language():
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
    plain short parameters come along, as in `switch_language` (which drops the others
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
    app.extensions[_CHROME_LANGS] = {lang: {} for lang in FOREIGN}
    _english[:] = [Translations.load(str(compiled), ["en"], "messages")]
    _BY_LANGUAGE.clear()
    for lang in FOREIGN:
        _BY_LANGUAGE[lang] = Translations.load(str(compiled), [lang], "messages")
    _BY_LANGUAGE["easy"] = Translations.load(str(compiled), ["ja"], "easy")
    app.before_request(switch_language)
    app.after_request(_write_provenance)
    app.teardown_request(_forget_noted)
    _REVIEWED.update(reviewed_messages())
    app.jinja_env.globals.update(
        _=translate,
        gettext=translate,
        languages=LANGUAGES,
        current_language=current_language,
        html_lang=lambda: HTML_LANG[current_language()],
        language_tags=HTML_LANG,
        is_foreign=is_foreign,
        chrome_lang=chrome_lang,
        catalog_text=catalog_text,
        answer_lang=answer_lang,
        language_urls=switch_urls,
        provenance_slot=provenance_slot,
    )
