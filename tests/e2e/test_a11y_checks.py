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


FOCUS_FAULTS = GOOD.replace(
    "</main>",
    # Shown in the order 後 then 先, focused 先 then 後 (2.4.3).
    '<div style="display:flex;flex-direction:row-reverse;justify-content:flex-end">'
    '<a href="/first" style="padding:12px">先</a><a href="/second" style="padding:12px">後</a></div>'
    # Shown below, focused first (a positive tabindex).
    '<p style="margin-top:40px"><a href="/early" tabindex="1">先に来るリンク</a>の説明です。</p>'
    # No indicator at all (2.4.7).
    '<button style="outline:none;min-height:44px" id="plain">印なし</button>'
    '<div style="height:1200px"></div>'
    # Under a fixed panel over the lower part of the window (a cookie banner, say; 2.4.11).
    '<a href="/under" style="display:block;height:24px">隠れるリンク</a>'
    '<div style="height:1200px"></div></main><div style="position:fixed;bottom:0;left:0;right:0;height:70%;background:#fff">'
    "<p>固定の帯</p></div>",
).replace(
    "<head>",
    "<head><style>a:focus, button:focus, input:focus { outline: 3px solid #000; }"
    " #plain:focus { outline: none; }</style>",
)


def test_the_focus_walk_finds_order_indicator_and_obscuring_faults(page):
    show(page, GOOD.replace("<head>", "<head><style>:focus { outline: 3px solid #000 }</style>"))
    walk = a11y_checks.tab_walk(page)
    assert [s["what"].split('"')[1] for s in walk] == ["ホーム", "リンク", "", "次へ進む"]
    assert a11y_checks.focus_order(page, walk) == []
    assert a11y_checks.focus_visible(page, walk) == []

    show(page, FOCUS_FAULTS)
    page.evaluate("() => document.querySelector('#a').focus()")
    walk = a11y_checks.tab_walk(page)
    order = a11y_checks.focus_order(page, walk)
    assert any('positive tabindex puts a "先に来るリンク"' in p for p in order)
    assert any('from a "先"' in p and 'to a "後"' in p for p in order)  # leftwards on one row
    visible = a11y_checks.focus_visible(page, walk)
    assert 'no visible focus indicator on button#plain "印なし"' in visible
    assert 'a "隠れるリンク" hidden behind div "固定の帯" when focused' in visible
    assert not any("ホーム" in p or "indicator on a " in p for p in visible)  # above the panel
    # The walk leaves the page as it found it: focus back where it was, at the top.
    assert page.evaluate("() => [document.activeElement.id, scrollY]") == ["a", 0]
    assert page.evaluate("() => document.querySelectorAll('[data-a11y-walk-start]').length") == 0


def test_a_modal_dialogs_walk_stays_in_the_dialog(page):
    show(
        page,
        GOOD.replace(
            "</main>",
            '</main><dialog id="d" role="alertdialog" aria-label="警告"><h2>警告</h2>'
            '<button>続ける</button><a href="/end">終了する</a></dialog>',
        ).replace("<head>", "<head><style>:focus { outline: 3px solid #000 }</style>"),
    )
    page.evaluate("() => document.querySelector('#d').showModal()")
    walk = a11y_checks.tab_walk(page)
    assert [s["what"] for s in walk] == ['button "続ける"', 'a "終了する"']


STATUS_FAULTS = GOOD.replace(
    "<h2>小見出し</h2>",
    '<div class="error-summary" tabindex="-1"><h2>入力内容に誤りがあります</h2></div>'
    '<div class="notice notice--status"><p>保存しました</p></div>'
    '<div class="notice notice--error" role="alert"><p>これは伝わる</p></div>'
    '<form><div data-conditional="{}"></div><div data-conditional-announcer></div></form>'
    '<p data-postal-status aria-live="off"></p>'
    '<dialog id="session-timeout"></dialog><p id="session-timeout-status"></p>',
)


def test_status_messages_must_be_live_or_focused(page):
    assert a11y_checks.status_messages(show(page, GOOD)) == []
    problems = a11y_checks.status_messages(show(page, STATUS_FAULTS))
    assert problems == [
        'status message not in a live region and not focused: "入力内容に誤りがあります"',
        'status message not in a live region and not focused: "保存しました"',
        "the login timeout's status is not a live region",
        "no live region for the login timeout's countdown",
        "the conditional questions' announcer is not a live region",
        "the postcode look-up's status is not a live region",
        "the time-limit warning #session-timeout is not an alertdialog",
    ]
    # An error summary the page focuses on load, or the field in error focused instead, is heard.
    focused = STATUS_FAULTS.replace(
        'class="error-summary" tabindex="-1"',
        'class="error-summary" tabindex="-1" data-error-summary',
    )
    assert not any("入力内容" in p for p in a11y_checks.status_messages(show(page, focused)))
    field = STATUS_FAULTS.replace('<input id="a"', '<input id="a" autofocus aria-invalid="true"')
    assert not any("入力内容" in p for p in a11y_checks.status_messages(show(page, field)))


def test_language_of_parts_on_pages_not_in_japanese(page):
    """3.1.2: Japanese unmarked on an English page, an aria-label in Japanese, and an English
    fallback unmarked on Chinese and Vietnamese pages are found; marked ones, a Japanese page,
    Chinese Han characters, a name in capitals and what a textarea holds are not."""
    english = """<!doctype html><html lang="en"><head><title>t</title></head><body>
<main><h1>Your name</h1><p>氏名</p><p>Name: <span lang="ja">山田 太郎</span></p>
<p>Claim (<span lang="ja">配慮</span>)</p><nav aria-label="練習"></nav>
<textarea>入力した文</textarea><p hidden>隠れた文</p></main></body></html>"""
    found = a11y_checks.language_of_parts(show(page, english))
    assert len(found) == 2, found
    assert 'Japanese not marked lang="ja": "氏名"' in found[0]
    assert "aria-label" in found[1]
    assert a11y_checks.language_of_parts(show(page, GOOD)) == []  # a Japanese page
    chinese = """<!doctype html><html lang="zh-Hans"><head><title>t</title></head><body>
<main><h1>申请</h1><p>测试日期</p><p>Multiple Ways</p><p>이스미시(いすみ市)</p><p lang="en">Not checked yet</p>
<p>GONZALEZ MARIA</p><p>の写し</p></main></body></html>"""
    found = a11y_checks.language_of_parts(show(page, chinese))
    assert len(found) == 2, found
    assert 'English not marked lang="en": "Multiple Ways"' in found[0]
    assert 'Japanese not marked lang="ja": "の写し"' in found[1]
    vietnamese = """<!doctype html><html lang="vi"><head><title>t</title></head><body>
<main><h1>Họ và tên</h1><p>This is the English of it</p><p>Hồ sơ của bạn</p></main></body>
</html>"""
    found = a11y_checks.language_of_parts(show(page, vietnamese))
    assert found == ['English not marked lang="en": "This is the English of it" in <p>']
