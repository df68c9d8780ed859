"""The markup of the commonest form fields, in Python, for the field macros (portal/templates/
components/fields.html).

Every step page renders its fields through these. As Jinja macros (`field` → `text_input` →
`input` → `_id`, `_tag`, `_hint_and_error`, `_describedby`, `_autofocus`) one text field took
about a dozen macro and helper calls, and a Jinja macro call costs far more than a Python one:
the fields were half of a step page's rendering (decision 0055). What they render is unchanged,
character for character; the other field types (textarea, select, declaration, file, address,
person, bank account, group) stay macros, and `field_html` hands them to those.

Every value that comes from the catalog or the person is escaped (markupsafe), as `{{ }}` did.
The macros lived in a template imported without context, so a page's variables (`kiosk_frame`)
never reached them; these functions do not read any either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import g, has_app_context
from jinja2 import pass_environment
from markupsafe import Markup, escape

from portal.catalog.fields.base import html_id
from portal.i18n import (
    chrome_lang,
    current_language,
    note_unreviewed,
    reset_noted,
    translate,
    unreviewed_noted,
)

_REQUIRED = Markup('<span class="tag tag--required">必須</span>')
_OPTIONAL = Markup('<span class="tag tag--optional">任意</span>')
_AUTOFOCUS = Markup(" autofocus")
_EMPTY = Markup("")
FIELDS_TEMPLATE = "components/fields.html"


def field_id(path: str) -> Markup:
    """The input's id: `f-` and the path with dashes (`address.block` → `f-address-block`)."""
    return escape(html_id(str(path)))


def field_tag(required: object) -> Markup:
    """The 必須 / 任意 tag after a label, in the chosen language and marked with its own lang
    (a Japanese form on an English page still tells which fields are needed, decision 0057)."""
    lang = current_language()
    if lang == "ja":
        return _REQUIRED if required else _OPTIONAL
    kind, text = ("required", "必須") if required else ("optional", "任意")
    # As Markup(...).format(kind, lang, text) wrote it, without string.Formatter's cost: the
    # class and lang are fixed words, the text is escaped.
    return Markup(  # noqa: S704 - fixed markup around an escaped text
        f'<span class="tag tag--{kind}" lang="{chrome_lang(text)}">{escape(translate(text))}</span>'
    )


def field_autofocus(path: str, focus: object) -> Markup:
    """` autofocus` on the input the page focuses (the first in error, or an added item)."""
    return _AUTOFOCUS if focus == path else _EMPTY


def field_describedby(path: str, hint: object, error: object) -> Markup:
    """` aria-describedby="…"` naming the hint and the error message, when there are any."""
    if not (hint or error):
        return _EMPTY
    base = field_id(path)
    ids = " ".join([f"{base}-hint"] * bool(hint) + [f"{base}-error"] * bool(error))
    return Markup(f' aria-describedby="{ids}"')  # noqa: S704 - ids are escaped (field_id)


def _error_prefix() -> str:
    """The hidden 「エラー：」 read before an error message, in the chosen language."""
    lang = current_language()
    if lang == "ja":
        return '<span class="visually-hidden">エラー：</span>'
    prefix = escape(translate("エラー："))
    return f'<span class="visually-hidden" lang="{chrome_lang("エラー：")}">{prefix}</span>'


def field_hint_and_error(path: str, hint: object, error: object) -> Markup:
    """The hint paragraph and the error message, with the ids aria-describedby names."""
    out = ""
    if hint:
        out += f'<p class="hint" id="{field_id(path)}-hint">{escape(hint)}</p>'
    if error:
        out += (
            f'<p class="error-message" id="{field_id(path)}-error">'
            f"{_error_prefix()}{escape(error)}</p>"
        )
    return Markup(out)  # noqa: S704 - every value in it is escaped


# The markup of a field without its answer, kept per field and language (decision 0089): a step
# page's inputs are the same for everyone but for the answer in them, and writing them was a
# tenth of the page. The key is every argument but the value (the catalog's texts, the flags),
# so the cache holds catalog markup only, never an answer: the value is put in, escaped, on every
# call. An input in error or with a My Number mask in its hint is written every time (`cache`).
# Where the answer goes while the kept markup is written: NUL never comes from the catalog.
_VALUE = Markup("\x00")  # noqa: S704 - a marker, replaced before any output
_KEPT_LIMIT = 2048
_INPUTS: dict[tuple[Any, ...], tuple[str, str, bool]] = {}
_CHOICES: dict[tuple[Any, ...], tuple[Any, str, bool]] = {}


def _kept_key(*key: Any) -> tuple[Any, ...] | None:
    try:
        hash(key)
    except TypeError:  # a value Jinja passed that cannot be a key: write it every time
        return None
    return key


def _noting(render: Callable[[], str]) -> tuple[str, bool]:
    """Markup to keep, and whether it shows a text no translator checked (decision 0070): a kept
    field notes it again on every page it is on, as the layout's kept pieces do."""
    noted_before = unreviewed_noted()
    reset_noted(False)
    try:
        html = render()
    finally:
        unreviewed = unreviewed_noted()
        reset_noted(noted_before or unreviewed)
    return html, unreviewed


def _keep(store: dict, key: tuple[Any, ...], value: Any) -> None:
    if len(store) >= _KEPT_LIMIT:
        store.clear()
    store[key] = value


def field_input(
    path: str,
    label: object,
    value: object,
    error: object = None,
    hint: object = None,
    required: object = True,
    type: object = "text",
    autocomplete: object = None,
    width: object = "long",
    inputmode: object = None,
    focus: object = None,
    suffix: object = None,
    maxlength: object = None,
    cache: bool = True,
) -> Markup:
    """One text-like input with its label, hint and error (the `input` macro)."""
    autocomplete_off = bool(has_app_context() and g.get("autocomplete_off"))  # a kiosk visit
    key = None
    if cache and not error:
        # The texts' classes too: an untranslated or unreviewed text (a str subclass) is equal
        # to the same plain text but written and noted differently.
        key = _kept_key(
            path, label, hint, required, type, autocomplete, width, inputmode, focus == path,
            suffix, maxlength, autocomplete_off, current_language(), label.__class__,
            hint.__class__,
        )  # fmt: skip
    if key is not None:
        kept = _INPUTS.get(key)
        if kept is None:
            html, unreviewed = _noting(lambda: _input_html(
                path, label, _VALUE, error, hint, required, type, autocomplete, width,
                inputmode, focus, suffix, maxlength, autocomplete_off,
            ))  # fmt: skip
            before, _, after = html.partition(_VALUE)
            if _VALUE in after:
                key = None  # a NUL in the catalog's text: never kept
            else:
                kept = (before, after, unreviewed)
                _keep(_INPUTS, key, kept)
        elif kept[2]:
            note_unreviewed()
        if kept is not None:
            shown = escape(value if value is not None else "")
            return Markup(f"{kept[0]}{shown}{kept[1]}")  # noqa: S704 - kept markup, escaped value
    return Markup(  # noqa: S704 - every value in it is escaped
        _input_html(path, label, value, error, hint, required, type, autocomplete, width,
                    inputmode, focus, suffix, maxlength, autocomplete_off)
    )  # fmt: skip


def _input_html(
    path: str,
    label: object,
    value: object,
    error: object,
    hint: object,
    required: object,
    type: object,
    autocomplete: object,
    width: object,
    inputmode: object,
    focus: object,
    suffix: object,
    maxlength: object,
    autocomplete_off: bool,
) -> str:
    ident = field_id(path)
    shown = escape(value if value is not None else "")
    parts = [
        '\n  <div class="field',
        " field--error" if error else "",
        f'">\n    <label class="label" for="{ident}">{escape(label)} {field_tag(required)}</label>',
        f"\n    {field_hint_and_error(path, hint, error)}",
        '\n    <span class="input-with-suffix">\n    <input class="input input--',
        f'{escape(width)}" id="{ident}" name="{escape(path)}" type="{escape(type)}"',
        f'\n      value="{shown}"',
    ]
    if autocomplete_off:
        parts.append(' autocomplete="off"')
    elif autocomplete:
        parts.append(f' autocomplete="{escape(autocomplete)}"')
    if inputmode:
        parts.append(f' inputmode="{escape(inputmode)}"')
    if maxlength:
        parts.append(f' maxlength="{escape(maxlength)}"')
    if required:
        parts.append(" required")
    if error:
        parts.append(' aria-invalid="true"')
    parts.append(f"{field_describedby(path, hint, error)}{field_autofocus(path, focus)}>")
    if suffix:
        parts.append(f'<span class="input-suffix" aria-hidden="true">{escape(suffix)}</span>')
    parts.append("\n    </span>\n  </div>\n")
    return "".join(parts)


def _attr(obj: Any, name: str) -> Any:
    """`obj.name` as Jinja reads it: the attribute, else the item (options may be dicts)."""
    try:
        return getattr(obj, name)
    except AttributeError:
        pass
    try:
        return obj[name]
    except (TypeError, LookupError):
        return None


def field_choices(
    path: str,
    label: object,
    options: Iterable[Any],
    raw: Any,
    error: object,
    hint: object,
    required: object,
    kind: str,
    focus: object = None,
) -> Markup:
    """Radio buttons or checkboxes in a fieldset (the `choices` macro)."""
    options = options if isinstance(options, list | tuple) else list(options)
    many = _iterable(raw) and not isinstance(raw, str)
    checked = tuple(
        index
        for index, option in enumerate(options)
        if (
            (raw == _attr(option, "value"))
            if kind == "radio"
            else (many and _attr(option, "value") in raw)
        )
    )
    key = None
    if not error:
        # Kept per options list (the catalog's, or the language's はい／いいえ) and which are
        # checked: nothing of the answer but its place among the options (decision 0089).
        key = _kept_key(path, label, id(options), checked, hint, required, kind,
                        focus == path, current_language(), label.__class__,
                        hint.__class__)  # fmt: skip
        kept = _CHOICES.get(key) if key is not None else None
        if kept is not None and kept[0] is options:
            if kept[2]:
                note_unreviewed()  # as when it was written (decision 0070)
            return Markup(kept[1])  # noqa: S704 - markup written below for the same options

    def write() -> str:
        return _choices_html(path, label, options, checked, error, hint, required, kind, focus)

    if key is None:
        return Markup(write())  # noqa: S704 - every value in it is escaped
    html, unreviewed = _noting(write)
    _keep(_CHOICES, key, (options, html, unreviewed))  # the list itself: its id is never reused
    return Markup(html)  # noqa: S704 - every value in it is escaped


def _choices_html(
    path: str,
    label: object,
    options: Iterable[Any],
    checked: tuple[int, ...],
    error: object,
    hint: object,
    required: object,
    kind: str,
    focus: object,
) -> str:
    ident = field_id(path)
    parts = [
        '\n  <div class="field',
        " field--error" if error else "",
        f'">\n    <fieldset class="fieldset"{field_describedby(path, hint, error)}>',
        f'\n      <legend class="legend">{escape(label)} {field_tag(required)}</legend>',
        f"\n      {field_hint_and_error(path, hint, error)}",
        '\n      <div class="choices">',
    ]
    for index, option in enumerate(options):
        value, option_hint = _attr(option, "value"), _attr(option, "hint")
        input_id = ident if index == 0 else f"{ident}-{index}"
        parts.append(
            '\n        <div class="choice">'
            f'\n          <input class="choice__input" type="{escape(kind)}" id="{input_id}"'
            f' name="{escape(path)}" value="{escape(value)}"'
        )
        if index in checked:
            parts.append(" checked")
        if kind == "radio" and required:
            parts.append(" required")
        if error:
            parts.append(' aria-invalid="true"')
        if option_hint:
            parts.append(f' aria-describedby="{input_id}-option-hint"')
        if index == 0:
            parts.append(str(field_autofocus(path, focus)))
        parts.append(
            f'>\n          <label class="choice__label" for="{input_id}">'
            f"{escape(_attr(option, 'label'))}</label>"
        )
        if option_hint:
            hint_id = f"{input_id}-option-hint"
            parts.append(f'<p class="hint choice__hint" id="{hint_id}">{escape(option_hint)}</p>')
        parts.append("\n        </div>")
    parts.append("\n      </div>\n    </fieldset>\n  </div>\n")
    return "".join(parts)


def _iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True


# -- the field types whose whole markup is here ------------------------------------------------

_INPUT_TYPES = {"email": "email", "tel": "tel"}
_INPUT_MODES = {"tel": "tel", "postal_code": "numeric"}


# Each returns what its macro did, the whitespace around the `input` call included.


def _then(before: str, after: str, html: Markup) -> Markup:
    return Markup(f"{before}{html}{after}")  # noqa: S704 - html is Markup, the rest whitespace


def _text_input(f: Any, path: str, raw: Any, errors: dict, focus: object, _mask: object) -> Markup:
    return _then("", "\n", field_input(
        path, f.label, raw, errors.get(path), f.hint, f.required,
        _INPUT_TYPES.get(f.type, "text"), f.autocomplete, f.input_width,
        _INPUT_MODES.get(f.type), focus, maxlength=(f.max_length * 2 if f.max_length else None),
    ))  # fmt: skip


def _number_input(
    f: Any, path: str, raw: Any, errors: dict, focus: object, _mask: object
) -> Markup:
    return _then("\n  ", "\n", field_input(
        path, f.label, raw, errors.get(path), f.hint, f.required, "text", None, f.input_width,
        "numeric", focus, f.suffix,
    ))  # fmt: skip


def _mynumber_input(
    f: Any, path: str, raw: Any, errors: dict, focus: object, mask: object
) -> Markup:
    # `f.hint ~ (...)` in the macro: a missing hint joined as the text "None", as Jinja's `~` did.
    hint = str(f.hint) + (
        translate("　入力済みです（%(mask)s）。変更する場合だけ入力してください。", mask=mask)
        if mask
        else ""
    )
    return _then("\n  ", "\n", field_input(
        path, f.label, raw, errors.get(path), hint, f.required and not mask, "text", "off",
        "medium", "numeric", focus, cache=not mask,
    ))  # fmt: skip


def _radios(f: Any, path: str, raw: Any, errors: dict, focus: object, _mask: object) -> Markup:
    choices = _yes_no() if f.type == "yesno" else f.options
    return field_choices(
        path, f.label, choices, raw, errors.get(path), f.hint, f.required, "radio", focus
    )


_YES_NO: dict[str, list[Any]] = {}


def _yes_no() -> list[Any]:
    """はい / いいえ in the chosen language (made once per language)."""
    lang = current_language()
    found = _YES_NO.get(lang)
    if found is None:
        from portal.catalog.schema import Option

        found = _YES_NO[lang] = [
            Option(value="yes", label=translate("はい")),
            Option(value="no", label=translate("いいえ")),
        ]
    return found


def _checkboxes(f: Any, path: str, raw: Any, errors: dict, focus: object, _mask: object) -> Markup:
    return field_choices(
        path, f.label, f.options, raw, errors.get(path), f.hint, f.required, "checkbox", focus
    )


_IN_PYTHON: dict[str, Callable[..., Markup]] = {
    "text_input": _text_input,
    "number_input": _number_input,
    "mynumber_input": _mynumber_input,
    "radios": _radios,
    "checkboxes": _checkboxes,
}


@pass_environment
def field_html(
    environment: Any,
    f: Any,
    path: str,
    raw: Any,
    errors: dict,
    focus: object = None,
    file_url: object = None,
    stored_mask: object = None,
) -> Markup:
    """One catalog field as the form shows it (the `field` macro): the types above here, the
    others through their macros."""
    macro = f.field_type.macro
    render = _IN_PYTHON.get(macro)
    html: Markup
    if render is not None:
        html = render(f, path, raw, errors, focus, stored_mask)
    else:
        macros = environment.get_template(FIELDS_TEMPLATE).module
        if macro in ("file_input", "group"):
            html = getattr(macros, macro)(f, path, raw, errors, focus, file_url)
        elif macro:
            html = getattr(macros, macro)(f, path, raw, errors, focus)
        else:
            html = _EMPTY
    return Markup(f"{html}\n")  # noqa: S704 - html is what the macros or the above made


def conditional_open(shown: Any, name: str) -> Markup:
    """The wrapper of a conditional question (portal.submissions.conditions), `hidden` while it
    does not apply: its truth table for portal.js, and the inputs that tell the server whether
    the page showed it. Nothing for another field (`shown` None)."""
    if shown is None:
        return _EMPTY
    hidden = "" if shown.visible else " hidden"
    table = f' data-conditional="{escape(shown.table)}"' if shown.table else ""
    return Markup(  # noqa: S704 - every value in it is escaped
        f'<div class="conditional" data-label="{escape(str(shown.label))}"{table}{hidden}>'
        f'<input type="hidden" name="_conditional" value="{escape(name)}">'
        f'<input type="hidden" name="_asked" value="{escape(name)}"'
        f"{' disabled' if hidden else ''}>"
    )


def conditional_close(shown: Any) -> Markup:
    return _EMPTY if shown is None else Markup("</div>")


@pass_environment
def step_fields(
    environment: Any,
    fields: Iterable[Any],
    locked: Any,
    shown: dict,
    prefill_notes: dict,
    department: Any,
    conditions: dict,
    shortcuts: dict,
    raw: dict,
    errors: dict,
    focus: object,
    file_url: object,
    masks: dict,
) -> Markup:
    """A step page's fields, as the step template's loop over them wrote them (decision 0081):
    a locked (prefilled) answer shown as text with where it came from, the others through
    `field_html` inside their conditional wrapper, each followed by its shortcut buttons. One
    call instead of a Jinja loop making about seven calls per field."""
    # The template's own globals: the same functions the loop called.
    translate_ = environment.globals["_"]
    catalog_text = environment.globals["catalog_text"]
    answer_lang = environment.globals["answer_lang"]
    out: list[str] = []
    for f in fields:
        name = f.name
        if name in locked:
            value = shown[name]
            note = prefill_notes.get(name)
            where = catalog_text(department, "name") if department else translate_("担当課")
            out.append(
                '\n    <div class="field field--prefilled">\n'
                f'      <h2 class="label" id="{escape("f-" + str(name))}">{escape(f.label)}</h2>\n'
                f'      <p class="prefilled-value no-ruby"{escape(answer_lang(value))}>'
                f"{escape(value)}</p>\n"
                '      <p class="hint"><span class="tag tag--prefilled">'
                f"{escape(translate_('入力済み'))}</span> "
                f"{escape(translate_(note)) if note is not None else ''}"
                + str(
                    escape(
                        translate_(
                            "この画面では変更できません。違っている場合は、"
                            "%(department)sにお問い合わせください。",
                            department=where,
                        )
                    )
                )
                + "</p>\n    </div>\n  "
            )
            continue
        shown_when = conditions.get(name)
        html = field_html(environment, f, name, raw.get(name), errors, focus, file_url,
                          masks.get(name))  # fmt: skip
        shortcut = shortcuts.get(name)
        out.append(
            f"\n    {conditional_open(shown_when, name)}\n    {html}"
            f"{escape(shortcut) if shortcut else ''}\n    {conditional_close(shown_when)}\n  "
        )
    return Markup("".join(out))  # noqa: S704 - every value in it is escaped or markup made here


GLOBALS = {
    "step_fields": step_fields,
    "conditional_open": conditional_open,
    "conditional_close": conditional_close,
    "field_id": field_id,
    "field_tag": field_tag,
    "field_autofocus": field_autofocus,
    "field_describedby": field_describedby,
    "field_hint_and_error": field_hint_and_error,
    "field_input": field_input,
    "field_choices": field_choices,
    "field_html": field_html,
}
