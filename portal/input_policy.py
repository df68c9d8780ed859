"""What the portal accepts as text from a request, checked before any view reads it (decision
0044): the character policy and the length limits.

Text may hold any character a person can type or paste: letters of every script, digits,
punctuation, spaces, tabs and line breaks. Refused: the other C0 controls (NUL included), DEL, the
C1 controls, lone surrogates, the noncharacters U+FFFE/U+FFFF (and their kin), and the bidi
embedding/override/isolate controls, which can make a stored name read differently on screen.
A request that carries them in its path, query string or a header is refused with a 400 (a
Japanese page, or JSON on the machine endpoints); in a form the catalog field types refuse them
with a message beside the field (portal/catalog/fields/base.py), keeping what was entered.
"""

from __future__ import annotations

import re

# The longest path, query value, header value and form value the portal reads. Its own links
# are far shorter; the longest thing a person types is a free-text answer (TEXT_MAX).
PATH_MAX = 1000
QUERY_VALUE_MAX = 500
HEADER_MAX = 8000
FORM_VALUE_MAX = 20_000
TEXT_MAX = 2000  # a catalog text answer without a max_length of its own
# A person's name, in any script: residence cards print the full Latin name, which for Spanish
# or Portuguese names ("GONZALEZ RODRIGUEZ MARIA FERNANDA ISABEL DE LOS ANGELES", 55 letters)
# runs well past the 60 characters once allowed; 100 leaves room for longer ones plus a middle
# name, and is what the city's own staff and booking forms allow too.
NAME_MAX = 100
ADDRESS_LINE_MAX = 100  # 町名, 番地・号, 建物名・部屋番号 each

_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\u202a-\u202e\u2066-\u2069]"
)
# Headers arrive as Latin-1: UTF-8 text in them shows bytes 0x80-0x9F, so only C0 and DEL count.
_FORBIDDEN_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")

# What may travel from a request into a URL the portal builds (a redirect, a link): ids, dates,
# numbers. Anything else is left out, so no header echoes what someone put in a link.
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]{1,100}")

BAD_CHARACTERS = "使用できない文字（制御文字など）が含まれています"

# What the HTML standard allows in no document (NUL, controls other than whitespace, C1
# controls, noncharacters). A page that shows refused input back shows these as U+FFFD.
_NOT_IN_HTML = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


def bad_characters(text: str) -> bool:
    """Whether `text` holds a character the policy refuses."""
    return _FORBIDDEN.search(text) is not None


def shown_in_html(text: str) -> str:
    """`text` with every character HTML does not allow replaced by U+FFFD (�)."""
    return _NOT_IN_HTML.sub("\ufffd", text)


def plain(text: str) -> bool:
    """Whether `text` may be carried into a URL the portal builds (ids, dates, numbers)."""
    return _PLAIN.fullmatch(text) is not None


def request_problem(path: str, args, headers) -> str | None:
    """Why a request's path, query string or headers break the policy (None: they do not)."""
    if len(path) > PATH_MAX:
        return "path too long"
    if bad_characters(path):
        return "path characters"
    for key, value in args.items(multi=True):
        if len(key) > QUERY_VALUE_MAX or len(value) > QUERY_VALUE_MAX:
            return "query too long"
        if bad_characters(key) or bad_characters(value):
            return "query characters"
    values = _header_values(headers)
    # Every request: the longest value and one search over all of them (a tab, which a header
    # may hold, between them); only a request that breaks the policy looks for which header.
    if max(map(len, values), default=0) <= HEADER_MAX and not _FORBIDDEN_IN_HEADER.search(
        "\t".join(values)
    ):
        return None
    for value in values:
        if len(value) > HEADER_MAX:
            return "header too long"
        if _FORBIDDEN_IN_HEADER.search(value):
            return "header characters"
    return None


# The WSGI keys Werkzeug's EnvironHeaders leaves out, and the two it shows without HTTP_.
_NOT_HEADERS = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})
_CONTENT_KEYS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def _header_values(headers) -> list[str]:
    """The values of a request's headers, in their order. A request's headers (Werkzeug's
    EnvironHeaders) are read from the WSGI environ as that class reads them, without making
    each header's name."""
    environ = getattr(headers, "environ", None)
    if environ is None:
        return [value for _name, value in headers.items()]
    return [
        value
        for key, value in environ.items()
        if (key.startswith("HTTP_") and key not in _NOT_HEADERS) or (key in _CONTENT_KEYS and value)
    ]


def form_problem(form) -> str | None:
    """Why a form breaks the limits no field of any form may exceed (None: it does not)."""
    for key, value in form.items(multi=True):
        if len(key) > QUERY_VALUE_MAX or len(value) > FORM_VALUE_MAX:
            return "form value too long"
        if bad_characters(key):
            return "form characters"
    return None
