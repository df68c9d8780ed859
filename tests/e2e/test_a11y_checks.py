"""The tool checks of the conformance report (tests/e2e/a11y_checks.py) find what they look for:
each on a small page made to fail it, and none on a page made to pass them all."""

from __future__ import annotations

from tests.e2e import a11y_checks

GOOD = """<!doctype html><html lang="ja"><head><title>t</title>
<meta name="viewport" content="width=device-width"></head><body>
<header><a href="/">ホーム</a></header>
<main><h1>見出し</h1><h2>小見出し</h2><p>本文の<a href="/x">リンク</a>です。</p>
<label for="a">氏名</label><input id="a" style="height:44px">
<button style="min-height:44px;min-width:44px">次へ進む</button></main>
<footer><p>いすみ市</p></footer></body></html>"""


def show(page, html: str):
    page.set_viewport_size({"width": 412, "height": 839})
    page.set_content(html)
    return page


def test_a_good_page_passes_every_check(page):
    results = a11y_checks.run_all(show(page, GOOD))
    assert results == {name: [] for name in a11y_checks.CHECKS}


def test_each_check_finds_its_fault(page):
    bad = (
        GOOD.replace("<h2>小見出し</h2>", "<h3>小見出し</h3><h1>二つ目</h1>")
        .replace("<footer><p>いすみ市</p></footer>", "<p>外の文</p>")
        .replace(
            '<button style="min-height:44px;min-width:44px">次へ進む</button>',
            '<button style="width:10px;height:10px;padding:0"></button>'
            '<button style="width:10px;height:10px;padding:0">x</button>'
            '<div style="width:500px">幅が固定</div>'
            '<div style="height:1.2em;overflow:hidden;width:6em">長い文字がはみ出す行です</div>',
        )
    )
    results = a11y_checks.run_all(show(page, bad))
    assert any("2 visible h1" in p for p in results["headings"])
    assert any("h3" in p for p in results["headings"])
    assert any("contentinfo" in p for p in results["landmarks"])
    assert any("外の文" in p for p in results["landmarks"])
    assert any("button without an accessible name" in p for p in results["names"])
    assert results["targets"] and results["reflow"] and results["text-spacing"]
    assert len(a11y_checks.targets(page, kiosk=True)) >= len(results["targets"])


def test_a_script_error_under_forced_colours_is_found(page):
    show(
        page,
        GOOD.replace(
            "</body>",
            """<script>matchMedia('(forced-colors: active)')
      .addEventListener('change', (e) => { if (e.matches) throw new Error('boom'); });</script></body>""",
        ),
    )
    assert any("boom" in p for p in a11y_checks.forced_colors(page))
    assert a11y_checks.reduced_motion(page) == []
