"""Resident-facing templates hold no Japanese outside a translation call.

A Japanese literal written straight into a template (a label passed to a macro as a bare string,
a sentence in the markup) shows in Japanese in every language: the mock 3-D Secure page's
one-time password label, the mock payment's "paid" paragraph and the QR page's button were such
texts. This scans the template sources, not rendered pages, so it sees every branch of a page.

Not scanned: staff pages (staff/, counter/, layouts/staff.html; "Staff pages stay Japanese"),
the development mail outbox (outbox/, development only, Japanese only), and the kiosk's
certificate (a Japanese document, lang="ja").

Removed before the scan: comments ({# #}) and string literals passed to _(), gettext(),
ngettext() or chrome_lang() (which takes a msgid). In the templates that pick a text from a
{% set %} of Japanese strings and pass it through _() later (TRANSLATED_LATER), those strings
count as translated only if each is a msgid of the English catalog. What is left must be listed
in ALLOWED, with why it is Japanese on purpose.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "portal" / "templates"
ENGLISH = ROOT / "portal" / "translations" / "en" / "LC_MESSAGES" / "messages.po"

SKIPPED_FOLDERS = {"staff", "counter", "outbox"}
SKIPPED_FILES = {"layouts/staff.html", "kiosk/certificate.html"}

JAPANESE_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\u3000-\u303f\uff01-\uff60]+")
COMMENT = re.compile(r"\{#.*?#\}", re.S)
LITERAL = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
CALLED = re.compile(
    r"\b(?:_|gettext|ngettext|chrome_lang)\(\s*" + LITERAL + r"(?:\s*,\s*" + LITERAL + ")?"
)
SET_TAG = re.compile(r"\{%-?\s*set\b.*?%\}", re.S)
STRING = re.compile(LITERAL)

# Templates whose {% set %} strings are passed through _() later, with the call that does it.
TRANSLATED_LATER = {
    "mock_pay/closed.html": ["_(heading)"],
    "mock_jpki/unavailable.html": ["_(heading)", "_(reason)", "_(step)"],
}

# Japanese left on purpose, per template: the runs of Japanese characters.
ALLOWED = {
    # The closed-day mark of the booking calendar, a full-width dash in Japanese only.
    "appointments/_parts.html": {"－"},
    # Honorifics after the resident's own name, in Japanese and やさしい日本語 only.
    "appointments/manage.html": {"様", "さん"},
    "assisted/home.html": {"さん"},
    # Full-width parentheses around the procedure's title marked lang="ja".
    "components/fields.html": {"（", "）"},
    "kiosk/end.html": {"（", "）"},
    # The language menu's name, bilingual on purpose, the same in every language.
    "components/language_menu.html": {"言語"},
    "submissions/step.html": {"言語"},
    "kiosk/_languages.html": {"言語"},
    # Signed-in name's honorific (Japanese only) and the city's postal address (lang="ja").
    "layouts/base.html": {"さん", "（デモ）", "〒"},
    # Keys of the conformance report's counts (data), not shown.
    "pages/accessibility.html": {"適合", "不適合", "適用なし"},
}


def english_msgids() -> set[str]:
    with ENGLISH.open("rb") as f:
        return {str(m.id) for m in read_po(f) if m.id}


def blank(match: re.Match[str]) -> str:
    return re.sub(r"\S", " ", match.group(0))


def untranslated(name: str, source: str, msgids: set[str]) -> set[str]:
    """The runs of Japanese in a template's source outside comments and translation calls."""
    source = COMMENT.sub(blank, source)
    source = CALLED.sub(blank, source)
    if name in TRANSLATED_LATER:

        def checked(tag: re.Match[str]) -> str:
            text = tag.group(0)
            for string in STRING.findall(text):
                value = string[1:-1]
                if JAPANESE_RUN.search(value):
                    assert value in msgids, f"{name}: {value!r} is not in the English catalog"
            return blank(tag)

        source = SET_TAG.sub(checked, source)
    return set(JAPANESE_RUN.findall(source))


def resident_templates() -> list[tuple[str, str]]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name.split("/")[0] in SKIPPED_FOLDERS or name in SKIPPED_FILES:
            continue
        found.append((name, path.read_text(encoding="utf-8")))
    return found


def test_resident_templates_hold_no_japanese_outside_translation_calls():
    msgids = english_msgids()
    templates = dict(resident_templates())
    assert "mock_pay/closed.html" in templates and "mock_jpki/unavailable.html" in templates
    for name, calls in TRANSLATED_LATER.items():
        for call in calls:
            assert call in templates[name], (name, call)
    found = {}
    for name, source in templates.items():
        runs = untranslated(name, source, msgids) - ALLOWED.get(name, set())
        if runs:
            found[name] = sorted(runs)
    assert found == {}


def test_allowed_japanese_is_still_there():
    """An exception that is gone (fixed or moved) is taken off ALLOWED."""
    msgids = english_msgids()
    templates = dict(resident_templates())
    for name, runs in ALLOWED.items():
        assert runs <= untranslated(name, templates[name], msgids), name


def test_a_set_string_missing_from_the_english_catalog_counts_as_untranslated():
    source = "{%- set headings = {'paid': 'まだ誰も訳していない見出し'} %}<h1>{{ _(heading) }}</h1>"
    try:
        untranslated("mock_pay/closed.html", source, english_msgids())
    except AssertionError as error:
        assert "まだ誰も訳していない見出し" in str(error)
    else:
        raise AssertionError("a string not in the catalog passed")


def test_a_bare_label_is_found():
    source = (
        "{{ back_button(payment, '支払いが終わったら押してください') }}{{ _('訳あり') }}{# 注 #}"
    )
    assert untranslated("mock_pay/qr.html", source, set()) == {"支払いが終わったら押してください"}
