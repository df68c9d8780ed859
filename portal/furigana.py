"""ふりがな: readings over the kanji of the resident's Japanese pages (issue 23; decision 0069).

Off by default; a resident turns it on from the language menu (or the form's language menu on a
step page, which keeps what was typed), and the choice is kept in the session. It applies to
日本語 and やさしい日本語 pages, never English ones, and never to staff pages.

Readings come from a maintained morphological analyser (SudachiPy with the core dictionary),
except for the words of the catalog's reading table (catalog/readings.yaml: the city's own place
names, which a general dictionary reads wrong — 岬町 is みさきまち, 椎木 is しいぎ). A text is
read once: `Reader.html()` keeps the result per text node, so a page shown again costs a
dictionary look-up per text node.

The pages are annotated after rendering, on the response's UTF-8 bytes (`annotate_utf8`): every
text node with kanji, outside <script>, <style>, <textarea>, <title>, <select>/<option>, an
existing <ruby>, and any element whose class holds `no-ruby` (typed answers, the resident's
name), is given twice:

    <span class="visually-hidden furigana-source">妊娠の届出</span><span class="furigana"
    aria-hidden="true"><ruby>妊娠<rt>にんしん</rt></ruby>の<ruby>届出<rt>とどけで</rt></ruby></span>

A screen reader reads the text once, exactly as written (headings, labels and links keep their
names); the eyes see the readings. <rt aria-hidden="true"> alone was not enough: Chromium then
reads each text once but cuts names at every <ruby> ("妊娠 の 届出"), so a label no longer
matches the text a voice-control user says. Attributes (an input's value, an aria-label) are
never touched. CSS keeps the hidden copy and the readings out of a copied selection.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jaconv
import yaml
from flask import request

READINGS_NAME = "readings.yaml"
SESSION_KEY = "furigana"
LANGUAGES = ("ja", "easy")  # the page languages that take ふりがな
CACHE_LIMIT = 20_000  # text nodes kept per reader (the chrome and the catalog are a few thousand)

_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
HAS_KANJI = re.compile(f"[{_KANJI}]")
_RUNS = re.compile(f"[{_KANJI}]+|[^{_KANJI}]+")
_KANA_READING = re.compile(r"[\u3041-\u309fー]+")
_HIRAGANA_ONLY = re.compile(r"[\u3041-\u309fー]+")

# Counters whose reading depends on the number before them: the ruby then spans the digits too
# (「1日」 is ついたち, 「2人」 is ふたり); any other number reads as the analyser says.
_DAYS = {
    "1": "ついたち", "2": "ふつか", "3": "みっか", "4": "よっか", "5": "いつか", "6": "むいか",
    "7": "なのか", "8": "ようか", "9": "ここのか", "10": "とおか", "14": "じゅうよっか",
    "20": "はつか", "24": "にじゅうよっか",
}  # fmt: skip
_PEOPLE = {"1": "ひとり", "2": "ふたり"}
_NUMBER_COUNTER = re.compile(r"(?<![0-9０-９.])([0-9]{1,2})(日|人)(?![間目])")


_GIVEN_READING = re.compile(f"[{_KANJI}]+[（(][\u3041-\u309fー]+[）)]")


# A text with readings: as written, for assistive technology (visually hidden, not copied), then
# with its readings, for the eyes (hidden from assistive technology). See the module docstring.
SOURCE_OPEN = '<span class="visually-hidden furigana-source">'
SHOWN_OPEN = '<span class="furigana" aria-hidden="true">'
_ANNOTATED = re.compile(
    re.escape(SOURCE_OPEN)
    + r"([^<]*)</span>"
    + re.escape(SHOWN_OPEN)
    + r"(?:[^<]|</?ruby>|</?rt>)*</span>"
)


class ReadingsError(ValueError):
    """The catalog's reading table is malformed."""


def read_overrides(path: Path) -> dict[str, str]:
    """catalog/readings.yaml: `{word: reading}` (hiragana), for place names and names."""
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems = check_overrides(loaded)
    if problems:
        raise ReadingsError(f"{path}: " + "; ".join(problems))
    return {str(word): str(reading) for word, reading in loaded.items()}


def check_overrides(loaded: Any) -> list[str]:
    """Problems of a reading table: a word must hold a kanji, a reading must be hiragana."""
    if not isinstance(loaded, dict):
        return ["must map a word to its reading in hiragana"]
    problems = []
    for word, reading in loaded.items():
        if not isinstance(word, str) or not HAS_KANJI.search(word):
            problems.append(f"{word!r}: a word of the table must contain a kanji")
        elif not isinstance(reading, str) or not _HIRAGANA_ONLY.fullmatch(reading):
            problems.append(f"{word}: the reading must be hiragana ({reading!r})")
    return problems


def _hiragana(text: str) -> str:
    return jaconv.kata2hira(text)


def align(surface: str, reading: str) -> list[tuple[str, str | None]]:
    """A word and its reading → pieces (text, reading over it or None): 受け取る + うけとる →
    受/う, け, 取/と, る. When the kana of the word cannot be found in the reading, the whole
    word takes the whole reading."""
    runs = _RUNS.findall(surface)
    if len(runs) == 1:
        return [(surface, reading)]
    pattern = "".join(
        "(.+?)" if HAS_KANJI.match(run) else f"({re.escape(_hiragana(run))})" for run in runs
    )
    match = re.fullmatch(pattern, reading)
    if match is None:
        return [(surface, reading)]
    return [
        (run, match.group(i + 1) if HAS_KANJI.match(run) else None) for i, run in enumerate(runs)
    ]


class _Analyser:
    """SudachiPy's tokenizer, made when first needed (a quarter of a second) and shared by the
    threads of a worker (one at a time: a tokenizer is not safe to share)."""

    _lock = threading.Lock()
    _tokenizer: Any = None

    @classmethod
    def words(cls, text: str) -> list[tuple[str, str]]:
        with cls._lock:
            if cls._tokenizer is None:
                from sudachipy import Dictionary, SplitMode

                dictionary = Dictionary(dict="core")
                cls._tokenizer = dictionary.tokenizer(SplitMode.C, fields={"reading_form"})
            morphemes = cls._tokenizer.tokenize(text)
            return [(text[m.begin() : m.end()], m.reading_form()) for m in morphemes]


class Reader:
    """Readings of texts: the catalog's table first, then the analyser; one result per text."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self.overrides = dict(overrides or {})
        words = sorted(self.overrides, key=len, reverse=True)
        self._override = re.compile("|".join(map(re.escape, words))) if words else None
        self._cache: dict[str, str] = {}
        self._utf8_cache: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def pieces(self, text: str) -> list[tuple[str, str | None]]:
        """The text cut into (piece, reading) — reading None where no ruby goes."""
        out: list[tuple[str, str | None]] = []
        position = 0
        if self._override is not None:
            for match in self._override.finditer(text):
                self._analysed(text[position : match.start()], out)
                out.extend(align(match.group(), self.overrides[match.group()]))
                position = match.end()
        self._analysed(text[position:], out)
        return out

    def _analysed(self, text: str, out: list[tuple[str, str | None]]) -> None:
        # やさしい日本語 often gives a reading in brackets already (本文（ほんぶん）): that word
        # keeps its own and takes no ruby.
        position = 0
        for match in _GIVEN_READING.finditer(text):
            self._counted(text[position : match.start()], out)
            out.append((match.group(), None))
            position = match.end()
        self._counted(text[position:], out)

    def _counted(self, text: str, out: list[tuple[str, str | None]]) -> None:
        if not HAS_KANJI.search(text):
            if text:
                out.append((text, None))
            return
        position = 0
        for match in _NUMBER_COUNTER.finditer(text):
            table = _DAYS if match.group(2) == "日" else _PEOPLE
            special = table.get(match.group(1))
            if special is None:
                continue
            self._words(text[position : match.start()], out)
            out.append((match.group(), special))
            position = match.end()
        self._words(text[position:], out)

    def _words(self, text: str, out: list[tuple[str, str | None]]) -> None:
        if not HAS_KANJI.search(text):
            if text:
                out.append((text, None))
            return
        for surface, katakana in _Analyser.words(text):
            reading = _hiragana(katakana)
            if (
                not HAS_KANJI.search(surface)
                or not _KANA_READING.fullmatch(reading)
                or reading == _hiragana(surface)
            ):
                out.append((surface, None))
            else:
                out.extend(align(surface, reading))

    def utf8(self, text: bytes) -> bytes:
        """`html()` of a text node in UTF-8 (the page transform's), kept per text as well."""
        cached = self._utf8_cache.get(text)
        if cached is not None:
            return cached
        decoded = text.decode()
        result = self.html(decoded).encode() if HAS_KANJI.search(decoded) else text
        with self._lock:
            if len(self._utf8_cache) >= CACHE_LIMIT:
                self._utf8_cache.clear()
            self._utf8_cache[text] = result
        return result

    def html(self, text: str) -> str:
        """A text node of a page (HTML-escaped text) with ruby over its kanji, twice: as written
        for assistive technology, and with its readings for the eyes; kept per text."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        parts = []
        for piece, reading in self.pieces(text):
            if reading is None or not HAS_KANJI.search(piece):
                parts.append(piece)
            else:
                parts.append(f"<ruby>{piece}<rt>{reading}</rt></ruby>")
        shown = "".join(parts)
        if shown == text:
            result = text
        else:
            body = text.strip()
            start = text.index(body)
            result = (
                f"{text[:start]}{SOURCE_OPEN}{body}</span>"
                f"{SHOWN_OPEN}{shown.strip()}</span>{text[start + len(body) :]}"
            )
        with self._lock:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[text] = result
        return result


# --- the page transform ---------------------------------------------------------------------

# The page is worked on as the response holds it, UTF-8 bytes: decoding it and encoding the
# annotated page again cost more than the annotation (decision 0093). Every character the patterns
# look for (tags, comments, the mark) is ASCII, and in UTF-8 an ASCII byte is always that
# character, never part of another.

# Elements whose text takes no ruby (text-only elements, ruby itself, scripts), and comments.
# None of them holds an element of its own name, so the first closing tag ends it. Tag names match
# in any case, ASCII only, as HTML reads them. The case-insensitivity is scoped to the names, after
# a look-ahead on their first letters: the names tried case-insensitively at every tag cost three
# times as much (decision 0093).
_SKIPPED_NAMES = b"script|style|textarea|title|select|ruby|svg|template|code|pre"
_SKIPPED_BLOCK = re.compile(
    rb"<!--.*?-->|<(?=[sStTrRcCpP])((?i:" + _SKIPPED_NAMES + rb"))\b[^>]*>.*?</(?i:\1)\s*>", re.S
)
# An element the page marks `no-ruby` (a typed answer, the resident's name): up to its end.
_OPEN_TAG = re.compile(rb"<([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_MARK = b"no-ruby"
# A text node that may hold a kanji (a character beyond ASCII): between the end of a tag and the
# start of the next (group 1); the reader leaves one without kanji as it is. The tag's `>` is part
# of the match, not a look-behind: the regex engine then searches for it as a literal and tries
# the text only there, instead of at every position (decision 0073). The ASCII text before the
# first other character, then the rest, are taken possessively: a text of ASCII only is read
# once, not once more backwards (decision 0093).
_TEXT_NODE = re.compile(rb">([^<>\x80-\xff]*+[\x80-\xff][^<>]*+)(?=<)")


@functools.lru_cache(maxsize=64)
def _tags_named(name: bytes) -> re.Pattern[bytes]:
    """Opening and closing tags of an element name, in any case (ASCII, as HTML reads them)."""
    return re.compile(rb"<(/?)" + re.escape(name) + rb"\b[^>]*>", re.I)


def _element_end(html: bytes, name: bytes, start: int) -> int:
    depth = 1
    for tag in _tags_named(name.lower()).finditer(html, start):
        if tag.group(1):
            depth -= 1
            if depth == 0:
                return tag.end()
        elif not tag.group().endswith(b"/>"):
            depth += 1
    return len(html)


def _skipped_ranges(html: bytes) -> list[tuple[int, int]]:
    ranges = [(m.start(), m.end()) for m in _SKIPPED_BLOCK.finditer(html)]
    found = html.find(_MARK)
    while found != -1:
        tag = _OPEN_TAG.match(html, html.rfind(b"<", 0, found))
        if tag is not None and tag.end() > found:  # the mark is inside this tag (its class)
            ranges.append((tag.start(), _element_end(html, tag.group(1), tag.end())))
        found = html.find(_MARK, found + len(_MARK))
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for begin, end in ranges:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def annotate_utf8(page: bytes, reader: Reader) -> bytes:
    """The page (UTF-8) with ruby over the kanji of its text nodes (see the module's docstring)."""
    # The text nodes are searched between the skipped elements: from the `>` that ends one (a
    # node starts after a `>`) to the `<` that begins the next (a node ends before a `<`).
    cache = reader._utf8_cache
    out: list[bytes] = []
    position = 0
    begin = 0
    for skipped_begin, skipped_end in [*_skipped_ranges(page), (len(page), len(page))]:
        for node in _TEXT_NODE.finditer(page, begin, skipped_begin + 1):
            start, end = node.span(1)
            text = page[start:end]
            out.append(page[position:start])
            out.append(cache.get(text) or reader.utf8(text))
            position = end
        begin = skipped_end - 1
    out.append(page[position:])
    return b"".join(out)


def annotate_around_slots(
    parts: tuple[str, ...], reader: Reader
) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """A kept page's text with ruby once, around its slots (portal.kept_pages, decision 0099).

    `parts` alternate text and slot names (a page split at its slot markers' NULs). Every slot
    must stand where no ruby of the page's text depends on its value: inside a tag (an
    attribute), inside an element that takes no ruby, or alone between two tags (a fragment,
    which then takes its ruby by itself: those slots' names are returned). A slot inside a text
    node that could take ruby gives None: such a page is transformed whole on every request, as
    before. The markers are ASCII and the transform reads text nodes only, so the parts come
    back in the same shape."""
    encoded = [part.encode() for part in parts]
    document = b"\x00".join(encoded)
    skipped = _skipped_ranges(document)
    fragments = set()
    offset = 0
    for index, part in enumerate(encoded):
        if index % 2 == 0:
            offset += len(part) + 1
            continue
        start, end = offset - 1, offset + len(part) + 1  # the marker with its two NULs
        offset = end
        if any(begin <= start < stop for begin, stop in skipped):
            continue  # no ruby there, whatever the value
        if document.rfind(b"<", 0, start) > document.rfind(b">", 0, start):
            continue  # inside a tag: an attribute's value
        before = document[document.rfind(b">", 0, start) + 1 : start]
        after_end = document.find(b"<", end)
        after = document[end : len(document) if after_end == -1 else after_end]
        if before.strip() or after.strip():
            return None  # part of a text node
        fragments.add(parts[index].partition("\x01")[0])
    annotated = annotate_utf8(document, reader).split(b"\x00")
    if len(annotated) != len(parts) or annotated[1::2] != encoded[1::2]:
        return None
    return tuple(piece.decode() for piece in annotated), frozenset(fragments)


def annotate_html(html: str, reader: Reader) -> str:
    """The page with ruby over the kanji of its text nodes (see the module's docstring)."""
    return annotate_utf8(html.encode(), reader).decode()


def strip_ruby(html: str) -> str:
    """The page as it was before `annotate_html` (tests compare the two)."""
    return _ANNOTATED.sub(lambda m: m.group(1), html)


# --- the resident's choice and the pages ----------------------------------------------------

# Blueprints whose pages never take ふりがな: staff pages, the APIs, the mock services (pages of
# another "site"), health checks.
EXCLUDED_BLUEPRINTS = frozenset(
    {"staff", "staff_api", "api", "mock_jpki", "mock_pay", "dev_mail", "health"}
)
PARAMETER = "furigana"
_READERS: dict[int, tuple[object, Reader]] = {}


def chosen() -> bool:
    """ふりがな is on for this request: the resident chose it and the page is Japanese."""
    from flask import session

    from portal.i18n import current_language

    try:
        data = session._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        return False
    return bool(data and data.get(SESSION_KEY)) and current_language() in LANGUAGES


def set_choice(on: bool) -> None:
    from flask import session

    if on:
        session[SESSION_KEY] = True
    else:
        session.pop(SESSION_KEY, None)


def reader_for(catalog: object, catalog_path: str | Path) -> Reader:
    """The reader of a catalog (its reading table beside the entry file), made once."""
    cached = _READERS.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    from portal.catalog.translations import catalog_folder

    reader = Reader(read_overrides(catalog_folder(Path(catalog_path)) / READINGS_NAME))
    _READERS[id(catalog)] = (catalog, reader)
    return reader


def _switch():
    """`?furigana=on|off` on a GET: remember the choice and show the same page without it."""
    value = request.args.get(PARAMETER)  # every request asks: the imports below only for a switch
    if value is None or request.method != "GET":
        return None
    from flask import redirect

    from portal.input_policy import plain
    from portal.urls import safe_path

    if value in ("on", "off"):
        set_choice(value == "on")
    rest = [
        (k, v)
        for k, v in request.args.items(multi=True)
        if k != PARAMETER and plain(k) and plain(v)
    ]
    target = quote(request.path) + (f"?{urlencode(rest)}" if rest else "")
    return redirect(safe_path(target) or safe_path(quote(request.path), "/"), 303)


def switch_url() -> str:
    """This page with ふりがな turned the other way (the language menu's link)."""

    from portal.input_policy import plain

    rest = [
        (k, v)
        for k, v in request.args.items(multi=True)
        if k not in (PARAMETER, "lang") and plain(k) and plain(v)
    ]
    rest.append((PARAMETER, "off" if chosen() else "on"))
    return f"{quote(request.path)}?{urlencode(rest)}"


def _annotate(response):
    from flask import current_app, g

    if (
        response.mimetype != "text/html"
        or g.get("furigana_done")  # a kept page with its ruby (portal.kept_pages)
        or response.direct_passthrough
        or response.is_streamed
        or request.blueprint in EXCLUDED_BLUEPRINTS
        or not chosen()
    ):
        return response
    reader = reader_for(current_app.extensions["catalog"], current_app.config["CATALOG_PATH"])
    response.set_data(annotate_utf8(response.get_data(), reader))
    return response


def init_app(app) -> None:
    reader_for(app.extensions["catalog"], app.config["CATALOG_PATH"])  # the table is checked
    app.before_request(_switch)
    app.after_request(_annotate)
    app.jinja_env.globals.update(furigana_on=chosen, furigana_url=switch_url)
