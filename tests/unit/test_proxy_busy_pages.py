"""nginx's busy pages and settings (decision 0053), in both places they are written: the layout's
configuration (scripts/layout.py) and compose's (deploy/nginx.conf). The behaviour itself runs in
tests/layout (an instance killed: a POST in flight gets the busy page and is not sent twice)."""

from __future__ import annotations

import importlib.util
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ERRORS = ROOT / "deploy" / "errors"
PORTAL_503 = "ただいまアクセスが集中しているため、いまの操作を完了できませんでした。何も変更されていません。30秒ほど待ってから、もう一度お試しください。"


def layout_conf() -> str:
    spec = importlib.util.spec_from_file_location("layout_conf", ROOT / "scripts" / "layout.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["layout_conf"] = module
    spec.loader.exec_module(module)
    return module.NGINX_CONF.format(
        dir="/d", upstreams="", port=1, cert="c", key="k", conn_total=64, conn_address=32,
        shedding=module.NGINX_SHEDDING.format(), busy=module.NGINX_BUSY.format(errors="/e"),
        timeouts=module.NGINX_TIMEOUTS, extra_locations="",
    )  # fmt: skip


CONFS = {"layout": layout_conf(), "compose": (ROOT / "deploy" / "nginx.conf").read_text()}


class Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.lang = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "html":
            self.lang = dict(attrs).get("lang")

    def handle_data(self, data):
        self.text += data


@pytest.mark.parametrize("name", ["busy.html", "busy-unknown.html"])
def test_the_static_busy_pages_are_japanese_accessible_and_standalone(name):
    html = (ERRORS / name).read_text()
    page = Outline()
    page.feed(html)
    assert page.lang == "ja"
    assert page.tags.count("h1") == 1 and "main" in page.tags and "title" in page.tags
    assert "<title>混み合っています</title>" in html and "<h1>混み合っています</h1>" in html
    assert "script" not in page.tags
    # Nothing from behind nginx: it may be what is down.
    assert not re.search(r'(src|href)="/(static|_proxy)', html)


def test_the_shedding_page_says_what_the_portals_own_503_page_says():
    portal = (ROOT / "portal" / "templates" / "errors" / "busy.html").read_text()
    assert PORTAL_503 in portal
    assert PORTAL_503 in (ERRORS / "busy.html").read_text()
    # After a POST that reached a failing instance, nothing is promised about what changed.
    unknown = (ERRORS / "busy-unknown.html").read_text()
    assert "何も変更されていません" not in unknown
    assert "二重に受け付けられることはありません" in unknown


@pytest.mark.parametrize("where", CONFS)
def test_nginx_sheds_load_answers_busy_and_never_resends_a_post(where):
    conf = CONFS[where]
    assert "limit_conn_status 503;" in conf
    assert re.search(r"limit_conn portal_all \d+;", conf)
    assert re.search(r"limit_conn portal_address \d+;", conf)
    assert "error_page 503 /_proxy/busy.html;" in conf
    assert "error_page 502 504 =503 /_proxy/$portal_busy_page;" in conf
    assert "add_header Retry-After 30 always;" in conf
    assert "internal;" in conf
    # The portal's own busy pages pass through (comments aside, the directive is not there).
    assert not re.search(r"^\s*proxy_intercept_errors", conf, re.MULTILINE)
    nexts = re.findall(r"proxy_next_upstream ([^;]+);", conf)
    assert nexts and all("non_idempotent" not in n for n in nexts)
    for directive, bound in [("proxy_connect_timeout", 5), ("proxy_read_timeout", 30)]:
        (value,) = re.findall(rf"{directive} (\d+)s;", conf)
        assert int(value) <= bound, directive
