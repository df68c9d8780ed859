"""Cached pieces of the page layout (decision 0061).

Every page renders the same header, footer and head links: a dozen `url_for` and `_()` calls
and a few hundred lines of template code whose output depends only on the language, the
deployment's flags, the catalog's city and whether someone is signed in. `layout_fragment`
renders such a piece once per key and keeps it; the parts that vary per request or per person
(the CSRF token, the resident's name, links to the current page) are *slots*: the cached text
holds a marker where each goes, and every request fills them in with its own values, escaped as
`{{ }}` would. So nothing personal is ever kept: the cache holds the page chrome only.

    {%- call(slot) layout_fragment('header', signed_in, csrf=csrf_token, name=user_name) %}
      ... <input name="csrf_token" value="{{ slot('csrf') }}"> ... {{ slot('name') }} ...
    {%- endcall %}

The key of every piece is: the template being rendered (a child template may override a block
the piece contains), the piece's name, the language, the application root the URLs are built
under, the demo and mock-card flags, the kiosk frame, and the positional arguments given (each
template passes whatever else its piece reads). A new catalog (the city's name and address)
empties the cache. A slot's value may be a callable, called only when the piece has that slot
(the CSRF token is made only where the page shows it, as before).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from flask import current_app, has_request_context, request, url_for
from jinja2 import pass_context
from jinja2.environment import TemplateModule
from jinja2.runtime import Context
from markupsafe import Markup

from portal.i18n import current_language, note_unreviewed, reset_noted, unreviewed_noted
from portal.kept_pages import fill, marked_slots

# A slot in the rendered text: NUL, the slot's name (and a key into its mapping after \x01), NUL.
# NUL never reaches a page from the templates' own text, and the text is rendered with no
# request's values in it (those only ever go into the slots).
_START = "\x00"
_KEY = "\x01"
_LIMIT = 512  # pieces kept per application: templates × pieces × languages × flags
# A page's own content (`page_fragment`): procedures × steps × languages × flags, a few kB each.
_PAGE_LIMIT = 4096


class _Cache:
    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self.pieces: dict[tuple[Any, ...], tuple[tuple[str, ...], bool]] = {}
        self.pages: dict[tuple[Any, ...], tuple[tuple[str, ...], bool]] = {}


def _slot(name: str, key: str | None = None) -> Markup:
    marker = f"{_START}{name}{_KEY}{key}{_START}" if key is not None else f"{_START}{name}{_START}"
    return Markup(marker)  # noqa: S704 - a marker of the template's own, replaced before output


def _split(text: str, slots: dict[str, Any]) -> tuple[str, ...]:
    parts = tuple(text.split(_START))
    if len(parts) % 2 == 0 or any(p.split(_KEY)[0] not in slots for p in parts[1::2]):
        raise RuntimeError("layout_fragment: a slot is not closed or has no value")
    return parts


def _fill(piece: str, parts: tuple[str, ...], slots: dict[str, Any]) -> Markup:
    if len(parts) == 1:
        return Markup(parts[0])  # noqa: S704 - rendered by the template, autoescaped there
    marked = marked_slots(piece, parts, slots)  # a page being kept whole (portal.kept_pages)
    if marked is not None:
        return marked
    return Markup(fill(parts, slots))  # noqa: S704 - cached template text, escaped slot values


@pass_context
def layout_fragment(
    context: Context, piece: str, /, *key: Any, caller: Callable[..., str], **slots: Any
) -> Markup:
    """The piece rendered by `caller` for this key, its slots filled with this request's values."""
    return _cached(context, piece, key, caller, slots, pages=False)


@pass_context
def page_fragment(
    context: Context,
    piece: str,
    page_key: tuple[Any, ...] | None,
    /,
    *key: Any,
    caller: Callable[..., str],
    **slots: Any,
) -> Markup:
    """A page's own content as a cached piece (decision 0081): kept under `page_key` (which
    the view gives only for content that is the same for everyone who sees it: the catalog's
    own procedure and step, never a draft's answers) and `key` (the flags the piece's
    conditions read); with no `page_key`, rendered and filled on every request, the same text
    (a child template's blocks, a draft of an earlier catalog). Everything a request brings
    goes in through the slots, as in `layout_fragment`; blocks inside the piece reach them
    with the global `page_slot`."""
    if page_key is None:
        return _fill(piece, _split(str(caller(_slot)), slots), slots)
    return _cached(context, piece, (*page_key, *key), caller, slots, pages=True)


# What every piece of one rendering shares: the cache and the first part of the key (the
# template, the language, the application root, the deployment's flags, the kiosk frame). Made
# once per rendering and kept on the template's context, not again for each of its pieces; kept
# with the request it was made for, so a context that outlives its request (an imported
# template's module) makes it again.
_RENDER_KEY = "_portal_layout_key"


def _render_key(context: Context) -> tuple[_Cache, tuple[Any, ...]]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    catalog = app.extensions["catalog"]
    cache: _Cache | None = app.extensions.get("layout_fragments")
    if cache is None or cache.catalog is not catalog:
        cache = app.extensions["layout_fragments"] = _Cache(catalog)
    return cache, (
        context.name,
        current_language(),
        request.script_root if has_request_context() else "",
        context.get("demo_deployment"),
        context.get("mock_card_login"),
        bool(context.get("kiosk_frame")),
    )


def _cached(
    context: Context,
    piece: str,
    key: tuple[Any, ...],
    caller: Callable[..., str],
    slots: dict[str, Any],
    pages: bool,
) -> Markup:
    rendering = request._get_current_object() if has_request_context() else None  # type: ignore[attr-defined]
    found: tuple[Any, _Cache, tuple[Any, ...]] | None = getattr(context, _RENDER_KEY, None)
    if found is None or found[0] is not rendering:
        found = (rendering, *_render_key(context))
        setattr(context, _RENDER_KEY, found)
    _, cache, render_key = found
    store, limit = (cache.pages, _PAGE_LIMIT) if pages else (cache.pieces, _LIMIT)
    full_key = (*render_key, piece, *key)
    cached = store.get(full_key)
    if cached is None:
        # Whether the piece shows a text no translator checked (decision 0070) is kept with it,
        # so a page served from the cache says so as the first one did.
        noted_before = unreviewed_noted()
        reset_noted(False)
        parts = _split(str(caller(_slot)), slots)
        unreviewed = unreviewed_noted()
        reset_noted(noted_before or unreviewed)
        if len(store) >= limit:
            store.clear()
        store[full_key] = cached = (parts, unreviewed)
    elif cached[1]:
        note_unreviewed()
    return _fill(piece, cached[0], slots)


# The footer's link for each page address (the application root and the path with its query):
# the same for everyone who sees the page, and built with `url_for` once, not on every page view.
_DISPLAY_URLS: dict[tuple[str, str | None], str] = {}
_DISPLAY_URLS_LIMIT = 4096


def display_settings_url() -> str:
    """The footer's 「文字の大きさと色」 link: back to this page after a GET."""
    page = request.full_path if request.method == "GET" else None
    key = (request.script_root, page)
    found = _DISPLAY_URLS.get(key)
    if found is None:
        found = url_for("pages.display_settings", next=page)
        if len(_DISPLAY_URLS) >= _DISPLAY_URLS_LIMIT:
            _DISPLAY_URLS.clear()
        _DISPLAY_URLS[key] = found
    return found


class Template(jinja2.Template):
    """Jinja's template, with a cheaper `{% from ... import ... %}`.

    An import without context asks whether the importing template has globals the imported one
    lacks; Jinja 3.1 answers with a set difference against a ChainMap's keys view, one
    Python-level ChainMap lookup per global (about forty here, twice a page). The same question
    as a subset test makes a set of the ChainMap's keys in C; when the answer is "none", the
    cached module is returned exactly as Jinja does."""

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> Context:
        """Jinja's new context, its variables merged with the globals in C (decision 0089).

        Jinja copies the template's globals, a ChainMap of the template's own and the
        environment's, with `dict(globals, **vars)`: one Python-level ChainMap lookup per global
        (about sixty here), for every page. The same dict, made by updating from the ChainMap's
        maps in reverse order (the first map wins, as in the ChainMap) and then from `vars`."""
        maps = self.globals.maps if isinstance(self.globals, ChainMap) else None
        if shared or locals or maps is None or not all(type(m) is dict for m in maps):
            return super().new_context(vars, shared, locals)
        parent: dict[str, Any] = {}
        for mapping in reversed(maps):
            parent.update(mapping)
        if vars:
            parent.update(vars)
        return self.environment.context_class(
            self.environment, parent, self.name, self.blocks, globals=self.globals
        )

    def _get_default_module(self, ctx: Context | None = None) -> TemplateModule:
        if ctx is not None and ctx.globals_keys.issubset(self.globals):
            ctx = None  # nothing to add: Jinja's own answer is its cached module
        return super()._get_default_module(ctx)


GLOBALS = {
    "layout_fragment": layout_fragment,
    "page_fragment": page_fragment,
    "page_slot": _slot,
    "display_settings_url": display_settings_url,
}
