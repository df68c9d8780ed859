"""The conformance report's page sample (scripts/a11y_sample.py, decisions 0065 and 0068): the
states issue 26 names are required, a state not audited is named, the crawl stays on the
resident's portal and the random pick repeats with its seed."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import a11y_sample as sample  # noqa: E402 - a script's module, found on its folder


def test_every_state_the_issue_names_is_required():
    assert set(sample.REQUIRED) >= {
        "no JavaScript", "languages", "large text, high contrast", "error states",
        "login timeout warning", "kiosk idle warning", "assisted session after consent",
        "status notices", "conditional question announcement",
    }  # fmt: skip
    labels = [label for labels in sample.REQUIRED.values() for label in labels]
    assert {"ホーム（ja）", "ホーム（easy）", "ホーム（en）"} <= set(labels)


def test_a_required_state_not_audited_is_named():
    every = [label for labels in sample.REQUIRED.values() for label in labels]
    assert sample.missing(every + ["クロールから選んだページ"]) == []
    assert sample.missing([x for x in every if x != "キオスク：無操作の警告"]) == [
        "kiosk idle warning: キオスク：無操作の警告"
    ]


class _Response:
    def __init__(self, body: str, status: int = 200):
        self.status, self.headers, self.body = status, {"content-type": "text/html"}, body

    def text(self) -> str:
        return self.body


class _Site:
    pages = {
        "/": '<a href="/a">a</a><a href="/staff/x">staff</a><a href="/b?lang=en">en</a>'
        '<a href="https://example.com/">out</a><a href="/cal.ics">ics</a>',
        "/a": '<a href="/">home</a><a href="/b">b</a><a href="/login?next=/a">login</a>',
        "/b": "",
    }

    def get(self, url, **_):
        return _Response(self.pages[url]) if url in self.pages else _Response("", 404)


def test_the_crawl_keeps_to_the_residents_pages():
    assert sample.crawl(_Site(), ["/"]) == ["/", "/a", "/b"]
    assert sample.crawl(_Site(), ["/"], limit=2) == ["/", "/a"]


def test_the_pick_repeats_with_its_seed_and_leaves_out_the_sampled():
    pages = [f"/p{i}" for i in range(30)]
    first = sample.pick(pages, 7, 6, {"/p1"})
    assert first == sample.pick(list(reversed(pages)), 7, 6, {"/p1"})
    assert len(first) == 6 and "/p1" not in first
    assert first != sample.pick(pages, 8, 6, {"/p1"})
