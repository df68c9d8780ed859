"""A page kept whole, its request's values filled in (decision 0099).

The layout's pieces (portal/layout.py) keep each piece of a page rendered once, with a slot where
a request's value goes; a page still runs its template every time to put the pieces together,
to work out the slots' values, and to run the context processors. For the resident's step page
(the busiest page of the portal, issue 24), the whole document is kept instead: rendered once per
key with every slot of every piece left as a marker named by its piece (`header.csrf`,
`step_content.fields`), and afterwards made by filling those markers with values the view works
out in Python, without the template.

Nothing personal is kept: only the pieces' own text is (the layout's rule), the slots hold the
request's values. The view gives, besides the key, the value of every slot as a callable or a
value; when a page is first kept, the values the template gave each slot are recorded and
compared with the view's, and a page whose slots the view does not know (a template changed
without its view) or gives other values for is not kept: it is rendered every time, as before,
and a warning names the slot. The key must hold everything the page's text depends on besides
the slots (`key_of` adds what every page shares); a request in a state the key does not cover
(errors, a notice, messages waiting to be shown, a channel's frame) is rendered as before.

With ふりがな, a kept page also keeps its text with ruby (portal.furigana.annotate_around_slots),
checked when kept against the transform of that request's whole page, so the transform of the
response's bytes does not run over the kept text again on every request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request, session
from markupsafe import Markup, escape

from portal import furigana
from portal.i18n import current_language, note_unreviewed, reset_noted, unreviewed_noted

log = logging.getLogger(__name__)

_MARK = "\x00"  # as portal.layout's slots: never in the templates' text
_KEY = "\x01"
_LIMIT = 512  # whole pages kept per application (15-25 kB each): the states in use

# While a page is rendered to be kept: the slots' values as the template gave them, by name.
_CAPTURE: ContextVar[dict[str, Any] | None] = ContextVar("kept_page_capture", default=None)
_CONFLICT = "\x02conflict"  # one slot name given two values in one page: not kept


@dataclass(frozen=True)
class _Page:
    parts: tuple[str, ...]  # text, slot, text, ..., text
    unreviewed: bool  # shows a text no translator checked (decision 0070)
    # With ふりがな: the parts with ruby already, and the slots whose values take ruby of their
    # own (furigana.annotate_around_slots); None: the page is transformed whole, as before.
    ruby: tuple[tuple[str, ...], frozenset[str]] | None = None


class _Store:
    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self.pages: dict[tuple[Any, ...], _Page | None] = {}  # None: not keepable


def marked_slots(piece: str, parts: tuple[str, ...], slots: Mapping[str, Any]) -> Markup | None:
    """portal.layout's fill while a page is being kept: the piece with its slots as markers
    named by the piece, the values the template gave recorded; None when no page is."""
    capture = _CAPTURE.get()
    if capture is None:
        return None
    out = [parts[0]]
    for index in range(1, len(parts), 2):
        name, _, key = parts[index].partition(_KEY)
        qualified = f"{piece}.{name}"
        value = slots[name]
        value = value() if callable(value) else value
        if qualified in capture and not _same(capture[qualified], value):
            capture[_CONFLICT] = qualified
        capture.setdefault(qualified, value)
        out.append(f"{_MARK}{qualified}{_KEY}{key}{_MARK}" if key else f"{_MARK}{qualified}{_MARK}")
        out.append(parts[index + 1])
    return Markup("".join(out))  # noqa: S704 - the piece's own text and markers


def plain_request() -> bool:
    """No channel's frame around the page (kiosk, assisted session, practice class) and no staff
    member signed in, no messages waiting to be shown: the states a kept page covers."""
    return not (
        g.get("kiosk")
        or g.get("kiosk_visit")
        or g.get("assist")
        or g.get("practice")
        or g.get("current_staff")
        or session.get("_flashes")
    )


def key_of(page: tuple[Any, ...]) -> tuple[Any, ...]:
    """The page's own key, with what every page's text depends on: the language, ふりがな, the
    display settings, whether someone is signed in and has a timeout, the application root."""
    from portal.pages import display

    return (
        *page,
        current_language(),
        furigana.chosen(),
        display.html_classes(),
        bool(session.get("user")),
        getattr(session, "seconds_left", None) is not None,
        request.script_root,
    )


def render(
    key: tuple[Any, ...],
    values: Mapping[str, Any],
    rendering: Callable[[], str],
    changing: Collection[str] = (),
    fixed: Collection[str] = (),
) -> str:
    """The page kept under `key`, filled with `values` (callables are called when the page has
    that slot); the first time, `rendering` renders it and it is kept if the view's values agree
    with the template's. `changing`: slots whose value changes from moment to moment (a count of
    seconds), compared by kind only. `fixed`: slots whose values are part of `key`, written into
    the kept text (so that ふりがな can be given to the text around them once)."""
    store = _store()
    kept = store.pages.get(key, False)
    if kept is None:
        return rendering()  # not keepable: rendered every time
    if kept is not False:
        assert isinstance(kept, _Page)
        if kept.unreviewed:
            note_unreviewed()
        if kept.ruby is not None and furigana.chosen():
            g.furigana_done = True  # the transform of the response has nothing left to do
            parts, fragments = kept.ruby
            return fill(parts, values, fragments, _reader())
        return fill(kept.parts, values)
    capture: dict[str, Any] = {}
    token = _CAPTURE.set(capture)
    noted_before = unreviewed_noted()
    reset_noted(False)
    try:
        text = str(rendering())
    finally:
        _CAPTURE.reset(token)
    unreviewed = unreviewed_noted()
    reset_noted(noted_before or unreviewed)
    parts = tuple(text.split(_MARK))
    page = fill(parts, capture)  # what the template gave: this request's page
    problem = _disagreement(parts, capture, values, changing)
    if len(store.pages) >= _LIMIT:
        store.pages.clear()
    if problem:
        log.warning("page not kept (%s): %s", key[0] if key else "", problem)
        store.pages[key] = None
        return page
    parts = _with_fixed(parts, capture, fixed)
    store.pages[key] = _Page(parts, unreviewed, _ruby(parts, capture, page))
    return page


def _with_fixed(
    parts: tuple[str, ...], values: Mapping[str, Any], fixed: Collection[str]
) -> tuple[str, ...]:
    """The parts with the fixed slots written in (their values are part of the key)."""
    out = [parts[0]]
    for index in range(1, len(parts), 2):
        name, _, key = parts[index].partition(_KEY)
        if name in fixed:
            value = values[name][key] if key else values[name]
            out[-1] += str(escape(value)) + parts[index + 1]
        else:
            out.extend((parts[index], parts[index + 1]))
    return tuple(out)


def _reader() -> furigana.Reader:
    app = current_app
    return furigana.reader_for(app.extensions["catalog"], app.config["CATALOG_PATH"])


def _ruby(
    parts: tuple[str, ...], capture: Mapping[str, Any], page: str
) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """With ふりがな on: the kept text with ruby, if the page made from it is the page the
    transform makes of this request's page (else None: transformed whole every time)."""
    if not furigana.chosen():
        return None
    reader = _reader()
    ruby = furigana.annotate_around_slots(parts, reader)
    if ruby is None:
        return None
    whole = furigana.annotate_utf8(page.encode(), reader).decode()
    if fill(ruby[0], capture, ruby[1], reader) != whole:
        log.warning("page kept without its ruby: the ruby around its slots differs")
        return None
    return ruby


def _store() -> _Store:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    catalog = app.extensions["catalog"]
    store: _Store | None = app.extensions.get("kept_pages")
    if store is None or store.catalog is not catalog:
        store = app.extensions["kept_pages"] = _Store(catalog)
    return store


def fill(
    parts: tuple[str, ...],
    values: Mapping[str, Any],
    fragments: Collection[str] = (),
    reader: furigana.Reader | None = None,
) -> str:
    """Text and slot markers (the text split at the markers' NULs) with the slots' values,
    escaped as `{{ }}` would; a value that is callable is called once, when a marker needs it
    (portal.layout's pieces and the kept pages alike). The values of `fragments` take ruby of
    their own from `reader` (a kept page with ふりがな)."""
    out = [parts[0]]
    computed: dict[str, Any] = {}
    for index in range(1, len(parts), 2):
        name, _, key = parts[index].partition(_KEY)
        if name not in computed:
            value = values[name]
            computed[name] = value() if callable(value) else value
        value = computed[name][key] if key else computed[name]
        text = str(escape(value))
        if reader is not None and name in fragments:
            text = furigana.annotate_utf8(text.encode(), reader).decode()
        out.append(text)
        out.append(parts[index + 1])
    return "".join(out)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return a == b
    return str(escape(a)) == str(escape(b))


def _disagreement(
    parts: tuple[str, ...],
    capture: Mapping[str, Any],
    values: Mapping[str, Any],
    changing: Collection[str],
) -> str | None:
    """Why the page cannot be kept (a slot's name, never its value), or None."""
    if len(parts) % 2 == 0:
        return "a slot marker is not closed"
    if _CONFLICT in capture:
        return f"two values for {capture[_CONFLICT]}"
    for index in range(1, len(parts), 2):
        name = parts[index].partition(_KEY)[0]
        if name not in values:
            return f"the view gives no value for {name}"
    for name, given in capture.items():
        value = values[name]
        value = value() if callable(value) else value
        if name in changing:
            if type(value) is not type(given):
                return f"{name} differs in kind"
        elif not _same(value, given):
            return f"{name} differs"
    return None
