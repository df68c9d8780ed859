"""The small attribute and label pieces of the field macros (portal/templates/components/
fields.html), as Python functions the templates call.

They were Jinja macros (`_id`, `_describedby`, `_tag`, `_hint_and_error`, `_autofocus`); a step
page called them about forty times, and a Jinja macro call costs far more than a function call
(decision 0055). Each returns exactly what its macro rendered: Markup, with every value that
comes from the catalog or the person escaped.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from portal.catalog.fields.base import html_id

_REQUIRED = Markup('<span class="tag tag--required">必須</span>')
_OPTIONAL = Markup('<span class="tag tag--optional">任意</span>')
_AUTOFOCUS = Markup(" autofocus")
_EMPTY = Markup("")


def field_id(path: str) -> Markup:
    """The input's id: `f-` and the dotted path with dashes (`address.block` → `f-address-block`)."""
    return escape(html_id(str(path)))


def field_tag(required: object) -> Markup:
    """The 必須 / 任意 tag after a label."""
    return _REQUIRED if required else _OPTIONAL


def field_autofocus(path: str, focus: object) -> Markup:
    """` autofocus` on the input the page focuses (the first in error, or an added item)."""
    return _AUTOFOCUS if focus == path else _EMPTY


def field_describedby(path: str, hint: object, error: object) -> Markup:
    """` aria-describedby="…"` naming the hint and the error message, when there are any."""
    ids = []
    if hint:
        ids.append(field_id(path) + "-hint")
    if error:
        ids.append(field_id(path) + "-error")
    if not ids:
        return _EMPTY
    return Markup(' aria-describedby="') + Markup(" ").join(ids) + Markup('"')


def field_hint_and_error(path: str, hint: object, error: object) -> Markup:
    """The hint paragraph and the error message, with the ids aria-describedby names."""
    out = _EMPTY
    if hint:
        out += Markup('<p class="hint" id="{}-hint">{}</p>').format(field_id(path), hint)
    if error:
        out += Markup(
            '<p class="error-message" id="{}-error">'
            '<span class="visually-hidden">エラー：</span>{}</p>'
        ).format(field_id(path), error)
    return out


GLOBALS = {
    "field_id": field_id,
    "field_tag": field_tag,
    "field_autofocus": field_autofocus,
    "field_describedby": field_describedby,
    "field_hint_and_error": field_hint_and_error,
}
