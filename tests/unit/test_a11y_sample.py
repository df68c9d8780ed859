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
    every += sample.every_language()
    assert sample.missing(every + ["クロールから選んだページ"]) == []
    assert sample.missing([x for x in every if x != "キオスク：無操作の警告"]) == [
        "kiosk idle warning: キオスク：無操作の警告"
    ]
    assert sample.missing([x for x in every if x != "申請の確認：エラー（ne）"]) == [
        "languages and furigana: 申請の確認：エラー（ne）"
    ]


def test_every_page_type_is_required_in_every_language_and_with_furigana():
    """Issue 26 (each language, furigana) and 23 (axe once per language and in furigana mode)."""
    from portal.i18n import LANGUAGES

    assert set(sample.LANGUAGES) == set(LANGUAGES)
    required = set(sample.every_language())
    for kind in ("ホーム", "アクセシビリティ方針", "手続の説明", "ライフイベントの質問", "ログイン",
                 "本人確認（カードの暗証番号）", "申請のステップ：エラー", "申請の確認",
                 "申請状況（デモの申請）"):  # fmt: skip
        for lang in LANGUAGES:
            assert f"{kind}（{lang}）" in required
        assert f"{kind}（ja）・ふりがな" in required and f"{kind}（easy）・ふりがな" in required
    # A card locks after three wrong PINs: each language and mode tries a card of its own.
    cards = [sample.wrong_pin_card(lang, False) for lang in sample.LANGUAGES]
    cards += [sample.wrong_pin_card(lang, True) for lang in sample.FURIGANA_LANGUAGES]
    assert len(set(cards)) == len(cards)
    assert not {"adult", "spouse", "elderly", "care-manager"} & set(cards)


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


def test_signed_in_kiosk_and_assisted_pages_are_required_in_every_language():
    """Issue 23 (decisions 0087, 0090): the signed-in resident's states, every group, in every
    language and with ふりがな in 日本語 and やさしい日本語; the kiosk's and the assisted
    session's pages in every language."""
    from portal.i18n import LANGUAGES

    required = set(sample.every_language())
    modes = [(lang, False) for lang in LANGUAGES] + [("ja", True), ("easy", True)]
    assert set(sample.FURIGANA_LANGUAGES) == {"ja", "easy"}
    for lang, furigana in modes:
        for kind in sample.SIGNED_IN_TYPES:
            assert sample.labelled(kind, lang, furigana) in required, (kind, lang, furigana)
    # Each (language, ふりがな) once, with every group: one visit does not audit a state twice.
    planned = [(lang, furigana) for lang, furigana, _ in sample.SIGNED_IN_PLAN]
    assert sorted(planned) == sorted(modes)
    for _, _, groups in sample.SIGNED_IN_PLAN:
        assert tuple(groups) == tuple(sample.SIGNED_IN_GROUPS)
    for lang in sample.LANGUAGES:
        for kind in sample.KIOSK_TYPES + sample.ASSISTED_TYPES:
            assert f"{kind}（{lang}）" in required
