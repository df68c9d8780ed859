"""The input policy (decision 0044): which redirect targets are paths of this site, which
characters text may hold, and the request-level limits."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers, MultiDict

from portal import input_policy
from portal.urls import MAX_REDIRECT_LENGTH, safe_path


@pytest.mark.parametrize(
    "value",
    ["/", "/procedures/juminhyo-copy", "/a?b=1&c=%E3%81%82", "/status/abc#x", "/a%2Fb"],
)
def test_paths_of_this_site_are_kept(value):
    assert safe_path(value, "/home") == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "\t//evil.example",
        "/\t/evil.example",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "%2F%2Fevil.example",
        "/%252F%252Fevil.example",
        "/%5Cevil.example",
        "javascript:alert(1)",
        "http:evil.example",
        "evil.example",
        "/x\r\nSet-Cookie: a=1",
        "/x%0d%0aSet-Cookie: a=1",
        "/ x",
        "/\u3042",
        "/" + "y" * MAX_REDIRECT_LENGTH,
    ],
)
def test_anything_else_gives_the_default(value):
    assert safe_path(value, "/home") == "/home"


@pytest.mark.parametrize(
    "text", ["a\x00b", "\x01", "\x1b[31m", "\x7f", "\x85", "\ud800", "\ufffe", "\uffff", "\u202e"]
)
def test_refused_characters(text):
    assert input_policy.bad_characters(text)


@pytest.mark.parametrize(
    "text", ["GONZALEZ RODRIGUEZ MARIA", "山田　太郎", "ヤマダ", "行1\r\n行2\tタブ", "𠮷野家", "é"]
)
def test_what_people_type_is_accepted(text):
    assert not input_policy.bad_characters(text)


def test_request_limits():
    ok = input_policy.request_problem("/a", MultiDict({"q": "x"}), Headers({"User-Agent": "ok"}))
    assert ok is None
    too_long = "x" * (input_policy.QUERY_VALUE_MAX + 1)
    assert input_policy.request_problem("/a", MultiDict({"q": too_long}), Headers())
    assert input_policy.request_problem("/a\x00", MultiDict(), Headers())
    assert input_policy.request_problem("/" + "p" * input_policy.PATH_MAX, MultiDict(), Headers())
    assert input_policy.request_problem("/a", MultiDict(), Headers({"User-Agent": "a\x01"}))
    # UTF-8 in a header arrives as Latin-1 with bytes 0x80-0x9F: not refused.
    latin = "日本".encode().decode("latin-1")
    assert input_policy.request_problem("/a", MultiDict(), Headers({"X-Name": latin})) is None
    big = "x" * (input_policy.FORM_VALUE_MAX + 1)
    assert input_policy.form_problem(MultiDict({"note": big}))
    assert input_policy.form_problem(MultiDict({"note": "ok"})) is None
