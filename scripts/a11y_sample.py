"""The page sample of the conformance report (`make a11y`, scripts/a11y.py): every page type and
state the portal has, each reached as a person reaches it in Chromium against a live server with
the demo data, plus pages picked at random (seeded) from a crawl of the demo portal.

A visit is a function of a fresh browser context that brings a page to one state and yields
(label, page, kiosk) for each state it reaches; scripts/a11y.py audits the page at each yield.
A state the visit cannot reach is an automated failure of the report (the sample is incomplete).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import urljoin, urlsplit

import pyotp
from playwright.sync_api import expect

from tests.e2e.people import by_label
from tests.e2e.staff_people import create_member
from tests.e2e.test_login import use_card

Visit = Callable[..., Iterator[tuple[str, object, bool]]]

# The states issue 26 names, each a label the sample must reach (a11y.py fails the report on any
# it did not audit): without JavaScript, each language, the display settings, error states, the
# time-limit warnings, the kiosk, the assisted session after consent, status notices.
REQUIRED = {
    "no JavaScript": ["ホーム（JavaScriptなし）", "申請のステップ：エラー（JavaScriptなし）"],
    "languages": ["ホーム（ja）", "ホーム（easy）", "ホーム（en）"],
    "large text, high contrast": ["ホーム（大きい文字・高コントラスト）"],
    "error states": [
        "申請のステップ：エラー", "文字の大きさと色：エラー（ja）", "本人確認：暗証番号の誤り",
        "お手伝い：同意のエラー（ja）", "申請の確認：エラー（ja）",
    ],
    "login timeout warning": ["ログイン時間切れの警告", "ログイン時間切れの後"],
    "kiosk idle warning": ["キオスク：無操作の警告"],
    "kiosk languages": ["キオスク：手続の一覧（en）", "キオスク：手続の一覧（easy）"],
    "assisted session after consent": [
        "お手伝い：同意の後（端末を渡す）", "お手伝い：手続のページ（お手伝い中の表示）（ja）",
    ],
    "status notices": ["キオスク：消去の通知（無操作のあと）"],
    "conditional question announcement": ["条件付きの質問：追加の読み上げ"],
}  # fmt: skip


def missing(audited_labels) -> list[str]:
    """The required states (kind: label) the sample did not audit: those above, and every page
    type in every language and with ふりがな (language_pages)."""
    audited = set(audited_labels)
    required = REQUIRED | {"languages and furigana": every_language()}
    return [
        f"{kind}: {label}" for kind, labels in required.items() for label in labels
        if label not in audited
    ]  # fmt: skip


PROCEDURE = "juminhyo-copy"  # 住民票の写し等の交付請求: the most used procedure


def heading(page):
    return page.get_by_role("heading", level=1)


def _sign_in(page, persona: str = "adult") -> None:
    page.goto("/login")
    page.get_by_role("button", name="マイナンバーカードでログインする").click()
    use_card(page, persona)
    expect(page.locator(".site-header__user")).to_be_visible()


def _post_invalid(page, form_selector: str, values: dict[str, str]) -> None:
    """Submit a form of the page with some values replaced by invalid ones (an error state a
    person reaches by leaving a choice out or typing something wrong)."""
    page.evaluate(
        """([selector, values]) => {
          const form = document.querySelector(selector);
          for (const [name, value] of Object.entries(values)) {
            for (const el of form.querySelectorAll(`[name="${name}"]`)) el.remove();
            const input = document.createElement('input');
            input.type = 'hidden'; input.name = name; input.value = value;
            form.appendChild(input);
          }
        }""",
        [form_selector, values],
    )
    page.locator(form_selector).get_by_role("button").last.click()
    page.wait_for_load_state("load")


# The languages the portal offers (portal.i18n.LANGUAGES) and the page types each is audited in
# (issue 26: "each language, furigana"); ふりがな on 日本語 and やさしい日本語 pages.
LANGUAGES = ("ja", "easy", "en", "zh", "ko", "vi", "pt", "ne")
FURIGANA_LANGUAGES = ("ja", "easy")
PAGE_TYPES = (
    "ホーム", "アクセシビリティ方針", "手続の説明", "ライフイベント", "ライフイベントの質問",
    "文字の大きさと色", "文字の大きさと色：エラー", "個人情報の取扱い", "手続の検索結果",
    "ページが見つからない（404）", "窓口の予約", "続きから入力", "ログイン",
    "本人確認（カードの暗証番号）", "本人確認：暗証番号の誤り", "申請のステップ",
    "申請のステップ：エラー", "申請の確認", "申請の確認：エラー", "申請状況（デモの申請）",
)  # fmt: skip


# The demo cards given a wrong PIN, one for each language and mode: a card locks after three
# (the counter is the card's, kept by the mock service), and the other visits sign in with
# adult, spouse, elderly and care-manager.
WRONG_PIN_CARDS = ("parent", "child-1", "child-2", "family", "foreign", "gaiji", "teen-14", "moved",
                   "mover", "mover-child")  # fmt: skip


def wrong_pin_card(lang: str, furigana: bool) -> str:
    index = LANGUAGES.index(lang)
    if furigana:
        index = len(LANGUAGES) + FURIGANA_LANGUAGES.index(lang)
    return WRONG_PIN_CARDS[index]


def labelled(kind: str, lang: str, furigana: bool = False) -> str:
    """A sampled state's label: its page type, the language, and ・ふりがな when on."""
    return f"{kind}（{lang}）" + ("・ふりがな" if furigana else "")


# The signed-in resident's page types and states (issue 23, "axe on every route × state once
# per language and in furigana mode", decision 0087), in four groups: applying (申請一覧, a
# procedure that needs a login, the steps, check and done pages of one that does not), paying
# its fee at the mock provider, a life event's shared questions and leaving them, and booking a
# counter appointment.
SIGNED_IN_GROUPS = {
    "申請": (
        "申請一覧", "ログインが必要な手続のステップ", "申請のステップ（ログイン中）",
        "申請のステップ（ログイン中）：エラー", "申請の確認（ログイン中）", "申請の完了",
    ),
    "支払い": ("支払い方法の選択", "カードでの支払い", "支払いの完了"),
    "まとめて申請": (
        "まとめて申請：共通の質問", "まとめて申請：共通の質問のエラー", "まとめて申請をやめる",
    ),
    "窓口の予約": (
        "窓口の予約：用件", "窓口の予約：日を選ぶ", "窓口の予約：時間を選ぶ",
        "窓口の予約：予約しました", "窓口の予約：取り消し", "窓口の予約：取り消しました",
    ),
}  # fmt: skip
SIGNED_IN_TYPES = tuple(kind for kinds in SIGNED_IN_GROUPS.values() for kind in kinds)
# Every group in every language, and with ふりがな in 日本語 and やさしい日本語 (decisions 0087,
# 0090): each (language, ふりがな) a visit of its own.
SIGNED_IN_PLAN = tuple((lang, False, tuple(SIGNED_IN_GROUPS)) for lang in LANGUAGES) + tuple(
    (lang, True, tuple(SIGNED_IN_GROUPS)) for lang in FURIGANA_LANGUAGES
)
# The kiosk and the assisted session (お手伝い) in each language.
KIOSK_TYPES = ("キオスク：開始", "キオスク：手続の一覧", "キオスク：申請のステップ")
ASSISTED_TYPES = (
    "お手伝いの方のページ", "お手伝い：ご本人に渡す", "お手伝い：同意", "お手伝い：同意のエラー",
    "お手伝い：手続のページ（お手伝い中の表示）",
)  # fmt: skip


def every_language() -> list[str]:
    """Every page type of the portal in every language, and with ふりがな: the public pages,
    the signed-in resident's, the kiosk's and the assisted session's."""
    kinds = PAGE_TYPES + KIOSK_TYPES + ASSISTED_TYPES
    return (
        [labelled(kind, lang) for lang in LANGUAGES for kind in kinds]
        + [labelled(kind, lang, True) for lang in FURIGANA_LANGUAGES for kind in PAGE_TYPES]
        + [
            labelled(kind, lang, furigana)
            for lang, furigana, groups in SIGNED_IN_PLAN
            for group in groups
            for kind in SIGNED_IN_GROUPS[group]
        ]
    )


def _submit(page, selector: str) -> None:
    """Press a form's button found by its place, not its name (the name is in the page's
    language)."""
    page.locator(selector).first.click()
    page.wait_for_load_state("load")


def language_pages(page, lang: str, server, status_url: str, furigana: bool = False):
    """Every page type and state of the resident's portal in one language (ふりがな on or off):
    the site pages and their error states, login and the card reader (with a wrong PIN), a
    procedure's first step and its errors, the check page of a complete draft and its error, and a
    demo application's status page. Buttons are found by their place in the page, since their
    names are in `lang`; the state is asserted by structure (an error summary, a heading)."""
    import datetime as dt

    from tests.e2e import prepared

    page.goto(f"/?lang={lang}")
    page.goto(f"/?furigana={'on' if furigana else 'off'}")
    if furigana:
        expect(page.locator(".furigana-source").first).to_be_attached()

    def state(kind):
        return labelled(kind, lang, furigana), page, False

    yield state("ホーム")
    page.goto("/accessibility")
    yield state("アクセシビリティ方針")
    page.goto(f"/procedures/{PROCEDURE}")
    yield state("手続の説明")
    page.goto("/life-events/")
    yield state("ライフイベント")
    page.goto("/life-events/moving")
    yield state("ライフイベントの質問")
    page.goto("/display")
    yield state("文字の大きさと色")
    _post_invalid(page, "main form", {"size": "x", "contrast": "y"})
    expect(page.locator(".error-summary")).to_be_visible()
    yield state("文字の大きさと色：エラー")
    page.goto("/privacy")
    yield state("個人情報の取扱い")
    page.goto("/?q=%E4%BD%8F%E6%B0%91%E7%A5%A8")
    yield state("手続の検索結果")
    page.goto("/procedures/no-such-procedure")
    yield state("ページが見つからない（404）")
    page.goto("/appointments/")
    yield state("窓口の予約")
    page.goto("/resume")
    yield state("続きから入力")
    page.goto("/login")
    yield state("ログイン")
    _submit(page, "main form button[type=submit]")
    expect(page.locator("input[name=pin]")).to_be_visible()
    yield state("本人確認（カードの暗証番号）")
    page.locator(f"input[name=card][value='{wrong_pin_card(lang, furigana)}']").check()
    page.locator("input[name=pin]").fill("0000")
    _submit(page, "main form button[name=action][value=login]:visible")
    expect(page.locator(".error-summary")).to_be_visible()
    yield state("本人確認：暗証番号の誤り")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    page.goto(f"/procedures/{PROCEDURE}")
    # 申請を始める, or 最初から入力し直す when this session has a draft already (the same form)
    _submit(page, f"main form[action$='/procedures/{PROCEDURE}/start'] button[type=submit]")
    expect(page.locator("main form input[name=csrf_token]")).to_be_attached()
    yield state("申請のステップ")
    _submit(page, "main form button.button[type=submit]:not([name])")
    expect(page.locator(".error-summary")).to_be_visible()
    yield state("申請のステップ：エラー")
    if server is None:  # the browser suite's furigana test: no live app to prepare a draft with
        page.goto("/?furigana=off")
        return
    prepared.filled_but(live_app(server), PROCEDURE, started)
    page.goto(f"/procedures/{PROCEDURE}/check")
    yield state("申請の確認")
    _submit(page, "main form button.button[type=submit]:not([name])")
    expect(page.locator(".error-summary")).to_be_visible()
    yield state("申請の確認：エラー")
    page.goto(status_url)
    yield state("申請状況（デモの申請）")
    page.goto("/?furigana=off")


def _sign_in_as(page, persona: str) -> None:
    """Log in with a demo card in whatever language the page is in (the mock card reader's
    fields and buttons found by their names in the form, not their labels)."""
    from tests.e2e.test_login import PERSONAS

    page.goto("/login")
    _submit(page, "main form button[type=submit]")
    page.locator(f"input[name=card][value='{persona}']").check()
    page.locator("input[name=pin]").fill(PERSONAS[persona]["auth_pin"])
    _submit(page, "main form button[name=action][value=login]:visible")
    expect(page.locator(".site-header__user")).to_be_visible()


SIGNED_IN_PERSONA = "adult"  # 大原 太郎: the demo's card holder with applications of his own


def signed_in_pages(
    page, lang: str, server, furigana: bool = False, groups=tuple(SIGNED_IN_GROUPS)
):
    """The signed-in resident's page types in one language (ふりがな on or off), of the chosen
    SIGNED_IN_GROUPS: 申請一覧, the first page of a procedure that needs a login, 住民票の写し's
    step (and its error), check and done pages; its fee paid by card at the mock provider (from
    the done page, or from the status page of an application made for the purpose); a moving
    bundle's shared questions (and their error) and the page that discards it; a counter
    appointment booked and cancelled. As in language_pages, buttons are found by their place.
    The resident logs in with the card unless the context holds a login already (scripts/a11y.py
    hands each signed-in visit the cookies of the one before: decision 0090)."""
    import datetime as dt

    from tests.e2e import prepared

    app = live_app(server)
    # One page load chooses both (each switch redirects to the page with the other parameter).
    page.goto(f"/?lang={lang}&furigana={'on' if furigana else 'off'}")
    if not page.locator(".site-header__user").count():  # the context may hold a login already
        _sign_in_as(page, SIGNED_IN_PERSONA)
    owner = prepared.owner_of(app, SIGNED_IN_PERSONA)

    def state(kind):
        if furigana and "/mock-pay/" not in page.url:  # the stand-in provider has no ふりがな
            expect(page.locator(".furigana-source").first).to_be_attached()
        return labelled(kind, lang, furigana), page, False

    if "申請" in groups:
        page.goto("/my/applications")
        yield state("申請一覧")
        page.goto("/procedures/koseki-shomei")
        _submit(page, "main form[action$='/procedures/koseki-shomei/start'] button[type=submit]")
        expect(page.locator("main form input[name=csrf_token]")).to_be_attached()
        yield state("ログインが必要な手続のステップ")
        started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
        page.goto(f"/procedures/{PROCEDURE}")
        _submit(page, f"main form[action$='/procedures/{PROCEDURE}/start'] button[type=submit]")
        expect(page.locator("main form input[name=csrf_token]")).to_be_attached()
        yield state("申請のステップ（ログイン中）")
        _submit(page, "main form button.button[type=submit]:not([name])")
        expect(page.locator(".error-summary")).to_be_visible()
        yield state("申請のステップ（ログイン中）：エラー")
        prepared.filled_but(app, PROCEDURE, started, owner=owner)
        page.goto(f"/procedures/{PROCEDURE}/check")
        yield state("申請の確認（ログイン中）")
        for box in page.locator("main form input[type=checkbox]").all():
            box.check()
        _submit(page, "main form button.button[type=submit]:not([name])")
        expect(page.locator("main form[action$='/payments/start'] button").first).to_be_visible()
        yield state("申請の完了")
    if "支払い" in groups:
        if "申請" not in groups:  # paid from the status page of an application made for it
            page.goto(prepared.status_page(app, PROCEDURE))
        _submit(page, "main form[action$='/payments/start'] button[type=submit]")
        expect(page.locator("input[name=method][value=card]")).to_be_attached()
        yield state("支払い方法の選択")
        page.locator("input[name=method][value=card]").check()
        _submit(page, "main form button[name=action][value=choose]")
        expect(page.locator("input[name=number]")).to_be_visible()
        yield state("カードでの支払い")
        page.locator("input[name=number]").fill("4242 4242 4242 4242")
        page.locator("input[name=expiry]").fill("12/30")
        page.locator("input[name=cvc]").fill("123")
        page.locator("input[name=name]").fill("TARO OHARA")
        _submit(page, "main form button[type=submit]")
        expect(page.locator("main a[href$='/receipt']")).to_be_visible()
        yield state("支払いの完了")
    if "まとめて申請" in groups:
        yield from _bundle_pages(page, app, owner, state)
    if "窓口の予約" in groups:
        yield from _appointment_pages(page, state)


def _bundle_pages(page, app, owner, state):
    from tests.e2e import prepared

    bundle = prepared.moving_bundle_of(app, owner, ["tennyu-yoyaku", "kodomo-iryohi"])
    page.goto(f"/bundles/{bundle}")  # an unsent bundle: its next page, the first shared one
    expect(page.locator("main form input[name=csrf_token]")).to_be_attached()
    yield state("まとめて申請：共通の質問")
    _submit(page, "main form button.button[type=submit]:not([name])")
    expect(page.locator(".error-summary")).to_be_visible()
    yield state("まとめて申請：共通の質問のエラー")
    page.goto(f"/my/bundles/{bundle}/discard")
    yield state("まとめて申請をやめる")
    _submit(page, "main form button.button--warning[type=submit]")


def _appointment_pages(page, state):
    page.goto("/appointments/shimin-main")
    yield state("窓口の予約：用件")
    page.locator("main form input[name=service]").first.check()
    _submit(page, "main form button[type=submit]")
    if not page.locator("a.calendar__link").count():  # no free day left this month
        page.locator("main a[href*='month=']").last.click()
    expect(page.locator("a.calendar__link").first).to_be_visible()
    yield state("窓口の予約：日を選ぶ")
    page.locator("a.calendar__link").first.click()
    page.wait_for_load_state("load")
    yield state("窓口の予約：時間を選ぶ")
    page.locator("main form input[name=time]:not([disabled])").first.check()
    page.locator("main form input[name=email]").fill("taro@example.jp")
    _submit(page, "main form button[type=submit]")
    expect(page.locator("main a[href$='/cancel']")).to_be_visible()
    yield state("窓口の予約：予約しました")
    page.locator("main a[href$='/cancel']").click()
    page.wait_for_load_state("load")
    yield state("窓口の予約：取り消し")
    _submit(page, "main form[action$='/cancel'] button[type=submit]")
    expect(page.locator("main a[href$='/cancel']")).to_have_count(0)
    yield state("窓口の予約：取り消しました")


def furigana_pages(page):
    """ふりがな on, 日本語 and やさしい日本語: every page type up to a step with its errors (the
    browser suite's tests/e2e/test_furigana.py; the report adds the check and status pages)."""
    for lang in FURIGANA_LANGUAGES:
        yield from language_pages(page, lang, None, "", furigana=True)


_APPS: dict[int, object] = {}


def live_app(server):
    """An app on the live server's database (to prepare drafts as the browser suite does)."""
    if id(server) not in _APPS:
        from portal import create_app

        with mock.patch.dict(os.environ, server.env, clear=True):
            _APPS[id(server)] = create_app()
    return _APPS[id(server)]


def no_javascript(page):
    """Pages without JavaScript (a context with scripts off): the home page, a procedure step and
    its error summary (focused by autofocus alone), the display settings."""
    page.goto("/")
    yield "ホーム（JavaScriptなし）", page, False
    _sign_in(page, "spouse")  # not "adult", whose draft of the procedure the login visit starts
    page.goto(f"/procedures/{PROCEDURE}")
    page.get_by_role("button", name="申請を始める").click()
    yield "申請のステップ（JavaScriptなし）", page, False
    page.locator("main form").get_by_role("button", name="次へ進む").click()
    expect(page.locator(".error-summary")).to_be_visible()
    yield "申請のステップ：エラー（JavaScriptなし）", page, False
    page.goto("/display")
    yield "文字の大きさと色（JavaScriptなし）", page, False


def display_modes(page):
    """Large text and high contrast (the portal's own display settings)."""
    page.goto("/display")
    page.locator("main form input[name=size]").last.check()
    page.locator("main form input[name=contrast]").last.check()
    page.locator("main form").get_by_role("button").first.click()
    page.goto("/")
    yield "ホーム（大きい文字・高コントラスト）", page, False
    page.goto(f"/procedures/{PROCEDURE}")
    yield "手続の説明（大きい文字・高コントラスト）", page, False


def login_and_procedure(page):
    """Login (with its error), a procedure step (with its errors), my applications."""
    page.goto("/login")
    yield "ログイン", page, False
    page.get_by_role("button", name="マイナンバーカードでログインする").click()
    expect(heading(page)).to_have_text("マイナンバーカードで本人確認")
    yield "本人確認（カードの暗証番号）", page, False
    use_card(page, "adult", pin="0000")
    yield "本人確認：暗証番号の誤り", page, False
    use_card(page, "adult")
    expect(page.locator(".site-header__user")).to_be_visible()
    yield "ホーム（ログイン中）", page, False
    page.goto(f"/procedures/{PROCEDURE}")
    page.get_by_role("button", name="申請を始める").click()
    yield "申請のステップ（最初）", page, False
    page.locator("main form").get_by_role("button", name="次へ進む").click()
    expect(page.locator(".error-summary")).to_be_visible()
    yield "申請のステップ：エラー", page, False
    page.goto("/my/applications")
    yield "申請一覧", page, False


def login_timeout(page, server):
    """The warning before a login runs out, and the page after it ran out."""
    import datetime as dt

    page.clock.install()
    _sign_in(page)
    signed_in_at = dt.datetime.now(dt.UTC)
    server.set_clock((signed_in_at + dt.timedelta(minutes=28.2)).isoformat())
    page.clock.fast_forward("28:00")
    expect(page.get_by_role("alertdialog")).to_be_visible()
    yield "ログイン時間切れの警告", page, False
    server.set_clock((signed_in_at + dt.timedelta(minutes=31)).isoformat())
    page.goto("/my/applications")
    yield "ログイン時間切れの後", page, False
    server.set_clock(None)


def status_page(page, status_url: str):
    page.goto(status_url)
    yield "申請状況（デモの申請）", page, False


def kiosk(page, server):
    """A registered kiosk terminal: its start screen, menu and a step in every language (each
    language a visit of its own, ended with 消去して終了する), the end page, the idle warning and
    the start page's notice after the reset."""
    import datetime as dt

    page.clock.install()  # the idle warning below: the page's clock, moved with the server's
    secret = create_member(server, "a11y-kiosk", "キオスク 管理者", "admin:shimin", "pw-" * 5)
    page.goto("/kiosk/")
    yield "キオスク：登録されていない端末", page, True
    page.goto("/staff/login")
    by_label(page, "ログインID").fill("a11y-kiosk")
    by_label(page, "パスワード").fill("pw-" * 5)
    page.get_by_role("button", name="次へ").click()
    by_label(page, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="ログインする").click()
    page.get_by_role("link", name="キオスク端末").click()
    by_label(page, "端末の名前").fill("a11y")
    by_label(page, "設置場所（画面に表示します）").fill("本庁舎1階")
    page.get_by_role("button", name="この端末をキオスクとして登録").click()
    expect(page.get_by_text("本庁舎1階")).to_be_visible()
    for lang in LANGUAGES:  # each a visit of its own, begun with the start screen's language
        page.locator(f"main button[name=lang][value={lang}]").click()
        expect(page.locator(f"main button[name=lang][value={lang}]")).to_have_attribute(
            "aria-pressed", "true"
        )
        yield labelled("キオスク：開始", lang), page, True
        _submit(page, "main form[action$='/kiosk/visit'] button[type=submit]:not([name])")
        expect(page.locator(f"main a[href$='/procedures/{PROCEDURE}']")).to_be_visible()
        yield labelled("キオスク：手続の一覧", lang), page, True
        page.locator(f"main a[href$='/procedures/{PROCEDURE}']").click()
        # 申請を始める: the form without a login (住民票の写し's login is optional)
        _submit(page, f"main form[action$='/procedures/{PROCEDURE}/start'] button[type=submit]")
        expect(page.locator("main form input[name=csrf_token]")).to_be_attached()
        yield labelled("キオスク：申請のステップ", lang), page, True
        page.goto("/kiosk/end")
        _submit(page, "main form[action$='/kiosk/end'] button[type=submit]")
        expect(page.locator("main button[name=lang]").first).to_be_visible()
    page.locator("main button[name=lang][value=ja]").click()
    _submit(page, "main form[action$='/kiosk/visit'] button[type=submit]:not([name])")
    page.goto("/kiosk/end")
    yield "キオスク：終了の確認", page, True
    page.goto("/kiosk/procedures")
    touched = dt.datetime.now(dt.UTC)
    try:
        server.set_clock((touched + dt.timedelta(seconds=65)).isoformat())
        page.clock.fast_forward("01:05")
        expect(page.get_by_role("alertdialog")).to_be_visible()
        yield "キオスク：無操作の警告", page, True
        server.set_clock((touched + dt.timedelta(seconds=100)).isoformat())
        page.clock.fast_forward("00:40")
        expect(page.get_by_role("status")).to_contain_text("前の方の情報は消去されました")
        yield "キオスク：消去の通知（無操作のあと）", page, True
    finally:
        server.set_clock(None)


_HELPERS: set[int] = set()


def _card(page, persona: str) -> None:
    """The mock card reader, in any language: the card by its value, the PIN, 本人確認する."""
    from tests.e2e.test_login import PERSONAS

    page.locator(f"input[name=card][value='{persona}']").check()
    page.locator("input[name=pin]").fill(PERSONAS[persona]["auth_pin"])
    _submit(page, "main form button[name=action][value=login]:visible")


def assisted(page, server, lang: str = "ja"):
    """お手伝い in one language: a registered helper logs in and hands over to the resident, who
    consents (after an error); a procedure's page with the session's banner. In Japanese also
    the helper's start page, the page after the consent and the page when the session ends.
    Buttons are found by their place and forms, as in language_pages."""
    from tests.e2e import prepared

    if id(server) not in _HELPERS:  # the helper is registered once for every language
        prepared.registered_helper(live_app(server), "渡辺 健", "1980-10-30", "デジタル推進委員")
        _HELPERS.add(id(server))

    def state(kind):
        return (labelled(kind, lang) if kind in ASSISTED_TYPES else kind), page, False

    page.goto(f"/?lang={lang}")
    page.goto("/assist/")
    yield state("お手伝いの方のページ")
    _submit(page, "main form button.button--start")
    _card(page, "care-manager")
    expect(page.locator("main form[action$='/assist/start'] button")).to_be_visible()
    if lang == "ja":
        yield state("お手伝い：開始")
    _submit(page, "main form[action$='/assist/start'] button")
    expect(page.locator("main form input[name=next][value$='/assist/consent']")).to_be_attached()
    # お手伝いを始める forgets everything of the session but the helper's login, the language
    # too (portal.assisted.mode.drop_resident): chosen again from the language menu.
    page.goto(f"/assist/hand-over?lang={lang}")
    yield state("お手伝い：ご本人に渡す")
    _submit(page, "main form:has(input[name=next][value$='/assist/consent']) button")
    _card(page, "elderly")
    expect(page.locator("main select[name=scope]")).to_be_visible()
    yield state("お手伝い：同意")
    _submit(page, "main form:has(select[name=scope]) button[type=submit]")
    expect(page.locator(".error-summary")).to_be_visible()
    yield state("お手伝い：同意のエラー")
    page.locator("main select[name=scope]").select_option(index=1)
    page.locator("main form:has(select[name=scope]) input[type=radio]").first.check()
    _submit(page, "main form:has(select[name=scope]) button[type=submit]")
    expect(page.locator("main form[action$='/assist/give-back'] button")).to_be_visible()
    if lang == "ja":
        yield state("お手伝い：同意の後（端末を渡す）")
    _submit(page, "main form[action$='/assist/give-back'] button")
    expect(page.locator("form[action$='/assist/end'] button")).to_be_visible()
    yield state("お手伝い：手続のページ（お手伝い中の表示）")
    _submit(page, "form[action$='/assist/end'] button")
    if lang == "ja":
        yield state("お手伝い：終了")


def conditional_question(page, server):
    """A question that appears on the page as the resident answers, and its announcement in the
    form's live region (居宅サービス計画作成依頼の届出's 「事業者の変更」, the earlier steps
    prepared as the browser suite prepares them)."""
    import datetime as dt

    from portal import create_app
    from tests.e2e import prepared
    from tests.e2e.test_conditional_questions import DETAIL, PERSONA, PROCEDURE, STEP, reason

    with mock.patch.dict(os.environ, server.env, clear=True):
        app = create_app()
    page.goto(f"/procedures/{PROCEDURE}")
    page.get_by_role("button", name="ログインしてご本人の申請を始める").click()
    use_card(page, PERSONA)
    expect(page.locator(".site-header__user")).to_be_visible()
    prepared.filled_but(
        app,
        PROCEDURE,
        dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        "change",
        owner=prepared.owner_of(app, PERSONA),
        answers={"notice_kind": "change"},
    )
    page.goto(STEP)
    reason(page, "その他").check()
    expect(page.locator("[data-conditional-announcer]")).to_contain_text(DETAIL)
    yield "条件付きの質問：追加の読み上げ", page, False


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


# Not pages of the resident's portal (the statement's scope), or not pages at all.
_OUTSIDE = re.compile(
    r"^/(static|staff|mock-jpki|mock-pay|dev|api|healthz|readyz|logout)|\.(ics|csv|pdf|png)$"
)


def crawl(request, start_urls: list[str], limit: int = 80) -> list[str]:
    """Same-site page addresses reachable from `start_urls` by links (breadth first, GET only,
    anonymous), at most `limit` fetched."""
    seen, queue, pages = set(start_urls), list(start_urls), []
    while queue and len(pages) < limit:
        url = queue.pop(0)
        response = request.get(url, max_redirects=0, fail_on_status_code=False)
        if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        pages.append(url)
        parser = _Links()
        parser.feed(response.text())
        for href in parser.links:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc != urlsplit(url).netloc or _OUTSIDE.search(parts.path):
                continue
            if "lang=" in parts.query:
                continue
            query = "" if parts.query.startswith("next=") else parts.query  # the same page
            target = parts.path + (f"?{query}" if query else "")
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return pages


def pick(pages: list[str], seed: int, count: int, exclude: set[str]) -> list[str]:
    candidates = sorted(set(pages) - exclude)
    chooser = random.Random(seed)  # noqa: S311 - a reproducible pick, not a secret
    return chooser.sample(candidates, min(count, len(candidates)))
